// The sensor types the sensor node offers: bus, valid addresses, what they measure and in which unit.
// The editor (telemetry-sensor.html) repeats the address lists; a test keeps the two in step.
import { ADS1115_ADDRESSES } from './ads1115';
import { BH1750_ADDRESSES } from './bh1750';
import { BME280_ADDRESSES } from './bme280';
import { SHT3X_ADDRESSES } from './sht3x';
import { SHT4X_ADDRESSES } from './sht4x';

export const SENSOR_TYPE_NAMES = ['bme280', 'sht3x', 'sht4x', 'bh1750', 'ads1115', 'ds18b20', 'gpio'] as const;
export type SensorType = (typeof SENSOR_TYPE_NAMES)[number];

export interface Quantity {
  unit: string;
  /** Decimals kept in messages: the sensor's resolution, not more. */
  decimals: number;
}

export interface SensorTypeInfo {
  label: string;
  bus: 'i2c' | 'w1' | 'gpio';
  addresses: readonly number[];
  quantities: Record<string, Quantity>;
}

const T2 = { unit: '°C', decimals: 2 };
const RH2 = { unit: '%RH', decimals: 2 };

export const SENSOR_TYPES: Record<SensorType, SensorTypeInfo> = {
  bme280: { label: 'BME280/BMP280', bus: 'i2c', addresses: BME280_ADDRESSES, quantities: { temperature: T2, pressure: { unit: 'hPa', decimals: 2 }, humidity: RH2 } },
  sht3x: { label: 'SHT3x', bus: 'i2c', addresses: SHT3X_ADDRESSES, quantities: { temperature: T2, humidity: RH2 } },
  sht4x: { label: 'SHT4x', bus: 'i2c', addresses: SHT4X_ADDRESSES, quantities: { temperature: T2, humidity: RH2 } },
  bh1750: { label: 'BH1750', bus: 'i2c', addresses: BH1750_ADDRESSES, quantities: { illuminance: { unit: 'lx', decimals: 1 } } },
  ads1115: { label: 'ADS1115', bus: 'i2c', addresses: ADS1115_ADDRESSES, quantities: { voltage: { unit: 'V', decimals: 6 } } },
  ds18b20: { label: 'DS18B20', bus: 'w1', addresses: [], quantities: { temperature: { unit: '°C', decimals: 3 } } },
  gpio: { label: 'GPIO', bus: 'gpio', addresses: [], quantities: { level: { unit: '', decimals: 0 } } },
};

export function isSensorType(v: unknown): v is SensorType {
  return typeof v === 'string' && (SENSOR_TYPE_NAMES as readonly string[]).includes(v);
}
