// DS18B20 through the Linux w1-therm driver: only a reading whose CRC the driver confirmed ("YES") and that
// we confirm again is used; the 85 degC power-on value and an all-zero scratchpad are failures, not data.
import { HardwareError } from '../hardware/hardware-error';
import type { OneWireDevice } from '../hardware/types';
import { dallasCrc8 } from './crc8';
import type { Reading } from './reading';

export const DS18B20_FAMILY = '28';
const POWER_ON_MILLI = 85000;
const MIN_MILLI = -55000;
const MAX_MILLI = 125000;

export function parseW1Slave(id: string, text: string): number {
  const lines = text.trim().split('\n');
  const bytes = (lines[0] ?? '').split(/\s+/).slice(0, 9).map((h) => parseInt(h, 16));
  const crcLine = /crc=([0-9a-f]{2})\s+(YES|NO)/i.exec(lines[0] ?? '');
  const fail = (key: 'crc' | 'powerOn' | 'badReading', code: string, why: string): HardwareError =>
    new HardwareError(key, code, `DS18B20 ${id}: ${why}`, { what: `DS18B20 ${id}`, detail: why });
  if (!crcLine || bytes.length !== 9 || bytes.some((b) => !Number.isInteger(b))) throw fail('badReading', 'ENODATA', 'unreadable w1_slave contents');
  if (crcLine[2].toUpperCase() !== 'YES') throw fail('crc', 'ECRC', 'CRC error (crc=NO), reading discarded');
  if (dallasCrc8(bytes, 0, 8) !== bytes[8]) throw fail('crc', 'ECRC', 'CRC error in the scratchpad, reading discarded');
  if (bytes.every((b) => b === 0)) throw fail('badReading', 'ENODATA', 'all-zero scratchpad (data line stuck low?)');
  const t = /t=(-?\d+)/.exec(lines[1] ?? '');
  if (!t) throw fail('badReading', 'ENODATA', 'no t= value in w1_slave');
  const milli = Number(t[1]);
  if (milli === POWER_ON_MILLI) throw fail('powerOn', 'EPOWERON', '85 °C power-on value: the conversion did not run (check the supply, or parasite power)');
  // t= is only text; the CRC-checked scratchpad is the reading. A t= that disagrees with it, or that lies outside
  // what a DS18B20 can measure, is a corrupted read, never a temperature.
  const fromScratchpad = (((bytes[1] << 8) | bytes[0]) << 16 >> 16) / 16;
  if (!Number.isFinite(milli) || milli < MIN_MILLI || milli > MAX_MILLI) throw fail('badReading', 'ENODATA', `t=${t[1].slice(0, 12)} is outside the DS18B20 range (-55..125 °C)`);
  if (Math.abs(milli / 1000 - fromScratchpad) >= 0.0625) throw fail('badReading', 'ENODATA', `t=${t[1].slice(0, 12)} does not match the scratchpad (${fromScratchpad} °C)`);
  return milli / 1000;
}

export class Ds18b20 {
  constructor(private readonly device: OneWireDevice) {}

  async read(): Promise<Reading> {
    const text = await this.device.readSlave();
    return {
      model: 'DS18B20',
      values: { temperature: parseW1Slave(this.device.id, text) },
      units: { temperature: '°C' },
      device: this.device.id,
    };
  }
}
