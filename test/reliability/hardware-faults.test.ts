// Hardware faults during polling: the simulated device fails every Nth read (a CRC error on the 1-Wire or I2C
// reply). Each failure is reported (catchable error, red status), no value is sent for it, and polling goes on.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { registerBackend, unregisterBackend } from '../../src/lib/sensors/backends';
import type { SimFaults } from '../../src/lib/sensors/sim-faults';
import { createSimulatedBackend } from '../../src/lib/sensors/simulated-backend';
import { errorText, record, until } from '../helpers/hardware-nodes';
import { ManualClock } from '../helpers/manual-clock';
import { helper, nodeModule, type FlowNode } from '../helpers/node-red';

const sensorModule = nodeModule('telemetry-sensor');
const names: string[] = [];

/** Faults whose flag is true on every `every`-th read of it (the models read it once per reading). */
function everyNth(flag: 'crcNo' | 'corruptCrc', every: number): { faults: SimFaults; reads: () => number } {
  let reads = 0;
  const faults: SimFaults = {};
  Object.defineProperty(faults, flag, { enumerable: true, get: () => ++reads % every === 0 });
  return { faults, reads: () => reads };
}

async function poll(fields: Record<string, unknown>, faults: SimFaults) {
  const clock = new ManualClock();
  const name = `reliability-hw-${names.length + 1}`;
  names.push(name);
  registerBackend(name, createSimulatedBackend({ timers: clock, faults }));
  const flow: FlowNode[] = [
    { id: 's1', type: 'telemetry-sensor', backend: name, interval: '1', readOnInput: false, wires: [['out']], ...fields },
    { id: 'out', type: 'helper' },
  ];
  await helper.load(sensorModule, flow);
  const rec = record(helper.getNode('s1'), helper.getNode('out'));
  return { clock, rec };
}

describe('reliability: hardware faults every Nth read while polling', () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    names.splice(0).forEach(unregisterBackend);
  });

  for (const c of [
    { label: 'DS18B20, crc=NO every 5th read', fields: { sensorType: 'ds18b20' }, flag: 'crcNo' as const, every: 5, polls: 100, error: /CRC error/ },
    { label: 'SHT4x, corrupt CRC every 3rd read', fields: { sensorType: 'sht4x', address: '0x44' }, flag: 'corruptCrc' as const, every: 3, polls: 90, error: /CRC error/ },
  ]) {
    test(`${c.label}: ${c.polls} polls, every failure reported, every other reading sent, polling never stops`, async () => {
      const { faults, reads } = everyNth(c.flag, c.every);
      const { clock, rec } = await poll(c.fields, faults);
      await clock.advance(100); // the first poll, after the start-up delay
      for (let i = 1; i <= c.polls; i++) {
        await clock.advance(20); // the SHT4x measures for 10 ms
        await until(() => reads() >= i && rec.sent.length + rec.errors.length >= i, `poll ${i} settled`);
        if (i < c.polls) await clock.advance(980); // the next poll is due one interval after this one started
      }
      const failures = Math.floor(c.polls / c.every);
      await until(() => rec.sent.length + rec.errors.length >= c.polls, 'all polls settled');
      assert.equal(rec.errors.length, failures, `one error per failed read (${rec.errors.length})`);
      assert.equal(rec.sent.length, c.polls - failures, 'a value for every good read, none for a failed one');
      for (const e of rec.errors) assert.match(errorText(e), c.error);
      for (const m of rec.sent) {
        for (const v of Object.values(m.payload as Record<string, unknown>)) assert.ok(typeof v === 'number' && Number.isFinite(v));
      }
      // The status follows the truth: red after each failure, green again after the next good read.
      const reds = rec.status.filter((s) => s.fill === 'red').length;
      assert.equal(reds, failures, 'a red status per failure');
      assert.equal(rec.status.at(-1)?.fill === 'red', c.polls % c.every === 0, 'the last status matches the last read');
      // The timestamps show polling went on at its interval through every failure.
      const ts = rec.sent.map((m) => m.timestamp as number);
      assert.ok(ts.every((t, i) => i === 0 || t > ts[i - 1]));
      console.log(`[figures] hardware faults: ${c.label}: ${c.polls} polls, ${failures} injected faults, ${rec.errors.length} errors reported, ${rec.sent.length} readings sent`);
    });
  }
});
