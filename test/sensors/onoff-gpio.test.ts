// The real backend's GPIO lines against a stand-in for onoff over a model of sysfs (fake-onoff.ts): no hardware, no
// root. Closing a debounced input, glitches, and several nodes on one pin.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { HardwareBackend } from '../../src/lib/hardware/backend';
import { HardwareError } from '../../src/lib/hardware/hardware-error';
import { createHardwareBackend } from '../../src/lib/hardware/real-backend';
import { SimGpioChip } from '../../src/lib/hardware/sim-gpio';
import type { Bit, Edge, GpioLine } from '../../src/lib/hardware/types';
import { ManualClock } from '../helpers/manual-clock';
import { FakeGpioKernel } from './fake-onoff';
import { BOARDS, fakeSysfs } from './fake-sysfs';

// A legacy board: kernel line = BCM number, so the stand-in's lines read as the pins.
const sysfs = fakeSysfs(BOARDS.legacy);
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function rig(clock?: ManualClock): { kernel: FakeGpioKernel; backend: HardwareBackend } {
  const kernel = new FakeGpioKernel();
  const onoff = kernel.module();
  return { kernel, backend: createHardwareBackend({ sysfsRoot: sysfs.root, load: () => onoff, timers: clock }) };
}

function watched(line: GpioLine): { values: Bit[]; errors: Error[] } {
  const seen = { values: [] as Bit[], errors: [] as Error[] };
  line.watch((err, value) => (err ? seen.errors.push(err) : seen.values.push(value)));
  return seen;
}

describe('GPIO on real hardware (onoff stand-in)', () => {
  after(() => sysfs.remove());

  test('closing a debounced input during its quiet time: nothing reads the closed value file later (no EBADF from a timer)', async () => {
    const { kernel, backend } = rig();
    const line = await backend.openGpio(17, { direction: 'in', edge: 'both', debounceMs: 20 });
    const seen = watched(line);
    kernel.drive(17, 1); // an edge: the quiet time starts
    line.release(); // the node closes (redeploy) within it
    // onoff's own debounce timer would now read the closed file and throw EBADF, uncaught, from a timer.
    await wait(60);
    assert.deepEqual(seen, { values: [], errors: [] });
    assert.ok(kernel.writes.includes('unexport 17'));
    assert.equal(kernel.constructed[0][3].debounceTimeout, 0, 'onoff keeps no debounce timer of its own');
  });

  test('debounced: a bouncing press reports once, a short glitch back to the held level is no second edge', async () => {
    for (const edge of ['both', 'rising'] as const) {
      const { kernel, backend } = rig();
      const line = await backend.openGpio(5, { direction: 'in', edge, debounceMs: 20 });
      const seen = watched(line);
      for (const level of [1, 0, 1, 0, 1] as Bit[]) kernel.drive(5, level); // a press, with bounces
      await wait(60);
      assert.deepEqual(seen.values, [1], `${edge}: the press`);
      kernel.drive(5, 0); // a 0 glitch while held high, shorter than the debounce
      kernel.drive(5, 1);
      await wait(60);
      assert.deepEqual(seen.values, [1], `${edge}: the glitch is no edge`);
      kernel.drive(5, 0);
      await wait(60);
      kernel.drive(5, 1);
      await wait(60);
      assert.deepEqual(seen.values, edge === 'both' ? [1, 0, 1] : [1, 1], `${edge}: release and the next press`);
      line.release();
    }
  });

  test('the same reports as the simulation for the same level sequence (one debounce for both)', async () => {
    const sequence: Array<Bit | 'settle'> = [1, 0, 1, 'settle', 0, 1, 'settle', 0, 'settle', 1, 0, 'settle', 1, 'settle'];
    for (const edge of ['both', 'rising', 'falling'] as Edge[]) {
      for (const debounceMs of [0, 20]) {
        for (const activeLow of [false, true]) {
          const clock = new ManualClock();
          const { kernel, backend } = rig(clock);
          const chip = new SimGpioChip(clock);
          kernel.drive(6, 0);
          chip.drive(6, 0);
          const opts = { direction: 'in', edge, debounceMs, activeLow } as const;
          const real = watched(await backend.openGpio(6, opts));
          const sim = watched(chip.open(6, opts));
          for (const step of sequence) {
            if (step === 'settle') {
              await clock.advance(debounceMs + 5);
              continue;
            }
            kernel.drive(6, step);
            chip.drive(6, step);
          }
          assert.deepEqual(real.values, sim.values, `edge ${edge}, debounce ${debounceMs}, active low ${activeLow}`);
          assert.ok(sim.values.length > 0);
        }
      }
    }
  });

  test('a plain read of a watched pin writes no edge, and its release leaves the pin exported and watched', async () => {
    const { kernel, backend } = rig();
    const button = await backend.openGpio(17, { direction: 'in', edge: 'both' });
    const seen = watched(button);
    // A sensor node of type GPIO on the same pin: it opens, reads, and releases after a failed read.
    const reader = await backend.openGpio(17, { direction: 'in', reconfigureDirection: false });
    assert.equal(kernel.pin(17).edge, 'both', 'the edge file is as the watching line set it');
    assert.ok(!kernel.writes.includes('gpio17/edge none'));
    assert.equal(await reader.read(), 0);
    reader.release();
    assert.equal(kernel.exported.has(17), true, 'still exported for the button');
    kernel.drive(17, 1);
    assert.deepEqual(seen.values, [1], 'the button still sees edges');
    assert.equal(await button.read(), 1);
    button.release();
    assert.equal(kernel.exported.has(17), false, 'unexported with the last line');
    assert.equal(kernel.writes.filter((w) => w === 'unexport 17').length, 1);
  });

  test('lines of one pin with different active low each see their own logical level', async () => {
    const { kernel, backend } = rig();
    const plain = await backend.openGpio(22, { direction: 'in', edge: 'both' });
    const inverted = await backend.openGpio(22, { direction: 'in', edge: 'both', activeLow: true });
    const seenPlain = watched(plain);
    const seenInverted = watched(inverted);
    kernel.drive(22, 1);
    assert.deepEqual([await plain.read(), await inverted.read()], [1, 0]);
    assert.deepEqual([seenPlain.values, seenInverted.values], [[1], [0]]);
    plain.release();
    inverted.release();
  });

  test('the other direction on a pin another node holds is refused, naming the pin and the holder; the pin is left as it is', async () => {
    const { kernel, backend } = rig();
    const relay = await backend.openGpio(6, { direction: 'high', reconfigureDirection: false });
    const isInUse = (held: string) => (e: unknown) =>
      e instanceof HardwareError && e.key === 'busy' && e.params.pin === 6 && new RegExp(`^GPIO 6 is in use as an ${held} by another node`).test(e.message);
    await assert.rejects(backend.openGpio(6, { direction: 'in', reconfigureDirection: false }), isInUse('output'));
    await assert.rejects(backend.openGpio(6, { direction: 'in', edge: 'both' }), isInUse('output'));
    assert.equal(kernel.pin(6).direction, 'out', 'still an output');
    assert.equal(kernel.level(6), 1, 'still high');
    await relay.write(0);
    assert.equal(kernel.level(6), 0, 'its node can still write it');
    // A second output on the pin shares it without reconfiguring it.
    const second = await backend.openGpio(6, { direction: 'low' });
    await relay.write(1);
    assert.equal(kernel.level(6), 1, 'the second opening did not drive it low');
    relay.release();
    second.release();
    const input = await backend.openGpio(6, { direction: 'in' });
    await assert.rejects(backend.openGpio(6, { direction: 'out' }), isInUse('input'));
    input.release();
  });
});
