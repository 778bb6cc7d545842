import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HardwareError } from '../../src/lib/hardware/hardware-error';
import { SimGpioChip } from '../../src/lib/hardware/sim-gpio';
import type { Bit } from '../../src/lib/hardware/types';
import { ManualClock } from '../helpers/manual-clock';

test('edges: rising, falling and both report the logical value', () => {
  const chip = new SimGpioChip();
  const seen: Record<string, Bit[]> = { rising: [], falling: [], both: [] };
  for (const edge of ['rising', 'falling', 'both'] as const) chip.open(5, { direction: 'in', edge }).watch((_e, v) => seen[edge].push(v));
  for (const level of [1, 0, 1, 1, 0] as Bit[]) chip.drive(5, level);
  assert.deepEqual(seen, { rising: [1, 1], falling: [0, 0], both: [1, 0, 1, 0] });
});

test('an input nothing has driven idles inactive: high behind a pull-up when active low, low otherwise', async () => {
  const chip = new SimGpioChip();
  const button = chip.open(17, { direction: 'in', activeLow: true });
  assert.equal(chip.level(17), 1);
  assert.equal(await button.read(), 0, 'not pressed');
  assert.equal(await chip.open(22, { direction: 'in' }).read(), 0);
  chip.drive(23, 0);
  assert.equal(await chip.open(23, { direction: 'in', activeLow: true }).read(), 1, 'a level already driven is kept');
});

test('active low inverts reads and edges', async () => {
  const chip = new SimGpioChip();
  const line = chip.open(6, { direction: 'in', edge: 'rising', activeLow: true });
  const seen: Bit[] = [];
  line.watch((_e, v) => seen.push(v));
  chip.drive(6, 1);
  assert.equal(await line.read(), 0);
  chip.drive(6, 0); // logical rising edge
  assert.deepEqual(seen, [1]);
});

test('debounce: a burst of bounces reports the settled level once, after the quiet time', async () => {
  const clock = new ManualClock();
  const chip = new SimGpioChip(clock);
  const seen: Bit[] = [];
  chip.open(13, { direction: 'in', edge: 'both', debounceMs: 20 }).watch((_e, v) => seen.push(v));
  for (const level of [1, 0, 1, 0, 1] as Bit[]) {
    chip.drive(13, level);
    await clock.advance(5);
  }
  assert.deepEqual(seen, [], 'nothing while bouncing');
  await clock.advance(15);
  assert.deepEqual(seen, [1]);
});

test('EBUSY and EINVAL come back in plain words', () => {
  const chip = new SimGpioChip();
  chip.markBusy(4);
  assert.throws(() => chip.open(4, { direction: 'in' }), (e: unknown) => e instanceof HardwareError && e.key === 'busy');
  assert.throws(() => chip.open(99, { direction: 'in' }), (e: unknown) => e instanceof HardwareError && e.key === 'invalidPin');
});

test('writing an input is EPERM', async () => {
  const line = new SimGpioChip().open(7, { direction: 'in' });
  await assert.rejects(line.write(1), (e: unknown) => e instanceof HardwareError && e.key === 'noPermission');
});

test('reconfigureDirection false keeps an exported output at its level; "out" on a fresh pin starts low', async () => {
  const chip = new SimGpioChip();
  const first = chip.open(21, { direction: 'out', reconfigureDirection: false });
  assert.equal(chip.level(21), 0);
  await first.write(1);
  const second = chip.open(21, { direction: 'out', reconfigureDirection: false });
  assert.equal(chip.level(21), 1, 'no glitch when the pin is opened again');
  const shared = chip.open(21, { direction: 'out' });
  assert.equal(chip.level(21), 1, 'a pin another line holds is shared as it is, not reconfigured');
  for (const l of [first, second, shared]) l.release();
  const third = chip.open(21, { direction: 'out' });
  assert.equal(chip.level(21), 0, 'reconfiguring writes the direction, which drives the pin low');
  third.release();
});

test('debounce: a glitch shorter than the quiet time, back to the held level, is no second edge', async () => {
  for (const edge of ['both', 'rising'] as const) {
    const clock = new ManualClock();
    const chip = new SimGpioChip(clock);
    const seen: Bit[] = [];
    chip.open(5, { direction: 'in', edge, debounceMs: 20 }).watch((_e, v) => seen.push(v));
    chip.drive(5, 1); // a press, held
    await clock.advance(100);
    assert.deepEqual(seen, [1], edge);
    chip.drive(5, 0); // a 2 ms glitch while held high
    await clock.advance(2);
    chip.drive(5, 1);
    await clock.advance(100);
    assert.deepEqual(seen, [1], `${edge}: no second rising edge`);
    chip.drive(5, 0);
    await clock.advance(100);
    chip.drive(5, 1);
    await clock.advance(100);
    assert.deepEqual(seen, edge === 'both' ? [1, 0, 1] : [1, 1], `${edge}: a real release and press still count`);
  }
});

test('two lines on one pin: releasing one leaves the pin exported and the other watching', async () => {
  const clock = new ManualClock();
  const chip = new SimGpioChip(clock);
  const seen: Bit[] = [];
  const button = chip.open(9, { direction: 'in', edge: 'both', debounceMs: 10 });
  button.watch((_e, v) => seen.push(v));
  const reader = chip.open(9, { direction: 'in', reconfigureDirection: false });
  assert.equal(chip.openLines(), 2);
  reader.release();
  assert.equal(chip.isExported(9), true, 'still exported for the button');
  assert.equal(chip.watcherCount(9), 1);
  chip.drive(9, 1);
  await clock.advance(10);
  assert.deepEqual(seen, [1]);
  button.release();
  assert.equal(chip.isExported(9), false, 'unexported with the last line');
  assert.equal(chip.openLines(), 0);
});

test('an output is not turned into an input, nor an input into an output: refused, naming the pin and the holder', async () => {
  const chip = new SimGpioChip();
  const relay = chip.open(6, { direction: 'high', reconfigureDirection: false });
  const inUse = (held: string) => (e: unknown) =>
    e instanceof HardwareError && e.key === 'busy' && e.params.held === held && new RegExp(`^GPIO 6 is in use as an ${held} by another node`).test(e.message);
  assert.throws(() => chip.open(6, { direction: 'in', reconfigureDirection: false }), inUse('output'));
  assert.equal(chip.direction(6), 'out');
  await relay.write(0);
  assert.equal(chip.level(6), 0, 'the holder still writes it');
  relay.release();
  const button = chip.open(6, { direction: 'in', edge: 'both' });
  assert.throws(() => chip.open(6, { direction: 'out' }), inUse('input'));
  assert.equal(chip.direction(6), 'in');
  button.release();
  assert.equal(chip.openLines(), 0, 'a refused opening holds nothing');
});

test('release unwatches, unexports and stops a pending debounce timer', async () => {
  const clock = new ManualClock();
  const chip = new SimGpioChip(clock);
  const seen: Bit[] = [];
  const line = chip.open(8, { direction: 'in', edge: 'both', debounceMs: 10 });
  line.watch((_e, v) => seen.push(v));
  chip.drive(8, 1);
  assert.equal(chip.watcherCount(8), 1);
  line.release();
  line.release();
  assert.equal(chip.isExported(8), false);
  assert.equal(chip.watcherCount(8), 0);
  assert.equal(clock.size, 0);
  await clock.advance(100);
  chip.drive(8, 0);
  assert.deepEqual(seen, []);
  await assert.rejects(line.read());
});
