// The sensor node's fields (strings from the editor) checked and turned into a typed configuration.
import { hex } from '../hardware/describe-fault';
import { ADS_CHANNELS, ADS_GAINS, ADS_RATES, type AdsChannel } from './ads1115';
import { MTREG_DEFAULT, MTREG_MAX, MTREG_MIN, type Bh1750Mode } from './bh1750';
import { isSensorType, SENSOR_TYPES, type SensorType } from './sensor-types';
import type { Repeatability } from './sht3x';

export interface SensorFields {
  sensorType?: unknown;
  bus?: unknown;
  address?: unknown;
  deviceId?: unknown;
  pin?: unknown;
  precision?: unknown;
  bhMode?: unknown;
  mtreg?: unknown;
  channel?: unknown;
  gain?: unknown;
  rate?: unknown;
  interval?: unknown;
  readOnInput?: unknown;
  topic?: unknown;
}

export interface SensorConfig {
  type: SensorType;
  bus: number;
  address: number;
  /** DS18B20: '' means the first one found. */
  deviceId: string;
  pin: number;
  precision: Repeatability;
  bhMode: Bh1750Mode;
  mtreg: number;
  channel: AdsChannel;
  gain: number;
  rate: number;
  /** 0: no polling. */
  intervalMs: number;
  readOnInput: boolean;
  topic: string;
}

/** A field as text; a value without a string form (null-prototype object, symbol) is kept as an invalid text. */
function text(v: unknown): string {
  try {
    return String(v);
  } catch {
    return '[invalid]';
  }
}

const str = (v: unknown, fallback: string): string => (v === undefined || v === null || text(v).trim() === '' ? fallback : text(v).trim());

function int(v: string): number {
  const n = /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isSafeInteger(n) ? n : NaN;
}

function oneOf<T extends string>(v: string, allowed: readonly T[], fallback: T): T | undefined {
  if (v === '') return fallback;
  return (allowed as readonly string[]).includes(v) ? (v as T) : undefined;
}

export function parseSensorConfig(f: SensorFields): { config?: SensorConfig; problems: string[] } {
  const problems: string[] = [];
  const typeText = str(f.sensorType, 'bme280');
  if (!isSensorType(typeText)) return { problems: [`unknown sensor type "${typeText}"`] };
  const info = SENSOR_TYPES[typeText];

  const bus = int(str(f.bus, '1'));
  if (info.bus === 'i2c' && (Number.isNaN(bus) || bus > 255)) problems.push(`I2C bus must be a number 0..255`);
  const address = int(str(f.address, info.addresses.length ? hex(info.addresses[0]) : '0'));
  if (info.bus === 'i2c' && !info.addresses.includes(address)) {
    problems.push(`address ${str(f.address, '')} is not valid for ${info.label} (valid: ${info.addresses.map(hex).join(', ')})`);
  }
  // The w1 driver names devices in lower case; an id typed from a label in upper case would never be found.
  const deviceId = str(f.deviceId, '').toLowerCase();
  if (info.bus === 'w1' && deviceId !== '' && !/^28-[0-9a-f]{12}$/i.test(deviceId)) problems.push(`DS18B20 id must look like 28-0123456789ab`);
  const pin = int(str(f.pin, '4'));
  if (info.bus === 'gpio' && (Number.isNaN(pin) || pin > 53)) problems.push('GPIO pin must be a BCM number 0..53');

  const precision = oneOf<Repeatability>(str(f.precision, ''), ['high', 'medium', 'low'], 'high');
  if (!precision) problems.push('precision must be high, medium or low');
  const bhMode = oneOf<Bh1750Mode>(str(f.bhMode, ''), ['high', 'high2', 'low'], 'high');
  if (!bhMode) problems.push('BH1750 mode must be high, high2 or low');
  const mtreg = int(str(f.mtreg, String(MTREG_DEFAULT)));
  if (typeText === 'bh1750' && !(mtreg >= MTREG_MIN && mtreg <= MTREG_MAX)) problems.push(`MTreg must be ${MTREG_MIN}..${MTREG_MAX}`);
  const channel = oneOf<AdsChannel>(str(f.channel, ''), ADS_CHANNELS, 'a0');
  if (!channel) problems.push(`ADS1115 channel must be one of ${ADS_CHANNELS.join(', ')}`);
  const gain = Number(str(f.gain, '4.096'));
  if (typeText === 'ads1115' && !(ADS_GAINS as readonly number[]).includes(gain)) problems.push(`ADS1115 gain must be one of ${ADS_GAINS.join(', ')} V`);
  const rate = Number(str(f.rate, '128'));
  if (typeText === 'ads1115' && !(ADS_RATES as readonly number[]).includes(rate)) problems.push(`ADS1115 data rate must be one of ${ADS_RATES.join(', ')} SPS`);

  const intervalS = Number(str(f.interval, '0'));
  if (!Number.isFinite(intervalS) || intervalS < 0 || (intervalS > 0 && intervalS < 0.05) || intervalS > 86400) {
    problems.push('interval must be 0 (no polling) or 0.05..86400 seconds');
  }
  const readOnInput = f.readOnInput === undefined ? true : f.readOnInput === true || f.readOnInput === 'true';
  if (intervalS === 0 && !readOnInput) problems.push('the node would never read: give an interval or read on each input message');
  if (problems.length) return { problems };
  const where = info.bus === 'i2c' ? hex(address) : info.bus === 'w1' ? deviceId || 'first' : `gpio${pin}`;
  return {
    problems,
    config: {
      type: typeText,
      bus,
      address,
      deviceId,
      pin,
      precision: precision ?? 'high',
      bhMode: bhMode ?? 'high',
      mtreg,
      channel: channel ?? 'a0',
      gain,
      rate,
      intervalMs: Math.round(intervalS * 1000),
      readOnInput,
      topic: str(f.topic, `${typeText}/${where}`),
    },
  };
}
