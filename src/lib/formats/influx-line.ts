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

/**
 * A field's type is fixed by its first write, and a line that brings another type is refused whole. So a mode
 * decides the type of every number: floats (`25` is a float in line protocol), or integers, where a value that
 * is not a whole number within ±2^53 is refused rather than rounded or sent as a float.
 */
export function fieldValue(v: ReadingValue | string, integers: boolean, path = 'payload'): Result<string> {
  if (typeof v === 'boolean') return ok(v ? 'true' : 'false');
  if (typeof v === 'string') return ok(quoteFieldString(v));
  if (!integers) return ok(String(v));
  if (Number.isSafeInteger(v)) return ok(`${v}i`);
  return fail('BAD_VALUE', `${path} is ${v}, not a whole number within ±2^53; integer mode writes every number as an InfluxDB integer (choose floats for fractional values)`, path);
}

/** Why InfluxDB would not store a measurement under this name, if it would not. */
function measurementProblem(name: string): string | undefined {
  // `\#` is no escape in line protocol: a leading # can only be refused.
  if (hasNewline(name)) return `measurement ${quote(name)} contains a line break, which line protocol cannot carry`;
  if (name.startsWith('#')) return `measurement ${quote(name)} starts with "#", which makes the line a comment InfluxDB drops`;
  if (name.startsWith('_')) return `measurement ${quote(name)} starts with "_", which InfluxDB reserves for its own names`;
  return undefined;
}

/** Why InfluxDB would drop or refuse this tag or field key, if it would. */
function keyProblem(kind: 'tag' | 'field', key: string): string | undefined {
  if (key === 'time') return `${kind} key "time" is reserved by InfluxDB, which drops it (or the whole point)`;
  if (key.startsWith('_')) return `${kind} key ${quote(key)} starts with "_", which InfluxDB reserves for its own names`;
  return undefined;
}

function checkNames(measurement: string, measurementPath: string, tags: ReadonlyMap<string, string>, r: Reading): Result<true> {
  const m = measurementProblem(measurement);
  if (m) return fail('BAD_NAME', m, measurementPath);
  for (const k of tags.keys()) {
    const t = keyProblem('tag', k);
    if (t) return fail('BAD_NAME', t, `metadata.${k}`); // device and sensor are never reserved: only metadata gets here
  }
  for (const k of r.values.keys()) {
    const f = keyProblem('field', k);
    if (f) return fail('BAD_NAME', f, `payload.${k}`);
  }
  return ok(true);
}

function fieldsOf(r: Reading, integers: boolean): Result<string> {
  const parts: string[] = [];
  for (const [k, v] of r.values) {
    const value = fieldValue(v, integers, `payload.${k}`);
    if (!value.ok) return value;
    parts.push(`${escapeKey(k)}=${value.value}`);
  }
  return ok(parts.join(','));
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
  const configured = o.influxMeasurement?.trim();
  const measurement = configured || sensorOf(r, o) || 'telemetry';
  const tags = new Map<string, string>();
  const device = deviceOf(r, o);
  const sensor = sensorOf(r, o);
  if (device !== undefined) tags.set('device', device);
  if (sensor !== undefined) tags.set('sensor', sensor);
  for (const [k, v] of r.metadata) if (typeof v === 'string' && k !== 'device' && k !== 'sensor') tags.set(k, v);
  for (const [k, v] of tags) if (v === '') tags.delete(k); // an empty tag value is invalid: leave the tag out
  for (const s of [measurement, ...tags.keys(), ...tags.values(), ...r.values.keys()]) {
    if (hasNewline(s)) return fail('BAD_NAME', `${quote(s)} contains a line break, which line protocol cannot carry`);
  }
  const names = checkNames(measurement, configured ? 'influxMeasurement' : 'sensor', tags, r);
  if (!names.ok) return names;
  const tagText = [...tags.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) // sorted tags are what InfluxDB recommends
    .map(([k, v]) => `,${escapeKey(k)}=${escapeKey(v)}`)
    .join('');
  const fields = fieldsOf(r, o.influxIntegers === 'integer');
  if (!fields.ok) return fields;
  return ok(`${escapeMeasurement(measurement)}${tagText} ${fields.value} ${nanoseconds(r.timestamp)}`);
}

export function createInfluxFormatter(o: FormatOptions): Result<Formatter> {
  const configured = o.influxMeasurement?.trim();
  const problem = configured ? measurementProblem(configured) : undefined;
  if (problem) return fail('BAD_OPTION', problem, 'influxMeasurement');
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
