// Sensirion replies: 16-bit big-endian words, each followed by its CRC-8. A wrong CRC is a failed reading.
import { HardwareError } from '../hardware/hardware-error';
import { sensirionCrc8 } from './crc8';

export function checkedWords(bytes: Uint8Array, what: string): number[] {
  const words: number[] = [];
  for (let i = 0; i + 2 < bytes.length; i += 3) {
    const crc = sensirionCrc8(bytes, i, 2);
    if (crc !== bytes[i + 2]) {
      throw new HardwareError('crc', 'ECRC', `${what}: CRC error (got 0x${bytes[i + 2].toString(16).padStart(2, '0')}, expected 0x${crc.toString(16).padStart(2, '0')}), reading discarded`, { what });
    }
    words.push((bytes[i] << 8) | bytes[i + 1]);
  }
  return words;
}

/** A word with its CRC, as the sensors send it (for the simulators). */
export function wordWithCrc(word: number): number[] {
  const hi = (word >> 8) & 0xff;
  const lo = word & 0xff;
  return [hi, lo, sensirionCrc8([hi, lo])];
}
