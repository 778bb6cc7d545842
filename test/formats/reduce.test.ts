import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { Reading } from '../../src/lib/formats/reading';
import { Batcher, batchEntry, encodeBatch, type BatchItem } from '../../src/lib/reduce/batch';
import { Deadband, exceedsBand } from '../../src/lib/reduce/deadband';
import { parseFunctions, WindowAggregator, type WindowResult } from '../../src/lib/reduce/window';
import { reading, T0 } from './fixtures';
import { ManualClock } from './manual-clock';

function r(values: Record<string, number | boolean>, extra: { sensor?: string; device?: string; timestamp?: number } = {}): Reading {
  return reading({ payload: values, units: Object.fromEntries(Object.keys(values).map((k) => [k, 'Cel'])), timestamp: T0, ...extra });
}

function values(x: Reading | undefined): Record<string, unknown> | undefined {
  return x ? Object.fromEntries(x.values) : undefined;
}

test('deadband (absolute): first value passes, then only moves of at least the band from the last SENT value', () => {
  const clock = new ManualClock();
  const d = new Deadband({ mode: 'absolute', band: 0.5 }, clock, () => assert.fail('no heartbeat configured'));
  assert.deepEqual(values(d.offer(r({ t: 20 }))), { t: 20 });
  assert.equal(d.offer(r({ t: 20.3 })), undefined);
  assert.equal(d.offer(r({ t: 20.4 })), undefined, 'creeping changes are measured from the last sent value');
  assert.deepEqual(values(d.offer(r({ t: 20.5 }))), { t: 20.5 }, 'exactly the band passes');
  assert.deepEqual(values(d.offer(r({ t: 19.9, h: 40 }))), { t: 19.9, h: 40 });
  const partial = d.offer(r({ t: 20, h: 45 }));
  assert.deepEqual(values(partial), { h: 45 }, 'only the measurements that moved');
  assert.deepEqual([...(partial?.units ?? [])], [['h', 'Cel']]);
  assert.equal(clock.timers, 0);
});

test('deadband: percent of the last sent value, zero band, booleans and type changes', () => {
  assert.equal(exceedsBand(100, 104.9, { mode: 'percent', band: 5 }), false);
  assert.equal(exceedsBand(100, 95, { mode: 'percent', band: 5 }), true);
  assert.equal(exceedsBand(-100, -106, { mode: 'percent', band: 5 }), true);
  assert.equal(exceedsBand(0, 0.001, { mode: 'percent', band: 5 }), true, 'any change from 0 is infinite percent');
  assert.equal(exceedsBand(0, 0, { mode: 'percent', band: 5 }), false);
  assert.equal(exceedsBand(1, 1, { mode: 'absolute', band: 0 }), false, 'band 0: unchanged values do not pass');
  assert.equal(exceedsBand(1, 1.0000001, { mode: 'absolute', band: 0 }), true);
  assert.equal(exceedsBand(true, true, { mode: 'absolute', band: 5 }), false);
  assert.equal(exceedsBand(true, false, { mode: 'absolute', band: 5 }), true);
  assert.equal(exceedsBand(1, true, { mode: 'absolute', band: 5 }), true);
});

test('deadband: each device/sensor is tracked separately', () => {
  const d = new Deadband({ mode: 'absolute', band: 1 }, new ManualClock(), () => undefined);
  assert.ok(d.offer(r({ t: 20 }, { sensor: 'a' })));
  assert.ok(d.offer(r({ t: 20 }, { sensor: 'b' })), 'a different sensor is a first value');
  assert.ok(d.offer(r({ t: 20 }, { sensor: 'a', device: 'x' })));
  assert.equal(d.offer(r({ t: 20.5 }, { sensor: 'a' })), undefined);
});

test('heartbeat: after the maximum silence the latest value is sent, and the silence restarts', () => {
  const clock = new ManualClock(1000);
  const beats: Reading[] = [];
  const d = new Deadband({ mode: 'absolute', band: 1, heartbeatMs: 60000 }, clock, (x) => beats.push(x));
  d.offer(r({ t: 20 }, { sensor: 's', timestamp: T0 }));
  clock.advance(30000);
  assert.equal(d.offer(r({ t: 20.2 }, { sensor: 's', timestamp: T0 + 30000 })), undefined);
  clock.advance(29999);
  assert.equal(beats.length, 0);
  clock.advance(1);
  assert.equal(beats.length, 1);
  assert.deepEqual(values(beats[0]), { t: 20.2 }, 'the latest value, not the last sent one');
  assert.equal(beats[0].timestamp, T0 + 30000, 'with the time it was measured');
  assert.equal(beats[0].sensor, 's');
  assert.deepEqual([...beats[0].units], [['t', 'Cel']]);
  clock.advance(30000);
  assert.deepEqual(values(d.offer(r({ t: 25 }, { sensor: 's' }))), { t: 25 });
  clock.advance(59999);
  assert.equal(beats.length, 1, 'a value that passed restarts the silence');
  clock.advance(1);
  assert.equal(beats.length, 2);
  d.close();
  assert.equal(clock.timers, 0);
  clock.advance(600000);
  assert.equal(beats.length, 2, 'no heartbeat after close');
});

test('time window: aligned to the clock, closes on its timer with mean/min/max/count/last', () => {
  const minute = Math.floor(T0 / 60000) * 60000;
  const clock = new ManualClock(minute + 5000); // 5 s into a minute
  const out: WindowResult[] = [];
  const w = new WindowAggregator({ kind: 'time', size: 60000, functions: ['mean', 'min', 'max', 'count', 'last'] }, clock, (x) => out.push(x));
  w.offer(r({ t: 20, on: false }, { sensor: 's' }));
  clock.advance(10000);
  w.offer(r({ t: 22, on: true }, { sensor: 's' }));
  clock.advance(10000);
  w.offer(r({ t: 24 }, { sensor: 's' }));
  assert.equal(out.length, 0);
  clock.advance(34999);
  assert.equal(out.length, 0);
  clock.advance(1);
  assert.equal(out.length, 1, 'closed at the minute, without a new reading');
  const [first] = out;
  assert.deepEqual(values(first.reading), { t_mean: 22, t_min: 20, t_max: 24, t_count: 3, t_last: 24, on_mean: 0.5, on_min: 0, on_max: 1, on_count: 2, on_last: true });
  assert.equal(first.reading.units.get('t_mean'), 'Cel');
  assert.equal(first.reading.units.has('t_count'), false, 'a count has no unit');
  assert.deepEqual(first.window, { start: minute, end: minute + 60000, readings: 3, partial: false });
  assert.equal(first.reading.timestamp, minute + 60000);
  assert.equal(first.reading.sensor, 's');
  assert.equal(clock.timers, 0, 'no timer while no window is open');
});

test('count window: closes after N readings per sensor; one function keeps the measurement name', () => {
  const clock = new ManualClock(T0);
  const out: WindowResult[] = [];
  const w = new WindowAggregator({ kind: 'count', size: 3, functions: ['max'] }, clock, (x) => out.push(x));
  for (const v of [1, 5, 2]) w.offer(r({ t: v }, { sensor: 'a', timestamp: T0 + v }));
  w.offer(r({ t: 100 }, { sensor: 'b' }));
  assert.equal(out.length, 1);
  assert.deepEqual(values(out[0].reading), { t: 5 });
  assert.equal(out[0].reading.timestamp, T0 + 2, 'the last reading’s time');
  w.flush();
  assert.equal(out.length, 2);
  assert.equal(out[1].window.partial, true);
  assert.deepEqual(values(out[1].reading), { t: 100 });
});

test('window mean cannot overflow, and discard drops open windows without sending', () => {
  const clock = new ManualClock(T0);
  const out: WindowResult[] = [];
  const w = new WindowAggregator({ kind: 'count', size: 2, functions: ['mean'] }, clock, (x) => out.push(x));
  w.offer(r({ t: 1.5e308 }));
  w.offer(r({ t: 1.5e308 }));
  assert.equal(out[0].reading.values.get('t'), 1.5e308);
  w.offer(r({ t: 1 }));
  w.discard();
  assert.equal(out.length, 1);
  assert.deepEqual(parseFunctions('max, mean,bogus,max'), ['max', 'mean']);
  assert.deepEqual(parseFunctions(''), ['mean']);
});

function items(payloads: unknown[], join: 'array' | 'lines' = 'array'): BatchItem[] {
  return payloads.map((p) => {
    const e = batchEntry(p, join);
    assert.ok(e.ok);
    return { entry: e.value.entry, size: e.value.size, topic: 't' };
  });
}

test('batch: N messages or T ms after the first, whichever comes first', () => {
  const clock = new ManualClock(0);
  const out: Array<[BatchItem[], string]> = [];
  const b = new Batcher({ maxCount: 3, maxAgeMs: 1000, join: 'array', gzip: false }, clock, (i, reason) => out.push([i, reason]));
  for (const it of items([1, 2, 3, 4])) b.offer(it);
  assert.equal(out.length, 1);
  assert.equal(out[0][1], 'count');
  assert.deepEqual(out[0][0].map((i) => i.entry), ['1', '2', '3'], 'entries are the JSON text of each payload');
  clock.advance(999);
  assert.equal(out.length, 1);
  clock.advance(1);
  assert.deepEqual(out[1][0].map((i) => i.entry), ['4']);
  assert.equal(out[1][1], 'age');
  assert.equal(clock.timers, 0);
  b.offer(items([5])[0]);
  b.flush();
  assert.equal(out[2][1], 'flush');
  b.offer(items([6])[0]);
  b.discard();
  clock.advance(5000);
  assert.equal(out.length, 3);
});

test('batch: flushes early rather than exceed the byte limit', () => {
  const out: BatchItem[][] = [];
  const b = new Batcher({ maxCount: 100, maxAgeMs: 0, join: 'lines', gzip: false, maxBytes: 25 }, new ManualClock(), (i) => out.push(i));
  for (const it of items(['0123456789', '0123456789', '0123456789'], 'lines')) b.offer(it);
  assert.equal(out.length, 1);
  assert.equal(out[0].length, 2);
  assert.equal(b.pending, 1);
});

test('batch encoding: JSON array (JSON text embedded as JSON), lines, gzip with content type marked', () => {
  const arr = encodeBatch(items(['{"a":1}', { b: 2 }, 'plain text', 3]), { join: 'array', gzip: false });
  assert.equal(arr.payload, '[{"a":1},{"b":2},"plain text",3]');
  assert.equal(arr.contentType, 'application/json');
  const lines = encodeBatch(items(['m a=1 1', 'm a=2 2'], 'lines'), { join: 'lines', gzip: false });
  assert.equal(lines.payload, 'm a=1 1\nm a=2 2');
  const gz = encodeBatch(items([{ t: 1 }, { t: 2 }]), { join: 'array', gzip: true });
  assert.ok(Buffer.isBuffer(gz.payload));
  assert.equal(gunzipSync(gz.payload as Buffer).toString(), '[{"t":1},{"t":2}]');
  assert.equal(gz.contentType, 'application/gzip');
  assert.deepEqual(gz.userProperties, { 'content-encoding': 'gzip', 'original-content-type': 'application/json' });
});

test('batch entries: NaN, Infinity, binary and unserialisable payloads are refused, never written as null', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const bad of [NaN, Infinity, { t: NaN }, [1, -Infinity], Buffer.from('x'), cyclic, undefined, () => 1]) {
    const e = batchEntry(bad, 'array');
    assert.equal(e.ok, false, String(bad));
    if (!e.ok) assert.equal(e.error.code, 'BAD_VALUE');
  }
  const num = batchEntry(5, 'lines');
  assert.equal(num.ok, false);
});

test('heartbeat: a sensor that stops sending gets one more heartbeat, then none; its next reading passes and they resume', () => {
  const clock = new ManualClock(1000);
  const beats: Reading[] = [];
  const d = new Deadband({ mode: 'absolute', band: 1, heartbeatMs: 60000 }, clock, (x) => beats.push(x));
  d.offer(r({ t: 20 }, { sensor: 's', timestamp: T0 }));
  // Readings every 30 s inside the band: a heartbeat every minute, for as long as they come.
  for (let i = 1; i <= 20; i++) {
    clock.advance(30000);
    assert.equal(d.offer(r({ t: 20.1 }, { sensor: 's', timestamp: T0 + i * 30000 })), undefined);
  }
  assert.equal(beats.length, 10);
  // Then the sensor dies: a day of silence.
  clock.advance(24 * 3600 * 1000);
  assert.equal(beats.length, 11, 'one heartbeat after the last reading, not 1,440');
  assert.equal(clock.timers, 0, 'no timer left running for a silent sensor');
  assert.deepEqual(values(d.offer(r({ t: 20.1 }, { sensor: 's' }))), { t: 20.1 }, 'back: its first reading passes');
  clock.advance(60000);
  assert.equal(beats.length, 12, 'and the heartbeats resume');
  d.close();
});
