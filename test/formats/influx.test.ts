import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeKey, escapeMeasurement, fieldValue, lineOf, nanoseconds, quoteFieldString } from '../../src/lib/formats/influx-line';
import { createFormatter } from '../../src/lib/formats/registry';
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

test('field values: floats by default, i suffix on request for safe integers, booleans bare', () => {
  assert.equal(fieldValue(25, false), '25');
  assert.equal(fieldValue(25, true), '25i');
  assert.equal(fieldValue(-3, true), '-3i');
  assert.equal(fieldValue(25.5, true), '25.5');
  assert.equal(fieldValue(2 ** 60, true), String(2 ** 60), 'beyond 2^53 an integer is not exact: stays a float');
  assert.equal(fieldValue(true, true), 'true');
  assert.equal(fieldValue(false, false), 'false');
  const r = reading({ payload: { count: 5, ratio: 0.5, on: true }, sensor: 's', timestamp: T0 });
  const l = lineOf(r, { format: 'influx', influxIntegers: 'integer', influxMeasurement: 'events' });
  assert.ok(l.ok);
  assert.equal(l.value, 'events,sensor=s count=5i,ratio=0.5,on=true 1700000000000000000');
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
