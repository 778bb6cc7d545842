// Reducer faults found in review, each driven by a hand-moved clock: timer delays beyond 2^31-1 ms, float noise at
// the deadband's edge, windows closed early or reopened after a clock step, batches holding live objects, JSON text
// rewritten, binary lines mangled, and the per-key limits forgetting the busiest keys first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Reading } from '../../src/lib/formats/reading';
import { Batcher, batchEntry, encodeBatch, type BatchItem } from '../../src/lib/reduce/batch';
import { systemClock, type Clock, type TimerHandle } from '../../src/lib/reduce/clock';
import { Deadband, exceedsBand } from '../../src/lib/reduce/deadband';
import { WindowAggregator, type WindowResult } from '../../src/lib/reduce/window';
import { reading, T0 } from './fixtures';
import { ManualClock } from './manual-clock';
import { parseJson } from '../../src/lib/json';

const DAY = 86_400_000;
/** Node.js's TIMEOUT_MAX: a longer delay is replaced by 1 ms (with a TimeoutOverflowWarning). */
const TIMEOUT_MAX = 2147483647;

function r(values: Record<string, number | boolean>, extra: { sensor?: string; device?: string; timestamp?: number; metadata?: Record<string, string> } = {}): Reading {
  return reading({ payload: values, units: Object.fromEntries(Object.keys(values).map((k) => [k, 'Cel'])), timestamp: T0, ...extra });
}

/**
 * Stands in for the platform's setTimeout, clearTimeout and Date.now, with Node's handling of delays: anything not in
 * 1..TIMEOUT_MAX becomes 1 ms. Time moves only in advance().
 */
class PlatformTimers {
  /** The hand-moved time and timers; this class only adds Node's delay handling and the global slots. */
  private readonly clock: ManualClock;
  private saved?: { setTimeout: unknown; clearTimeout: unknown; now: () => number };
  /** Every delay the code under test asked the platform for. */
  readonly asked: number[] = [];

  constructor(t: number) {
    this.clock = new ManualClock(t);
  }

  get timers(): number {
    return this.clock.timers;
  }

  install(): void {
    const slots = globalThis as unknown as { setTimeout: unknown; clearTimeout: unknown };
    this.saved = { setTimeout: slots.setTimeout, clearTimeout: slots.clearTimeout, now: Date.now };
    slots.setTimeout = (fn: () => void, ms: number): TimerHandle => {
      this.asked.push(ms);
      return this.clock.setTimeout(fn, ms >= 1 && ms <= TIMEOUT_MAX ? ms : 1);
    };
    slots.clearTimeout = (id: TimerHandle): void => this.clock.clearTimeout(id);
    Date.now = () => this.clock.now();
  }

  uninstall(): void {
    if (!this.saved) return;
    const slots = globalThis as unknown as { setTimeout: unknown; clearTimeout: unknown };
    slots.setTimeout = this.saved.setTimeout;
    slots.clearTimeout = this.saved.clearTimeout;
    Date.now = this.saved.now;
    this.saved = undefined;
  }

  advance(ms: number): void {
    this.clock.advance(ms);
  }
}

function withPlatformTimers(start: number, body: (p: PlatformTimers) => void): void {
  const p = new PlatformTimers(start);
  p.install();
  try {
    body(p);
  } finally {
    p.uninstall();
  }
}

test('system clock: a 30-day timer waits 30 days (Node would fire it after 1 ms), and clearing mid-way stops it', () => {
  withPlatformTimers(T0, (p) => {
    let fired = 0;
    systemClock.setTimeout(() => fired++, 30 * DAY);
    assert.ok(
      p.asked.every((ms) => ms <= TIMEOUT_MAX),
      `asked the platform for ${p.asked.join(', ')} ms`,
    );
    p.advance(1);
    assert.equal(fired, 0, 'not after 1 ms');
    p.advance(30 * DAY - 2);
    assert.equal(fired, 0, 'not 1 ms early');
    p.advance(1);
    assert.equal(fired, 1, 'after exactly 30 days');
    assert.equal(p.timers, 0);

    const h = systemClock.setTimeout(() => fired++, 60 * DAY);
    p.advance(40 * DAY); // past the first link of the chain
    systemClock.clearTimeout(h);
    assert.equal(p.timers, 0, 'the link pending when cleared is cleared');
    p.advance(40 * DAY);
    assert.equal(fired, 1);

    const short = systemClock.setTimeout(() => fired++, 1000);
    systemClock.clearTimeout(short);
    p.advance(1000);
    assert.equal(fired, 1, 'short timers clear as before');
  });
});

test('30-day heartbeat, 30-day batch age and 1000-day window on the system clock fire when due, not after 1 ms', () => {
  withPlatformTimers(T0, (p) => {
    const beats: Reading[] = [];
    const d = new Deadband({ mode: 'absolute', band: 1, heartbeatMs: 30 * DAY }, systemClock, (x) => beats.push(x));
    d.offer(r({ t: 20 }, { sensor: 's' }));

    const batches: string[] = [];
    const b = new Batcher({ maxCount: 10, maxAgeMs: 30 * DAY, join: 'array', gzip: false }, systemClock, (_items, reason) => batches.push(reason));
    const e = batchEntry(1, 'array');
    assert.ok(e.ok);
    b.offer({ entry: e.value.entry, size: e.value.size });

    const size = 1000 * DAY;
    const windows: WindowResult[] = [];
    const w = new WindowAggregator({ kind: 'time', size, functions: ['count'] }, systemClock, (x) => windows.push(x));
    w.offer(r({ t: 1 }, { sensor: 's' }));

    p.advance(1000);
    assert.equal(beats.length, 0, 'no heartbeat after a second');
    assert.deepEqual(batches, [], 'no batch after a second');
    assert.equal(windows.length, 0, 'no window after a second');

    p.advance(30 * DAY - 1000);
    assert.equal(beats.length, 1, 'heartbeat after 30 days');
    assert.deepEqual(batches, ['age'], 'batch after 30 days');
    assert.equal(windows.length, 0);

    const end = Math.floor(T0 / size) * size + size;
    p.advance(end - Date.now() - 1);
    assert.equal(windows.length, 0, 'the window is open until its end');
    p.advance(1);
    assert.equal(windows.length, 1);
    assert.deepEqual(windows[0].window, { start: end - size, end, readings: 1, partial: false });
    assert.ok(beats.length >= 1 && beats.length <= 1 + Math.ceil((end - T0) / (30 * DAY)), `${beats.length} heartbeats`);
    d.close();
    b.discard();
    w.discard();
    assert.equal(p.timers, 0);
  });
});

test('deadband: one-step changes equal to the band pass despite float error (21.3 → 21.4 with 0.1; 1.1 → 1.111 with 1 %)', () => {
  assert.equal(exceedsBand(21.3, 21.4, { mode: 'absolute', band: 0.1 }), true);
  assert.equal(exceedsBand(0.2, 0.3, { mode: 'absolute', band: 0.1 }), true);
  const missed: string[] = [];
  for (let i = 200; i < 300; i++) {
    if (!exceedsBand(i / 10, (i + 1) / 10, { mode: 'absolute', band: 0.1 })) missed.push(`${i / 10}→${(i + 1) / 10}`);
    if (!exceedsBand((i + 1) / 10, i / 10, { mode: 'absolute', band: 0.1 })) missed.push(`${(i + 1) / 10}→${i / 10}`);
  }
  assert.deepEqual(missed, []);
  assert.equal(exceedsBand(1.1, 1.111, { mode: 'percent', band: 1 }), true);
  assert.equal(exceedsBand(100, 101, { mode: 'percent', band: 1 }), true);

  const d = new Deadband({ mode: 'absolute', band: 0.1 }, new ManualClock(), () => undefined);
  const passed = [21.3, 21.4, 21.5, 21.6].map((t) => d.offer(r({ t })) !== undefined);
  assert.deepEqual(passed, [true, true, true, true]);
});

test('deadband: the float tolerance does not let smaller changes through', () => {
  assert.equal(exceedsBand(21.3, 21.39, { mode: 'absolute', band: 0.1 }), false);
  assert.equal(exceedsBand(21.3, 21.399999, { mode: 'absolute', band: 0.1 }), false);
  assert.equal(exceedsBand(1.1, 1.1109, { mode: 'percent', band: 1 }), false);
  // A large counter and a band far above its float resolution: the band must stay the band.
  assert.equal(exceedsBand(1.2e9, 1.2e9 + 9, { mode: 'absolute', band: 10 }), false);
  assert.equal(exceedsBand(1.2e9, 1.2e9 + 10, { mode: 'absolute', band: 10 }), true);
  assert.equal(exceedsBand(1e308, -1e308, { mode: 'percent', band: 150 }), true, 'a difference beyond MAX_VALUE');
  assert.equal(exceedsBand(1e308, 1.5e308, { mode: 'percent', band: 1e300 }), false, 'a percent band beyond MAX_VALUE');
});

/** Timers that fire 1 ms before they are due by now(), as Node's monotonic timers can against Date.now. */
function earlyClock(inner: ManualClock): Clock {
  return {
    now: () => inner.now(),
    setTimeout: (fn, ms) => inner.setTimeout(fn, Math.max(1, ms - 1)),
    clearTimeout: (h) => inner.clearTimeout(h),
  };
}

test('time window: a timer firing before the end by the clock waits for the rest; one result per window', () => {
  const minute = Math.floor(T0 / 60000) * 60000;
  const inner = new ManualClock(minute + 5000);
  const out: WindowResult[] = [];
  const w = new WindowAggregator({ kind: 'time', size: 60000, functions: ['count'] }, earlyClock(inner), (x) => out.push(x));
  w.offer(r({ t: 1 }, { sensor: 's' }));
  inner.advance(54999); // the timer fires here, 1 ms before the minute
  assert.equal(out.length, 0, 'not closed before its end');
  w.offer(r({ t: 2 }, { sensor: 's' }));
  inner.advance(1);
  assert.equal(out.length, 1);
  assert.deepEqual(out[0].window, { start: minute, end: minute + 60000, readings: 2, partial: false });
  w.offer(r({ t: 3 }, { sensor: 's' }));
  inner.advance(60000);
  assert.equal(out.length, 2);
  assert.deepEqual(out[1].window, { start: minute + 60000, end: minute + 120000, readings: 1, partial: false });
  assert.equal(inner.timers, 0);
});

/** The wall clock as NTP moves it: now() can step back; timers keep running on monotonic time. */
class SteppedClock implements Clock {
  private offset = 0;
  constructor(readonly mono: ManualClock) {}
  now(): number {
    return this.mono.now() + this.offset;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.mono.setTimeout(fn, ms);
  }
  clearTimeout(h: TimerHandle): void {
    this.mono.clearTimeout(h);
  }
  stepBack(ms: number): void {
    this.offset -= ms;
  }
}

test('time window: after the clock steps back, readings for a window already sent count in the next one (never sent twice)', () => {
  const minute = Math.floor(T0 / 60000) * 60000;
  const clock = new SteppedClock(new ManualClock(minute + 5000));
  const out: WindowResult[] = [];
  const w = new WindowAggregator({ kind: 'time', size: 60000, functions: ['count'] }, clock, (x) => out.push(x));
  w.offer(r({ t: 1 }, { sensor: 's' }));
  clock.mono.advance(55000);
  assert.equal(out.length, 1);
  clock.stepBack(2000); // now 2 s before the end of the window just sent
  w.offer(r({ t: 2 }, { sensor: 's' }));
  clock.mono.advance(2000);
  assert.equal(out.length, 1, 'the sent window is not sent again');
  clock.mono.advance(60000);
  assert.equal(out.length, 2);
  assert.deepEqual(
    out.map((x) => x.window),
    [
      { start: minute, end: minute + 60000, readings: 1, partial: false },
      { start: minute + 60000, end: minute + 120000, readings: 1, partial: false },
    ],
  );
  // A reading once the clock has caught up opens the aligned window as usual.
  clock.mono.advance(1000);
  w.offer(r({ t: 3 }, { sensor: 's' }));
  w.flush();
  assert.equal(out[2].window.start, minute + 120000);
  assert.equal(out[2].window.partial, true);
});

test('batch: the entry is the text when the message arrived; changing or extending the object later (BigInt) changes nothing', () => {
  const clock = new ManualClock(0);
  const sent: string[] = [];
  const b = new Batcher({ maxCount: 10, maxAgeMs: 1000, join: 'array', gzip: false }, clock, (items) => sent.push(encodeBatch(items, { join: 'array', gzip: false }).payload as string));
  const state: Record<string, unknown> = { t: 21.5 };
  const e = batchEntry(state, 'array');
  assert.ok(e.ok);
  b.offer({ entry: e.value.entry, size: e.value.size });
  state.t = 22;
  state.raw = 1n; // JSON.stringify throws on a BigInt: at flush time that would be inside a timer
  clock.advance(1000);
  assert.deepEqual(sent, ['[{"t":21.5}]']);
});

function entries(payloads: unknown[], join: 'array' | 'lines'): BatchItem[] {
  return payloads.map((p) => {
    const e = batchEntry(p, join);
    assert.ok(e.ok, `${String(p)} refused: ${e.ok ? '' : e.error.message}`);
    return { entry: e.value.entry, size: e.value.size };
  });
}

test('batch: JSON text is embedded exactly as written (big integers, 1.10, 1e400), after a JSON.parse check', () => {
  const texts = ['{"id":12345678901234567890,"v":1.10}', '"00123"', '1e400', ' {"a": [1, 2]}\n', '-0'];
  const enc = encodeBatch(entries(texts, 'array'), { join: 'array', gzip: false });
  assert.equal(enc.payload, '[{"id":12345678901234567890,"v":1.10},"00123",1e400,{"a": [1, 2]},-0]');
  const array = parseJson(enc.payload as string);
  assert.equal((array as unknown[]).length, 5, 'the batch is one JSON array');
  const plain = encodeBatch(entries(['{not json', 'text'], 'array'), { join: 'array', gzip: false });
  assert.equal(plain.payload, '["{not json","text"]', 'text that is not JSON is a JSON string');
  const e = batchEntry('{"id":12345678901234567890}', 'array');
  assert.ok(e.ok);
  assert.equal(e.value.size, Buffer.byteLength('{"id":12345678901234567890}') + 1);
});

test('batch lines: a Buffer that is not valid UTF-8 (or text with a lone surrogate) is refused, not mangled', () => {
  const bad = batchEntry(Buffer.from([0x63, 0x70, 0x75, 0x20, 0xff, 0xfe]), 'lines');
  assert.equal(bad.ok, false);
  if (!bad.ok) {
    assert.equal(bad.error.code, 'BAD_VALUE');
    assert.match(bad.error.message, /UTF-8/);
  }
  const lone = batchEntry('m v="\ud800" 1', 'lines');
  assert.equal(lone.ok, false);
  const loneJson = batchEntry('"\udc00"', 'array');
  assert.equal(loneJson.ok, false, 'raw JSON text embedded as is cannot hold one either');
  assert.equal(batchEntry('\ud800', 'array').ok, true, 'a non-JSON string is escaped by JSON.stringify');
  const good = entries([Buffer.from('m,room=küche t=21 1', 'utf8'), 'm v=2 2'], 'lines');
  assert.equal(encodeBatch(good, { join: 'lines', gzip: false }).payload, 'm,room=küche t=21 1\nm v=2 2');
  assert.equal(good[0].size, Buffer.byteLength('m,room=küche t=21 1') + 1);
});

test('deadband: beyond maxTracked the least recently SEEN measurement is forgotten, with one notice', () => {
  const limits: number[] = [];
  const d = new Deadband({ mode: 'absolute', band: 1, maxTracked: 3, onLimit: (n) => limits.push(n) }, new ManualClock(), () => undefined);
  for (const s of ['a', 'b', 'c']) assert.ok(d.offer(r({ t: 20 }, { sensor: s })));
  assert.equal(d.offer(r({ t: 20 }, { sensor: 'a' })), undefined, 'a seen again');
  assert.deepEqual(limits, []);
  assert.ok(d.offer(r({ t: 20 }, { sensor: 'd' })), 'a fourth: b, the least recently seen, makes room');
  assert.equal(d.offer(r({ t: 20 }, { sensor: 'a' })), undefined, 'a, inserted first but seen recently, is still tracked');
  assert.ok(d.offer(r({ t: 20 }, { sensor: 'b' })), 'b was forgotten: its value passes as a first value');
  assert.deepEqual(limits, [3], 'the limit is reported once, not per eviction');
});

test('deadband: a heartbeat does not count as use, and a forgotten measurement has no heartbeat timer left', () => {
  const clock = new ManualClock(T0);
  const beats: Reading[] = [];
  const d = new Deadband({ mode: 'absolute', band: 1, heartbeatMs: 1000, maxTracked: 2 }, clock, (x) => beats.push(x));
  d.offer(r({ t: 1 }, { sensor: 'a' }));
  clock.advance(500);
  d.offer(r({ t: 1 }, { sensor: 'b' }));
  clock.advance(500);
  assert.deepEqual(beats.map((x) => x.sensor), ['a'], 'a beats; b was seen after a');
  d.offer(r({ t: 1 }, { sensor: 'c' })); // room for c: a, only beaten since, goes
  assert.equal(d.offer(r({ t: 1 }, { sensor: 'b' })), undefined, 'b is still tracked');
  assert.equal(clock.timers, 2, "a's heartbeat timer is gone");
  clock.advance(5000);
  assert.ok(beats.every((x) => x.sensor !== 'a' || x === beats[0]), 'no heartbeat for a forgotten measurement');
  d.close();
});

test('window: beyond maxGroups the least recently fed window is sent early (partial), once noticed; its next one starts where it ended', () => {
  const minute = Math.floor(T0 / 60000) * 60000;
  const clock = new ManualClock(minute + 1000);
  const out: WindowResult[] = [];
  const limits: number[] = [];
  const w = new WindowAggregator({ kind: 'time', size: 60000, functions: ['count'], maxGroups: 2, onLimit: (n) => limits.push(n) }, clock, (x) => out.push(x));
  w.offer(r({ t: 1 }, { sensor: 'a' }));
  w.offer(r({ t: 1 }, { sensor: 'b' }));
  clock.advance(1000);
  w.offer(r({ t: 1 }, { sensor: 'a' }));
  w.offer(r({ t: 1 }, { sensor: 'c' })); // room for c: b goes, not a
  assert.equal(out.length, 1);
  assert.equal(out[0].reading.sensor, 'b');
  assert.deepEqual(out[0].window, { start: minute, end: minute + 2000, readings: 1, partial: true });
  assert.deepEqual(limits, [2]);
  clock.advance(1000);
  w.offer(r({ t: 1 }, { sensor: 'b' })); // c goes
  assert.deepEqual(limits, [2], 'noticed once');
  clock.advance(60000);
  const b = out.filter((x) => x.reading.sensor === 'b').map((x) => x.window);
  assert.deepEqual(b, [
    { start: minute, end: minute + 2000, readings: 1, partial: true },
    { start: minute + 2000, end: minute + 60000, readings: 1, partial: false },
  ]);
  assert.equal(clock.timers, 0);
});
