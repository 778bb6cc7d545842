import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimI2cBus } from '../../src/lib/hardware/sim-i2c';
import { Ads1115, adsConfig, type AdsSettings } from '../../src/lib/sensors/ads1115';
import { Ads1115Sim } from '../../src/lib/sensors/ads1115-sim';
import { FixedEnvironment } from '../../src/lib/sensors/sim-environment';
import type { SimFaults } from '../../src/lib/sensors/sim-faults';
import { noWait } from '../helpers/manual-clock';
import { expectFault } from './expect-fault';

function rig(voltages: number[], faults: SimFaults = {}, busyReads = 3) {
  const sim = new Ads1115Sim(new FixedEnvironment({ temperature: 0, humidity: 0, pressure: 0, illuminance: 0, voltages }), faults, busyReads);
  const bus = new SimI2cBus(1).attach(0x48, sim);
  return { sim, read: (s: AdsSettings) => new Ads1115(bus, 0x48, noWait, s).read() };
}

test('config word: AIN0 vs GND, +-4.096 V, 128 SPS, single shot, comparator off = 0xC383', () => {
  assert.equal(adsConfig({ channel: 'a0', gain: 4.096, rate: 128 }), 0xc383);
  // The datasheet reset value 0x8583 is A0-A1, +-2.048 V, single shot, 128 SPS: ours differs only in OS.
  assert.equal(adsConfig({ channel: 'a0-a1', gain: 2.048, rate: 128 }) & 0x7fff, 0x8583 & 0x7fff);
  assert.equal(adsConfig({ channel: 'a3', gain: 0.256, rate: 860 }), 0x8000 | (7 << 12) | (5 << 9) | 0x100 | (7 << 5) | 3);
  assert.throws(() => adsConfig({ channel: 'a0', gain: 3.3, rate: 128 }), RangeError);
});

test('1.000 V on AIN0 at +-2.048 V is code 16000 and reads back as 1.000 V (62.5 uV per LSB)', async () => {
  const r = await rig([1.0, 0, 0, 0]).read({ channel: 'a0', gain: 2.048, rate: 128 });
  assert.equal(r.values.voltage, 1.0);
  assert.deepEqual(r.units, { voltage: 'V' });
});

test('mux selects the input: AIN2 alone, and differential AIN0-AIN1 may be negative', async () => {
  const { read } = rig([0.5, 1.25, 2.5, 0.1]);
  assert.ok(Math.abs((await read({ channel: 'a2', gain: 4.096, rate: 128 })).values.voltage - 2.5) < 0.000125);
  assert.ok(Math.abs((await read({ channel: 'a0-a1', gain: 4.096, rate: 128 })).values.voltage + 0.75) < 0.000125);
  assert.ok(Math.abs((await read({ channel: 'a2-a3', gain: 4.096, rate: 128 })).values.voltage - 2.4) < 0.000125);
});

test('beyond full scale the code clips at 0x7FFF / 0x8000: refused, naming the gain, not passed on as 2.047937 V', async () => {
  const high = await expectFault(rig([3.0, 0, 0, 0]).read({ channel: 'a0', gain: 2.048, rate: 860 }));
  assert.equal(high.key, 'badReading');
  assert.equal(high.code, 'ERANGE');
  assert.match(high.message, /ADS1115 at 0x48 on bus 1: a0 at or beyond \+2\.048 V, the full scale of this gain: choose a larger one/);
  const low = await expectFault(rig([0, 3.0, 0, 0]).read({ channel: 'a0-a1', gain: 2.048, rate: 860 }));
  assert.match(low.message, /a0-a1 at or beyond -2\.048 V/);
  const r = await rig([2.04, 0, 0, 0]).read({ channel: 'a0', gain: 2.048, rate: 860 });
  assert.ok(Math.abs(r.values.voltage - 2.04) < 0.0001, 'just inside full scale still reads');
});

test('the driver waits for the OS bit: a stuck conversion times out with no value', async () => {
  const err = await expectFault(rig([1, 0, 0, 0], { stuckBusy: true }).read({ channel: 'a0', gain: 4.096, rate: 8 }));
  assert.equal(err.key, 'timeout');
  assert.match(err.message, /ADS1115 at 0x48 on bus 1: conversion did not finish/);
});

test('many busy polls still give the finished conversion', async () => {
  const { sim, read } = rig([1.5, 0, 0, 0], {}, 20);
  const r = await read({ channel: 'a0', gain: 2.048, rate: 250 });
  assert.equal(r.values.voltage, 1.5);
  assert.equal(sim.conversions, 1);
});

test('NACK: no device at 0x48 on bus 1', async () => {
  const err = await expectFault(rig([1], { nack: true }).read({ channel: 'a0', gain: 4.096, rate: 128 }));
  assert.match(err.message, /^no device at 0x48 on bus 1/);
});
