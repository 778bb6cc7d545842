// InfluxDB line protocol: `measurement[,tag=v...] field=v[,...] timestamp-ns`, one line per reading.
import { fail, ok, quote, type Result } from './errors';
import { deviceOf, sensorOf, splitByTemplate, templateOrDefault } from './common';
import type { Reading, ReadingValue } from './reading';
import type { FormatOptions, Formatter, OutMessage } from './types';

export const INFLUX_CONTENT_TYPE = 'text/plain; charset=utf-8';

function hasNewline(s: string): boolean {
  return /[\r\n]/.test(s);
}

/** Measurement names: escape commas and spaces. */
export function escapeMeasurement(s: string): string {
  return s.replace(/[\\, ]/g, (c) => `\\${c}`);
}

/** Tag keys, tag values and field keys: escape commas, equals signs and spaces. */
export function escapeKey(s: string): string {
  return s.replace(/[\\,= ]/g, (c) => `\\${c}`);
}

/** String field values: double-quoted, with `"` and `\` escaped. */
export function quoteFieldString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function fieldValue(v: ReadingValue | string, integers: boolean): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return quoteFieldString(v);
  // Integer fields only on request: a float field that later receives 25 would otherwise change type.
  if (integers && Number.isSafeInteger(v)) return `${v}i`;
  return String(v);
}

/**
 * Epoch ms to a nanosecond integer string, computed in BigInt (ms * 1e6 is beyond 2^53). A double near today's
 * epoch ms resolves about 0.25 us, so the fraction is kept to the microsecond and not invented below it.
 */
export function nanoseconds(ms: number): string {
  const whole = Math.floor(ms);
  const micros = Math.round((ms - whole) * 1e3);
  return (BigInt(whole) * 1000000n + BigInt(micros) * 1000n).toString();
}

export function lineOf(r: Reading, o: FormatOptions): Result<string> {
  const measurement = (o.influxMeasurement?.trim() || sensorOf(r, o) || 'telemetry');
  const tags = new Map<string, string>();
  const device = deviceOf(r, o);
  const sensor = sensorOf(r, o);
  if (device !== undefined) tags.set('device', device);
  if (sensor !== undefined) tags.set('sensor', sensor);
  for (const [k, v] of r.metadata) if (typeof v === 'string' && k !== 'device' && k !== 'sensor') tags.set(k, v);
  for (const s of [measurement, ...tags.keys(), ...tags.values(), ...r.values.keys()]) {
    if (hasNewline(s)) return fail('BAD_NAME', `${quote(s)} contains a line break, which line protocol cannot carry`);
  }
  const tagText = [...tags.entries()]
    .filter(([, v]) => v !== '') // an empty tag value is invalid: leave the tag out
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) // sorted tags are what InfluxDB recommends
    .map(([k, v]) => `,${escapeKey(k)}=${escapeKey(v)}`)
    .join('');
  const integers = o.influxIntegers === 'integer';
  const fields = [...r.values.entries()].map(([k, v]) => `${escapeKey(k)}=${fieldValue(v, integers)}`).join(',');
  return ok(`${escapeMeasurement(measurement)}${tagText} ${fields} ${nanoseconds(r.timestamp)}`);
}

export function createInfluxFormatter(o: FormatOptions): Result<Formatter> {
  const template = templateOrDefault(o, 'telegraf/{device}');
  if (!template.ok) return template;
  return ok({
    name: 'influx',
    format(r: Reading): Result<OutMessage[]> {
      return splitByTemplate(r, o, template.value, (part, topic) => {
        const line = lineOf(part, o);
        if (!line.ok) return line;
        return ok({ topic, payload: line.value, contentType: INFLUX_CONTENT_TYPE, ...(o.qos !== undefined ? { qos: o.qos } : {}) });
      });
    },
  });
}
