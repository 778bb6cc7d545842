// The reading every format, validator and reducer works on, and the strict parser that builds it from a
// Node-RED message. User keys only ever live in Maps: a key such as `__proto__` cannot reach a prototype.
import { describe, fail, ok, quote, type Result } from './errors';

export type ReadingValue = number | boolean;
export type MetadataValue = string | number | boolean;

export interface Reading {
  /** Measurement name → value, in the order the payload gave them. */
  values: ReadonlyMap<string, ReadingValue>;
  /** Measurement name → unit (SenML unit names preferred, e.g. `Cel`, `Pa`, `%RH`). */
  units: ReadonlyMap<string, string>;
  /** Epoch milliseconds. */
  timestamp: number;
  sensor?: string;
  device?: string;
  metadata: ReadonlyMap<string, MetadataValue>;
}

/** The message properties a reading is read from (the sensor node's output shape). */
export interface ReadingInput {
  payload?: unknown;
  units?: unknown;
  timestamp?: unknown;
  sensor?: unknown;
  device?: unknown;
  measurement?: unknown;
  topic?: unknown;
  metadata?: unknown;
}

export interface ReadingLimits {
  maxMeasurements: number;
  maxDepth: number;
  maxNameLength: number;
  maxStringLength: number;
}

export const DEFAULT_LIMITS: ReadingLimits = { maxMeasurements: 500, maxDepth: 4, maxNameLength: 128, maxStringLength: 256 };

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Below this an epoch-ms timestamp is before March 1973: almost certainly seconds given by mistake. */
const MIN_PLAUSIBLE_MS = 1e11;
const MAX_DATE_MS = 8.64e15;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
/** The zone at the end of an ISO 8601 date-time: Z, or an offset such as +01:00, +0100 or -05. */
const ISO_ZONE = /(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$/;

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function hasControlChars(s: string): boolean {
  return /[\u0000-\u001f\u007f]/.test(s);
}

function checkKey(key: string, path: string, limits: ReadingLimits): Result<string> {
  if (FORBIDDEN_KEYS.has(key)) return fail('FORBIDDEN_KEY', `key ${quote(key)} is not allowed`, path);
  if (key.length === 0) return fail('BAD_NAME', 'empty name', path);
  if (key.length > limits.maxNameLength) return fail('BAD_NAME', `name longer than ${limits.maxNameLength} characters`, path);
  if (hasControlChars(key)) return fail('BAD_NAME', `name ${quote(key)} contains a control character`, path);
  return ok(key);
}

function checkValue(v: unknown, path: string): Result<ReadingValue> {
  if (typeof v === 'boolean') return ok(v);
  if (typeof v === 'number' && Number.isFinite(v)) return ok(v);
  return fail('BAD_VALUE', `${path} must be a finite number or a boolean (got ${describe(v)})`, path);
}

/** Flattens nested objects into dotted names (`accel.x`), depth-bounded and without recursion. */
function readValues(payload: Record<string, unknown>, limits: ReadingLimits): Result<Map<string, ReadingValue>> {
  const values = new Map<string, ReadingValue>();
  const stack: Array<{ obj: Record<string, unknown>; prefix: string; depth: number }> = [{ obj: payload, prefix: '', depth: 1 }];
  while (stack.length > 0) {
    const { obj, prefix, depth } = stack.shift() as { obj: Record<string, unknown>; prefix: string; depth: number };
    const keys = Object.keys(obj);
    if (values.size + keys.length > limits.maxMeasurements) {
      return fail('TOO_LARGE', `more than ${limits.maxMeasurements} measurements in one reading`, 'payload');
    }
    for (const key of keys) {
      const name = prefix + key;
      const path = `payload.${name}`;
      const k = checkKey(key, path, limits);
      if (!k.ok) return k;
      if (name.length > limits.maxNameLength) return fail('BAD_NAME', `name longer than ${limits.maxNameLength} characters`, path);
      const v = obj[key];
      if (isPlainObject(v)) {
        if (depth >= limits.maxDepth) return fail('TOO_DEEP', `payload is nested deeper than ${limits.maxDepth} levels`, path);
        stack.push({ obj: v, prefix: `${name}.`, depth: depth + 1 });
        continue;
      }
      const value = checkValue(v, path);
      if (!value.ok) return value;
      if (values.has(name)) return fail('BAD_NAME', `measurement ${quote(name)} is given twice`, path);
      values.set(name, value.value);
    }
  }
  if (values.size === 0) return fail('NOT_A_READING', 'payload has no measurements', 'payload');
  return ok(values);
}

function readSingle(input: ReadingInput, value: ReadingValue, limits: ReadingLimits): Result<Map<string, ReadingValue>> {
  let name: unknown = input.measurement;
  if (name === undefined && typeof input.topic === 'string') name = input.topic.split('/').pop();
  if (typeof name !== 'string' || name === '') {
    return fail('MISSING_FIELD', 'a single-value payload needs msg.measurement (or msg.topic) to name it', 'measurement');
  }
  const k = checkKey(name, 'measurement', limits);
  if (!k.ok) return k;
  return ok(new Map([[name, value]]));
}

function readUnits(raw: unknown, values: ReadonlyMap<string, ReadingValue>, limits: ReadingLimits): Result<Map<string, string>> {
  const units = new Map<string, string>();
  if (raw === undefined || raw === null) return ok(units);
  if (!isPlainObject(raw)) return fail('BAD_UNIT', `msg.units must be an object of unit names (got ${describe(raw)})`, 'units');
  const keys = Object.keys(raw);
  if (keys.length > limits.maxMeasurements) return fail('TOO_LARGE', `more than ${limits.maxMeasurements} units`, 'units');
  for (const key of keys) {
    const path = `units.${key}`;
    const k = checkKey(key, path, limits);
    if (!k.ok) return k;
    const u = raw[key];
    if (u === '') continue; // "no unit", as GPIO levels and counts report it
    if (typeof u !== 'string' || u.length > 32 || hasControlChars(u)) {
      return fail('BAD_UNIT', `${path} must be a unit name of 1 to 32 characters (got ${describe(u)})`, path);
    }
    if (values.has(key)) units.set(key, u); // a unit for an absent measurement is harmless
  }
  return ok(units);
}

function readTimestamp(raw: unknown, now: () => number): Result<number> {
  if (raw === undefined || raw === null) return ok(now());
  let ms: number;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return fail('BAD_TIMESTAMP', `msg.timestamp must be a finite number (got ${describe(raw)})`, 'timestamp');
    if (raw >= 0 && raw < MIN_PLAUSIBLE_MS) {
      return fail('BAD_TIMESTAMP', `msg.timestamp ${raw} looks like seconds; it must be epoch milliseconds`, 'timestamp');
    }
    ms = raw;
  } else if (raw instanceof Date) {
    ms = raw.getTime();
  } else if (typeof raw === 'string' && ISO_DATE_TIME.test(raw)) {
    // Without a zone, Date.parse uses the host's zone, so one flow would store different instants on devices
    // configured differently. Assuming UTC would be as silent when the sender meant local time: refuse instead.
    if (!ISO_ZONE.test(raw)) {
      return fail('BAD_TIMESTAMP', `msg.timestamp ${quote(raw)} has no time zone, so its instant depends on the host's zone; add Z (UTC) or an offset such as +01:00`, 'timestamp');
    }
    ms = Date.parse(raw);
  } else {
    return fail('BAD_TIMESTAMP', `msg.timestamp must be epoch milliseconds, a Date or an ISO 8601 string (got ${describe(raw)})`, 'timestamp');
  }
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_DATE_MS) return fail('BAD_TIMESTAMP', 'msg.timestamp is not a valid date', 'timestamp');
  return ok(ms);
}

function readLabel(raw: unknown, field: 'sensor' | 'device', limits: ReadingLimits): Result<string | undefined> {
  if (raw === undefined || raw === null || raw === '') return ok(undefined);
  if (typeof raw !== 'string') return fail('BAD_FIELD', `msg.${field} must be a string (got ${describe(raw)})`, field);
  if (raw.length > limits.maxNameLength || hasControlChars(raw)) {
    return fail('BAD_FIELD', `msg.${field} must be at most ${limits.maxNameLength} characters without control characters`, field);
  }
  return ok(raw);
}

function readMetadata(raw: unknown, limits: ReadingLimits): Result<Map<string, MetadataValue>> {
  const metadata = new Map<string, MetadataValue>();
  if (raw === undefined || raw === null) return ok(metadata);
  if (!isPlainObject(raw)) return fail('BAD_FIELD', `msg.metadata must be an object (got ${describe(raw)})`, 'metadata');
  const keys = Object.keys(raw);
  if (keys.length > 64) return fail('TOO_LARGE', 'more than 64 metadata entries', 'metadata');
  for (const key of keys) {
    const path = `metadata.${key}`;
    const k = checkKey(key, path, limits);
    if (!k.ok) return k;
    const v = raw[key];
    if (typeof v === 'string') {
      if (v.length > limits.maxStringLength) return fail('TOO_LARGE', `${path} is longer than ${limits.maxStringLength} characters`, path);
    } else if (typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) {
      return fail('BAD_VALUE', `${path} must be a string, finite number or boolean (got ${describe(v)})`, path);
    }
    metadata.set(key, v as MetadataValue);
  }
  return ok(metadata);
}

/** Builds a reading from a message, or says precisely what is wrong with it. Never throws. */
export function parseReading(input: ReadingInput, now: () => number = Date.now, limits: ReadingLimits = DEFAULT_LIMITS): Result<Reading> {
  try {
    const p = input.payload;
    let values: Result<Map<string, ReadingValue>>;
    if (isPlainObject(p)) values = readValues(p, limits);
    else if (typeof p === 'number' || typeof p === 'boolean') {
      const v = checkValue(p, 'payload');
      values = v.ok ? readSingle(input, v.value, limits) : v;
    } else {
      return fail('NOT_A_READING', `msg.payload must be an object of named values or a number (got ${describe(p)})`, 'payload');
    }
    if (!values.ok) return values;
    const units = readUnits(input.units, values.value, limits);
    if (!units.ok) return units;
    const timestamp = readTimestamp(input.timestamp, now);
    if (!timestamp.ok) return timestamp;
    const sensor = readLabel(input.sensor, 'sensor', limits);
    if (!sensor.ok) return sensor;
    const device = readLabel(input.device, 'device', limits);
    if (!device.ok) return device;
    const metadata = readMetadata(input.metadata, limits);
    if (!metadata.ok) return metadata;
    const reading: Reading = { values: values.value, units: units.value, timestamp: timestamp.value, metadata: metadata.value };
    if (sensor.value !== undefined) reading.sensor = sensor.value;
    if (device.value !== undefined) reading.device = device.value;
    return ok(reading);
  } catch (err) {
    // A getter or proxy in the message threw: report it rather than let it escape.
    return fail('NOT_A_READING', `message could not be read: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** A plain object from a validated map (keys were checked, so no key is `__proto__`). */
export function toPlainObject<V>(map: ReadonlyMap<string, V>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [k, v] of map) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/** The message fields that carry a reading, the inverse of parseReading (used by the reduce node). */
export function readingToFields(r: Reading): { payload: Record<string, ReadingValue>; units: Record<string, string>; timestamp: number; sensor?: string; device?: string } {
  const out: { payload: Record<string, ReadingValue>; units: Record<string, string>; timestamp: number; sensor?: string; device?: string } = {
    payload: toPlainObject(r.values),
    units: toPlainObject(r.units),
    timestamp: r.timestamp,
  };
  if (r.sensor !== undefined) out.sensor = r.sensor;
  if (r.device !== undefined) out.device = r.device;
  return out;
}
