import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReading, readingToFields, type ReadingInput } from '../../src/lib/formats/reading';
import { BME280_MSG, T0 } from './fixtures';

const now = (): number => T0;

function rejects(input: ReadingInput, code: string, path?: string): string {
  const r = parseReading(input, now);
  assert.equal(r.ok, false, `expected ${code}`);
  if (r.ok) return '';
  assert.equal(r.error.code, code, r.error.message);
  if (path !== undefined) assert.equal(r.error.path, path);
  assert.ok(r.error.message.length > 0 && !r.error.message.includes('\n'));
  return r.error.message;
}

test('the sensor node shape parses into ordered values, units, time, sensor and device', () => {
  const r = parseReading(BME280_MSG, now);
  assert.ok(r.ok);
  assert.deepEqual([...r.value.values], [['temperature', 25.08], ['pressure', 100653.25], ['humidity', 41.2]]);
  assert.deepEqual([...r.value.units], [['temperature', 'Cel'], ['pressure', 'Pa'], ['humidity', '%RH']]);
  assert.equal(r.value.timestamp, T0);
  assert.equal(r.value.sensor, 'bme280');
  assert.equal(r.value.device, 'greenhouse-1');
});

test('a plain number is named by msg.measurement, else by the last topic level', () => {
  const a = parseReading({ payload: 21.5, measurement: 'temperature' }, now);
  assert.ok(a.ok);
  assert.deepEqual([...a.value.values], [['temperature', 21.5]]);
  const b = parseReading({ payload: true, topic: 'house/door/open' }, now);
  assert.ok(b.ok);
  assert.deepEqual([...b.value.values], [['open', true]]);
  rejects({ payload: 3 }, 'MISSING_FIELD');
});

test('missing timestamp means now; ISO text and Date are accepted; seconds are refused', () => {
  const a = parseReading({ payload: { x: 1 } }, now);
  assert.ok(a.ok && a.value.timestamp === T0);
  const b = parseReading({ payload: { x: 1 }, timestamp: '2023-11-14T22:13:20.000Z' }, now);
  assert.ok(b.ok && b.value.timestamp === T0);
  const c = parseReading({ payload: { x: 1 }, timestamp: new Date(T0) }, now);
  assert.ok(c.ok && c.value.timestamp === T0);
  assert.match(rejects({ payload: { x: 1 }, timestamp: 1700000000 }, 'BAD_TIMESTAMP'), /seconds/);
  rejects({ payload: { x: 1 }, timestamp: 'yesterday' }, 'BAD_TIMESTAMP');
  rejects({ payload: { x: 1 }, timestamp: NaN }, 'BAD_TIMESTAMP');
});

test('ISO text without a time zone is refused (its instant would depend on the host zone); Z and offsets are accepted', () => {
  for (const local of ['2026-11-27T10:00:00', '2026-11-27T10:00', '2026-11-27T10:00:00.250']) {
    const msg = rejects({ payload: { x: 1 }, timestamp: local }, 'BAD_TIMESTAMP', 'timestamp');
    assert.match(msg, /^msg\.timestamp ".*" has no time zone/);
    assert.match(msg, /add Z \(UTC\) or an offset/);
  }
  const instant = Date.UTC(2026, 10, 27, 10, 0, 0);
  for (const zoned of ['2026-11-27T10:00:00Z', '2026-11-27T10:00:00.000z', '2026-11-27T11:00:00+01:00', '2026-11-27T11:00:00+0100', '2026-11-27T05:00:00-05:00']) {
    const r = parseReading({ payload: { x: 1 }, timestamp: zoned }, now);
    assert.ok(r.ok, zoned);
    assert.equal(r.value.timestamp, instant, zoned);
  }
});

test('nested objects become dotted names, up to the depth limit', () => {
  const r = parseReading({ payload: { accel: { x: 0.1, y: -0.2 }, t: 20 } }, now);
  assert.ok(r.ok);
  assert.deepEqual([...r.value.values.keys()].sort(), ['accel.x', 'accel.y', 't']);
  rejects({ payload: { a: { b: { c: { d: { e: 1 } } } } } }, 'TOO_DEEP');
});

test('NaN, Infinity, strings, null, arrays where numbers belong are refused with the path', () => {
  assert.match(rejects({ payload: { t: NaN } }, 'BAD_VALUE', 'payload.t'), /NaN/);
  assert.match(rejects({ payload: { t: Infinity } }, 'BAD_VALUE', 'payload.t'), /Infinity/);
  assert.match(rejects({ payload: { t: -Infinity } }, 'BAD_VALUE', 'payload.t'), /-Infinity/);
  assert.match(rejects({ payload: { t: '25.1' } }, 'BAD_VALUE', 'payload.t'), /string "25.1"/);
  rejects({ payload: { t: null } }, 'BAD_VALUE', 'payload.t');
  rejects({ payload: { t: [1, 2] } }, 'BAD_VALUE', 'payload.t');
  rejects({ payload: NaN, measurement: 't' }, 'BAD_VALUE');
  rejects({ payload: '25' }, 'NOT_A_READING');
  rejects({ payload: [1, 2] }, 'NOT_A_READING');
  rejects({ payload: Buffer.from('x') }, 'NOT_A_READING');
  rejects({ payload: {} }, 'NOT_A_READING');
});

test('__proto__, constructor and prototype keys are refused and nothing is polluted', () => {
  const hostile = JSON.parse('{"__proto__": {"polluted": 1}, "t": 1}') as Record<string, unknown>;
  rejects({ payload: hostile }, 'FORBIDDEN_KEY', 'payload.__proto__');
  rejects({ payload: { constructor: 1 } }, 'FORBIDDEN_KEY');
  rejects({ payload: { nested: { prototype: 1 } } }, 'FORBIDDEN_KEY', 'payload.nested.prototype');
  rejects({ payload: { t: 1 }, units: JSON.parse('{"__proto__": "Cel"}') as object }, 'FORBIDDEN_KEY', 'units.__proto__');
  rejects({ payload: { t: 1 }, metadata: JSON.parse('{"__proto__": "x"}') as object }, 'FORBIDDEN_KEY', 'metadata.__proto__');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('huge readings and oversized names are refused before any work is done', () => {
  const big: Record<string, number> = {};
  for (let i = 0; i < 501; i++) big[`m${i}`] = i;
  rejects({ payload: big }, 'TOO_LARGE');
  rejects({ payload: { ['x'.repeat(129)]: 1 } }, 'BAD_NAME');
  rejects({ payload: { 'a\nb': 1 } }, 'BAD_NAME');
  rejects({ payload: { t: 1 }, sensor: 42 }, 'BAD_FIELD', 'sensor');
  rejects({ payload: { t: 1 }, units: { t: 5 } }, 'BAD_UNIT', 'units.t');
  rejects({ payload: { t: 1 }, metadata: { site: { nested: 1 } } }, 'BAD_VALUE', 'metadata.site');
});

test('a getter that throws is reported, not thrown', () => {
  const payload = {};
  Object.defineProperty(payload, 't', { enumerable: true, get: () => { throw new Error('boom'); } });
  assert.match(rejects({ payload }, 'NOT_A_READING'), /boom/);
});

test('readingToFields gives back the sensor node shape', () => {
  const r = parseReading(BME280_MSG, now);
  assert.ok(r.ok);
  assert.deepEqual(readingToFields(r.value), {
    payload: BME280_MSG.payload,
    units: BME280_MSG.units,
    timestamp: T0,
    sensor: 'bme280',
    device: 'greenhouse-1',
  });
});

test('an empty unit means "no unit" and is left out', () => {
  const r = parseReading({ payload: { level: 1, t: 2 }, units: { level: '', t: 'Cel' } }, now);
  assert.ok(r.ok);
  assert.deepEqual([...r.value.units], [['t', 'Cel']]);
});
