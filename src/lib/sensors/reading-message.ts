// A reading as the message the sensor node sends: values rounded to the sensor's resolution, units beside them.
import { hex } from '../hardware/describe-fault';
import type { Reading } from './reading';
import type { SensorConfig } from './sensor-config';
import { SENSOR_TYPES } from './sensor-types';

export interface ReadingMessage {
  payload: Record<string, number>;
  units: Record<string, string>;
  topic: string;
  sensor: string;
  timestamp: number;
  bus?: number;
  address?: string;
  device?: string;
  pin?: number;
}

function round(v: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(v * f) / f;
}

export function readingMessage(reading: Reading, config: SensorConfig, timestamp: number): ReadingMessage {
  const info = SENSOR_TYPES[config.type];
  const payload: Record<string, number> = {};
  for (const [name, value] of Object.entries(reading.values)) payload[name] = round(value, info.quantities[name]?.decimals ?? 3);
  const msg: ReadingMessage = { payload, units: { ...reading.units }, topic: config.topic, sensor: reading.model, timestamp };
  if (info.bus === 'i2c') {
    msg.bus = config.bus;
    msg.address = hex(config.address);
  } else if (info.bus === 'w1') {
    msg.device = reading.device ?? config.deviceId;
  } else {
    msg.pin = config.pin;
  }
  return msg;
}

/** A short status text: the first value with its unit, e.g. "21.4 °C". */
export function readingSummary(reading: Reading): string {
  const [name, value] = Object.entries(reading.values)[0] ?? [];
  if (name === undefined || value === undefined) return 'ok';
  const unit = reading.units[name] ?? '';
  const shown = Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
  return `${shown}${unit ? ` ${unit}` : ''}`;
}
