// Readings the format tests share, built through the real parser so they have exactly the runtime shape.
import { parseReading, type Reading, type ReadingInput } from '../../src/lib/formats/reading';
import path from 'node:path';
import fs from 'node:fs';

/** 2023-11-14T22:13:20.000Z */
export const T0 = 1700000000000;

export const BME280_MSG: ReadingInput = {
  payload: { temperature: 25.08, pressure: 100653.25, humidity: 41.2 },
  units: { temperature: 'Cel', pressure: 'Pa', humidity: '%RH' },
  timestamp: T0,
  sensor: 'bme280',
  device: 'greenhouse-1',
};

export function reading(input: ReadingInput = BME280_MSG): Reading {
  const r = parseReading(input, () => T0);
  if (!r.ok) throw new Error(`fixture does not parse: ${r.error.message}`);
  return r.value;
}

/** Golden files live in the source tree; tests run from .test-build/test/formats. */
export function golden(name: string): string {
  return fs.readFileSync(path.resolve(__dirname, '../../../test/formats/golden', name), 'utf8');
}
