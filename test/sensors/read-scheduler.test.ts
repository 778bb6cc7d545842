import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadScheduler } from '../../src/lib/sensors/read-scheduler';
import { flush, ManualClock } from '../helpers/manual-clock';

/** A reading that finishes only when the test says so; records how many ran at once. */
function gatedReads() {
  const gates: Array<() => void> = [];
  const state = { running: 0, maxRunning: 0, started: 0 };
  const read = (): Promise<void> => {
    state.running++;
    state.started++;
    state.maxRunning = Math.max(state.maxRunning, state.running);
    return new Promise<void>((resolve) => gates.push(() => {
      state.running--;
      resolve();
    }));
  };
  return { read, gates, state };
}

test('polls at once and then every interval', async () => {
  const clock = new ManualClock();
  let polls = 0;
  const s = new ReadScheduler(clock, async () => {
    polls++;
  });
  s.start(1000);
  await clock.advance(0);
  assert.equal(polls, 1);
  await clock.advance(999);
  assert.equal(polls, 1);
  await clock.advance(1);
  assert.equal(polls, 2);
  await clock.advance(3000);
  assert.equal(polls, 5);
  await s.stop();
  await clock.advance(10000);
  assert.equal(polls, 5, 'no poll after stop');
  assert.equal(clock.size, 0, 'no timer left');
});

test('a reading slower than the interval never overlaps the next', async () => {
  const clock = new ManualClock();
  const { read, gates, state } = gatedReads();
  const s = new ReadScheduler(clock, read);
  s.start(100);
  await clock.advance(0);
  assert.equal(state.started, 1);
  await clock.advance(550); // five intervals pass while the first reading hangs
  assert.equal(state.started, 1);
  const asked = s.run(read); // a message asks for a reading meanwhile
  await flush();
  assert.equal(state.started, 1);
  gates.shift()?.();
  await flush();
  assert.equal(state.started, 2, 'the queued reading runs after the first one');
  gates.shift()?.();
  await asked;
  await clock.advance(0); // the overdue poll starts right after, not five times
  assert.equal(state.started, 3);
  gates.shift()?.();
  await flush();
  await clock.advance(100);
  assert.equal(state.started, 4);
  gates.shift()?.();
  assert.equal(state.maxRunning, 1);
  await s.stop();
});

test('stop waits for the reading in progress', async () => {
  const clock = new ManualClock();
  const { read, gates } = gatedReads();
  const s = new ReadScheduler(clock, read);
  s.start(100);
  await clock.advance(0);
  let stopped = false;
  void s.stop().then(() => {
    stopped = true;
  });
  await flush();
  assert.equal(stopped, false);
  gates.shift()?.();
  await flush();
  assert.equal(stopped, true);
});

test('a poll that throws neither stops polling nor escapes as an unhandled rejection', async () => {
  const clock = new ManualClock();
  let polls = 0;
  const s = new ReadScheduler(clock, async () => {
    polls++;
    throw new Error('boom');
  });
  s.start(10);
  await clock.advance(25);
  assert.equal(polls, 3);
  await s.stop();
});

test('interval 0 means no polling; run() still serialises', async () => {
  const clock = new ManualClock();
  const s = new ReadScheduler(clock, async () => assert.fail('no poll expected'));
  s.start(0);
  await clock.advance(100000);
  const order: number[] = [];
  await Promise.all([s.run(async () => order.push(1)), s.run(async () => order.push(2))]);
  assert.deepEqual(order, [1, 2]);
  await s.stop();
});

test('a clock that steps back during a poll does not stretch the next wait beyond the interval', async () => {
  const clock = new ManualClock();
  let polls = 0;
  let now = 0;
  const stepping = { now: () => now, setTimeout: clock.setTimeout.bind(clock), clearTimeout: clock.clearTimeout.bind(clock) };
  const s = new ReadScheduler(stepping, async () => {
    polls++;
    if (polls === 1) now -= 3600 * 1000; // NTP steps the clock back an hour while the first poll runs
  });
  s.start(1000);
  await clock.advance(0);
  assert.equal(polls, 1);
  await clock.advance(1000);
  assert.equal(polls, 2, 'the next poll came one interval later, not an hour');
  await s.stop();
});
