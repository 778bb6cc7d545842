import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeKey, escapeMeasurement, fieldValue, lineOf, nanoseconds, quoteFieldString } from '../../src/lib/formats/influx-line';
import { createFormatter } from '../../src/lib/formats/registry';
import type { FormatOptions } from '../../src/lib/formats/types';
import { golden, reading, T0 } from './fixtures';

test('BME280 reading: golden line with sorted tags and a nanosecond timestamp', () => {
  const f = createFormatter({ format: 'influx' });
  assert.ok(f.ok);
  const out = f.value.format(reading());
  assert.ok(out.ok);
  assert.equal(out.value[0].payload, golden('influx-bme280.txt').trim());
  assert.equal(out.value[0].topic, 'telegraf/greenhouse-1');
  assert.match(out.value[0].contentType ?? '', /^text\/plain/);
});

test('escaping follows the InfluxDB documentation example', () => {
  // docs.influxdata.com, line protocol "Special characters" example (field key without its backslash).
  const line = `${escapeMeasurement('"measurement with quo⚡️es and emoji"')},${escapeKey('tag key with sp🚀ces')}=${escapeKey('tag,value,with"commas"')} ${escapeKey('field_key')}=${quoteFieldString('string field value, only " need be esc🍭ped')}`;
  assert.equal(line, '"measurement\\ with\\ quo⚡️es\\ and\\ emoji",tag\\ key\\ with\\ sp🚀ces=tag\\,value\\,with"commas" field_key="string field value, only \\" need be esc🍭ped"');
  assert.equal(escapeMeasurement('a=b,c d'), 'a=b\\,c\\ d', 'measurements keep "="');
  assert.equal(escapeKey('a=b'), 'a\\=b');
  assert.equal(escapeKey('ends\\'), 'ends\\\\', 'a trailing backslash cannot escape the next separator');
  assert.equal(quoteFieldString('C:\\temp "x"'), '"C:\\\\temp \\"x\\""');
});

/** The error a line is refused with, checked for its code and path. */
function refused(r: ReturnType<typeof lineOf>, code: string, path: string): string {
  assert.equal(r.ok, false, r.ok ? `expected ${code}, got ${r.value}` : '');
  if (r.ok) return '';
  assert.equal(r.error.code, code, r.error.message);
  assert.equal(r.error.path, path);
  return r.error.message;
}

test('field values: floats by default, every number an integer in integer mode, booleans bare', () => {
  assert.deepEqual(fieldValue(25, false), { ok: true, value: '25' });
  assert.deepEqual(fieldValue(25.5, false), { ok: true, value: '25.5' });
  assert.deepEqual(fieldValue(25, true), { ok: true, value: '25i' });
  assert.deepEqual(fieldValue(-3, true), { ok: true, value: '-3i' });
  assert.deepEqual(fieldValue(true, true), { ok: true, value: 'true' });
  assert.deepEqual(fieldValue(false, false), { ok: true, value: 'false' });
  const r = reading({ payload: { count: 5, level: 0, on: true }, sensor: 's', timestamp: T0 });
  const l = lineOf(r, { format: 'influx', influxIntegers: 'integer', influxMeasurement: 'events' });
  assert.ok(l.ok);
  assert.equal(l.value, 'events,sensor=s count=5i,level=0i,on=true 1700000000000000000');
});

test('integer mode: a fractional value is refused, never written as a float beside earlier integers (type conflict)', () => {
  const o: FormatOptions = { format: 'influx', influxIntegers: 'integer', influxMeasurement: 'env' };
  const first = lineOf(reading({ payload: { t: 25 }, sensor: 's', timestamp: T0 }), o);
  assert.ok(first.ok);
  assert.match(first.value, / t=25i /);
  const msg = refused(lineOf(reading({ payload: { t: 25.5, n: 1 }, sensor: 's', timestamp: T0 }), o), 'BAD_VALUE', 'payload.t');
  assert.match(msg, /25\.5/);
  assert.match(msg, /whole number/);
  refused(lineOf(reading({ payload: { big: 2 ** 60 }, sensor: 's', timestamp: T0 }), o), 'BAD_VALUE', 'payload.big');
  // Float mode keeps one type too: 25 and 25.5 are both floats.
  const floats = [25, 25.5].map((t) => lineOf(reading({ payload: { t }, sensor: 's', timestamp: T0 }), { format: 'influx' }));
  assert.deepEqual(floats.map((l) => (l.ok ? l.value.split(' ')[1] : l.error.code)), ['t=25', 't=25.5']);
});

test('a measurement starting with # (a comment to InfluxDB) or _ (reserved) is refused', () => {
  const hash = refused(lineOf(reading({ payload: { t: 1 }, sensor: '#1', timestamp: T0 }), { format: 'influx' }), 'BAD_NAME', 'sensor');
  assert.match(hash, /"#1".*comment/);
  refused(lineOf(reading({ payload: { t: 1 }, sensor: 's', timestamp: T0 }), { format: 'influx', influxMeasurement: '#m' }), 'BAD_NAME', 'influxMeasurement');
  refused(lineOf(reading({ payload: { t: 1 }, sensor: '_s', timestamp: T0 }), { format: 'influx' }), 'BAD_NAME', 'sensor');
  for (const influxMeasurement of ['#m', ' #m', '_m']) {
    const f = createFormatter({ format: 'influx', influxMeasurement });
    assert.equal(f.ok, false, influxMeasurement);
    if (!f.ok) assert.deepEqual([f.error.code, f.error.path], ['BAD_OPTION', 'influxMeasurement']);
  }
  const inner = lineOf(reading({ payload: { t: 1 }, sensor: 'a#b_', timestamp: T0 }), { format: 'influx' });
  assert.ok(inner.ok, 'only a leading # or _ matters');
});

test('tag or field key "time" and keys starting with _ are refused, naming the key', () => {
  assert.match(refused(lineOf(reading({ payload: { time: 1 }, sensor: 's', timestamp: T0 }), { format: 'influx' }), 'BAD_NAME', 'payload.time'), /field key "time"/);
  assert.match(refused(lineOf(reading({ payload: { _value: 1 }, sensor: 's', timestamp: T0 }), { format: 'influx' }), 'BAD_NAME', 'payload._value'), /field key "_value"/);
  assert.match(refused(lineOf(reading({ payload: { t: 1 }, metadata: { time: 'noon' }, timestamp: T0 }), { format: 'influx' }), 'BAD_NAME', 'metadata.time'), /tag key "time"/);
  assert.match(refused(lineOf(reading({ payload: { t: 1 }, metadata: { _field: 'x' }, timestamp: T0 }), { format: 'influx' }), 'BAD_NAME', 'metadata._field'), /tag key "_field"/);
  // Not written as tags, so not refused: a number in metadata, an empty string; and "Time" is not "time".
  const l = lineOf(reading({ payload: { Time: 1 }, metadata: { _n: 3, _e: '' }, sensor: 's', timestamp: T0 }), { format: 'influx' });
  assert.ok(l.ok, l.ok ? '' : l.error.message);
  assert.equal(l.value, 's,sensor=s Time=1 1700000000000000000');
});

test('timestamps become exact nanoseconds, also for fractional milliseconds', () => {
  assert.equal(nanoseconds(T0), '1700000000000000000');
  assert.equal(nanoseconds(1700000000123.456), '1700000000123456000');
  assert.equal(nanoseconds(0), '0');
});

test('metadata strings become escaped tags; empty tag values are left out; line breaks are refused', () => {
  const r = reading({ payload: { t: 1 }, sensor: 'ds18b20', device: 'dev 1', metadata: { site: 'north field', empty: '', floor: 2 }, timestamp: T0 });
  const l = lineOf(r, { format: 'influx' });
  assert.ok(l.ok);
  assert.equal(l.value, 'ds18b20,device=dev\\ 1,sensor=ds18b20,site=north\\ field t=1 1700000000000000000');
  const bad = lineOf(reading({ payload: { t: 1 }, metadata: { site: 'a\nb' }, timestamp: T0 }), { format: 'influx' });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.equal(bad.error.code, 'BAD_NAME');
});
