// The two CRC-8 variants the supported sensors use.

/** Sensirion (SHT3x, SHT4x): polynomial 0x31, init 0xFF, no reflection, no final xor. */
export function sensirionCrc8(bytes: ArrayLike<number>, start = 0, length = bytes.length - start): number {
  let crc = 0xff;
  for (let i = start; i < start + length; i++) {
    crc ^= bytes[i];
    for (let b = 0; b < 8; b++) crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

/** Dallas/Maxim 1-Wire (DS18B20 scratchpad): polynomial 0x31 reflected (0x8C), init 0. */
export function dallasCrc8(bytes: ArrayLike<number>, start = 0, length = bytes.length - start): number {
  let crc = 0;
  for (let i = start; i < start + length; i++) {
    crc ^= bytes[i];
    for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >> 1) ^ 0x8c : crc >> 1;
  }
  return crc;
}
