import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimI2cBus } from '../../src/lib/hardware/sim-i2c';
import { Bh1750, bh1750Lux } from '../../src/lib/sensors/bh1750';
import { Bh1750Sim } from '../../src/lib/sensors/bh1750-sim';
import { FixedEnvironment } from '../../src/lib/sensors/sim-environment';
import { noWait } from '../helpers/manual-clock';
import { expectFault } from './expect-fault';

function rig(lux = 300) {
  const env = new FixedEnvironment({ temperature: 0, humidity: 0, pressure: 0, illuminance: lux, voltages: [] });
  const sim = new Bh1750Sim(env, {});
  return { env, sim, bus: new SimI2cBus(1).attach(0x23, sim) };
}

test('datasheet example: 0x8390 (33680) in high resolution mode is 28067 lx', async () => {
  assert.equal(Math.round(bh1750Lux(0x8390, 'high', 69)), 28067);
  const { sim, bus } = rig();
  sim.raw = 0x8390;
  const r = await new Bh1750(bus, 0x23, noWait).read();
  assert.equal(Math.round(r.values.illuminance), 28067);
  assert.deepEqual(r.units, { illuminance: 'lx' });
});

test('MTreg reaches the chip through its two opcodes and scales the result back', async () => {
  const { sim, bus } = rig(123.4);
  const r = await new Bh1750(bus, 0x23, noWait, 'high', 138).read();
  assert.equal(sim.mtreg, 138);
  assert.ok(Math.abs(r.values.illuminance - 123.4) < 0.5, String(r.values.illuminance));
});

test('high2 (0.5 lx) mode halves the count back; one-time mode powers the chip down', async () => {
  const { sim, bus } = rig(50.25);
  const r = await new Bh1750(bus, 0x23, noWait, 'high2').read();
  assert.ok(Math.abs(r.values.illuminance - 50.25) < 0.25, String(r.values.illuminance));
  assert.equal(sim.powered, false);
  assert.equal(sim.measurements, 1);
});

test('bright light saturates at 65535 counts: refused as over range (its value is unknown), never wrapped or passed on', async () => {
  const { bus } = rig(1e6);
  const err = await expectFault(new Bh1750(bus, 0x23, noWait).read());
  assert.equal(err.key, 'badReading');
  assert.equal(err.code, 'ERANGE');
  assert.match(err.message, /BH1750 at 0x23 on bus 1: over range \(54613 lx or more\): use a lower MTreg/);
  const dimmer = rig(54000).bus;
  assert.equal((await new Bh1750(dimmer, 0x23, noWait).read()).values.illuminance, bh1750Lux(64800, 'high', 69), 'just below the top still reads');
});

test('an MTreg outside 31..254 is refused', () => {
  const { bus } = rig();
  assert.throws(() => new Bh1750(bus, 0x23, noWait, 'high', 30), RangeError);
  assert.throws(() => new Bh1750(bus, 0x23, noWait, 'high', 255), RangeError);
});

test('no device at 0x5c: the error names address and bus', async () => {
  const { bus } = rig();
  const err = await expectFault(new Bh1750(bus, 0x5c, noWait).read());
  assert.equal(err.key, 'noDevice');
  assert.match(err.message, /^no device at 0x5c on bus 1/);
});
