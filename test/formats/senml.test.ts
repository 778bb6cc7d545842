import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFormatter } from '../../src/lib/formats/registry';
import { resolveSenml, senmlPack, SENML_CONTENT_TYPE, type ResolvedRecord } from '../../src/lib/formats/senml';
import { golden, reading, T0 } from './fixtures';

const RFC = JSON.parse(golden('rfc8428-examples.json')) as Record<string, unknown[]>;
const NOW = 1.7e9;

function resolved(pack: unknown, now = NOW): ResolvedRecord[] {
  const r = resolveSenml(pack, now);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  return r.value;
}

/** Times are sums of binary floats: compare them to the microsecond, everything else exactly. */
function assertSameRecords(actual: ResolvedRecord[], expected: unknown[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((rec, i) => {
    const want = expected[i] as ResolvedRecord;
    assert.ok(Math.abs(rec.t - want.t) < 1e-6, `record ${i}: t ${rec.t} vs ${want.t}`);
    const { t: _a, bver: _b, ...rest } = rec;
    const { t: _c, ...wantRest } = want;
    assert.deepEqual(rest, wantRest, `record ${i}`);
  });
}

test('RFC 8428 5.1.3 resolves to the records of 5.1.4 (base name, base time, base unit)', () => {
  const out = resolved(RFC['5.1.3 multiple measurements']);
  assertSameRecords(out, RFC['5.1.3 resolved (section 5.1.4)']);
  // bver 5 is not the current version, so section 4.6 keeps it on every resolved record.
  assert.ok(out.every((r) => r.bver === 5));
});

test('RFC 8428 5.1.1 and 5.1.2: records without time are "now"; base name is prefixed', () => {
  assert.deepEqual(resolved(RFC['5.1.1 single datapoint']), [{ n: 'urn:dev:ow:10e2073a01080063', t: NOW, u: 'Cel', v: 23.1 }]);
  assert.deepEqual(resolved(RFC['5.1.2 multiple datapoints']), [
    { n: 'urn:dev:ow:10e2073a01080063:voltage', t: NOW, u: 'V', v: 120.1 },
    { n: 'urn:dev:ow:10e2073a01080063:current', t: NOW, u: 'A', v: 1.2 },
  ]);
});

test('resolution rules: base value and sum add, times below 2^28 are relative, base fields persist until reset', () => {
  const out = resolved([
    { bn: 'a:', bv: 10, bs: 100, bu: 'W', n: 'x', v: 1, s: 5, t: -10 },
    { n: 'y', v: 2, t: 2 ** 28 },
    { bn: 'b:', n: 'z', vb: true, u: 'count' },
  ]);
  assert.deepEqual(out, [
    { n: 'a:x', t: NOW - 10, u: 'W', v: 11, s: 105 },
    { n: 'a:y', t: 2 ** 28, u: 'W', v: 12 },
    { n: 'b:z', t: NOW, u: 'count', vb: true },
  ]);
});

test('invalid packs are refused with the record and reason', () => {
  const cases: Array<[unknown, string, RegExp]> = [
    [{ n: 'x', v: 1 }, 'BAD_FIELD', /array/],
    [[{ n: 'x', v: '1' }], 'BAD_VALUE', /\[0\]\.v must be a finite number/],
    [[{ n: '-x', v: 1 }], 'BAD_NAME', /not a valid SenML name/],
    [[{ n: 'a b', v: 1 }], 'BAD_NAME', /not a valid SenML name/],
    [[{ n: 'x' }], 'BAD_FIELD', /no value/],
    [[{ n: 'x', v: 1, vs: 'a' }], 'BAD_FIELD', /more than one value/],
    [[{ n: 'x', v: 1, foo_: 1 }], 'BAD_FIELD', /must-understand/],
    [[null], 'BAD_FIELD', /record 0/],
  ];
  for (const [pack, code, re] of cases) {
    const r = resolveSenml(pack, NOW);
    assert.equal(r.ok, false, JSON.stringify(pack));
    if (!r.ok) {
      assert.equal(r.error.code, code, r.error.message);
      assert.match(r.error.message, re);
    }
  }
});

test('format: the RFC 5.1.2 reading gives the RFC 5.1.2 pack plus base time', () => {
  const r = reading({ payload: { voltage: 120.1, current: 1.2 }, units: { voltage: 'V', current: 'A' }, device: 'urn:dev:ow:10e2073a01080063', timestamp: 1276020076001 });
  const pack = senmlPack(r, { format: 'senml' });
  assert.ok(pack.ok);
  const [first, ...rest] = pack.value;
  assert.equal(first.bt, 1.276020076001e9);
  const { bt: _bt, ...withoutTime } = first;
  assert.deepEqual([withoutTime, ...rest], RFC['5.1.2 multiple datapoints']);
});

test('format: BME280 reading matches the golden pack byte for byte, and resolves back to the reading', () => {
  const f = createFormatter({ format: 'senml' });
  assert.ok(f.ok);
  const out = f.value.format(reading());
  assert.ok(out.ok);
  assert.equal(out.value.length, 1);
  const [m] = out.value;
  assert.equal(m.topic, 'senml/greenhouse-1');
  assert.equal(m.contentType, SENML_CONTENT_TYPE);
  assert.equal(m.payload, golden('senml-bme280.json').trim());
  const back = resolved(JSON.parse(m.payload as string) as unknown);
  assert.deepEqual(back.map((x) => [x.n, x.t, x.u, x.v]), [
    ['greenhouse-1:temperature', T0 / 1000, 'Cel', 25.08],
    ['greenhouse-1:pressure', T0 / 1000, 'Pa', 100653.25],
    ['greenhouse-1:humidity', T0 / 1000, '%RH', 41.2],
  ]);
});

test('format: base name template, booleans as vb, names SenML cannot carry are refused', () => {
  const r = reading({ payload: { door: true, 'temp C': 1 }, sensor: 'contact', timestamp: T0 });
  const bad = senmlPack(r, { format: 'senml' });
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.equal(bad.error.code, 'BAD_NAME');
  const ok = senmlPack(reading({ payload: { door: true }, sensor: 'contact', timestamp: T0 }), { format: 'senml', senmlBaseName: 'urn:dev:mac:0024befffe804ff1:{sensor}/' });
  assert.ok(ok.ok);
  assert.deepEqual(ok.value, [{ bn: 'urn:dev:mac:0024befffe804ff1:contact/', bt: T0 / 1000, n: 'door', vb: true }]);
  const missing = senmlPack(reading({ payload: { x: 1 }, timestamp: T0 }), { format: 'senml', senmlBaseName: '{device}:' });
  assert.equal(missing.ok, false);
  if (!missing.ok) assert.equal(missing.error.code, 'MISSING_FIELD');
});

test('format: a reading time below 2^28 s (a clock never set) is refused, not sent as a time relative to now', () => {
  const early = senmlPack(reading({ payload: { t: 1 }, device: 'd', timestamp: new Date(1000) }), { format: 'senml' });
  assert.equal(early.ok, false);
  if (!early.ok) {
    assert.equal(early.error.code, 'BAD_TIMESTAMP');
    assert.equal(early.error.path, 'timestamp');
    assert.match(early.error.message, /1970-01-01T00:00:01\.000Z is before 1978-07-04T21:24:16\.000Z.*relative/);
  }
  const limitMs = 2 ** 28 * 1000;
  assert.equal(senmlPack(reading({ payload: { t: 1 }, device: 'd', timestamp: new Date(limitMs - 1) }), { format: 'senml' }).ok, false);
  const atLimit = senmlPack(reading({ payload: { t: 1 }, device: 'd', timestamp: new Date(limitMs) }), { format: 'senml' });
  assert.ok(atLimit.ok);
  assert.equal(resolved(atLimit.value)[0].t, 2 ** 28, 'read back as absolute, not shifted by "now"');
});

test('format: {measurement} in the topic gives one pack per measurement', () => {
  const f = createFormatter({ format: 'senml', topic: 'senml/{device}/{measurement}' });
  assert.ok(f.ok);
  const out = f.value.format(reading());
  assert.ok(out.ok);
  assert.deepEqual(out.value.map((m) => m.topic), ['senml/greenhouse-1/temperature', 'senml/greenhouse-1/pressure', 'senml/greenhouse-1/humidity']);
  assert.deepEqual(JSON.parse(out.value[1].payload as string) as unknown, [{ bn: 'greenhouse-1:', bt: T0 / 1000, n: 'pressure', u: 'Pa', v: 100653.25 }]);
});

test('format: the drivers\' °C and °F become the registered SenML units Cel and Far; others pass unchanged', () => {
  const r = reading({ payload: { a: 1, b: 2, c: 3 }, units: { a: '°C', b: '°F', c: 'hPa' }, device: 'd', timestamp: T0 });
  const pack = senmlPack(r, { format: 'senml' });
  assert.ok(pack.ok);
  assert.deepEqual(pack.value.map((x) => x.u), ['Cel', 'Far', 'hPa']);
});
