import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { createHardwareBackend } from '../../src/lib/hardware/real-backend';
import { registerBackend, unregisterBackend } from '../../src/lib/sensors/backends';
import { createSimulatedBackend } from '../../src/lib/sensors/simulated-backend';
import { errorText, gateGpio, record, settle, until } from '../helpers/hardware-nodes';
import { ManualClock } from '../helpers/manual-clock';
import { helper, nodeModule, type FlowNode } from '../helpers/node-red';
import { BOARDS, fakeSysfs } from '../sensors/fake-sysfs';

const gpioInModule = nodeModule('telemetry-gpio-in');
const names: string[] = [];

function flow(fields: Record<string, unknown>): FlowNode[] {
  return [
    { id: 'g1', type: 'telemetry-gpio-in', wires: [['out']], ...fields },
    { id: 'out', type: 'helper' },
  ];
}

/** A simulated backend on a manual clock whose pin opens only when the test is listening. */
async function start(fields: Record<string, unknown>) {
  const clock = new ManualClock();
  const sim = createSimulatedBackend({ timers: clock });
  const gated = gateGpio(sim);
  const name = `test-gpio-in-${names.length + 1}`;
  names.push(name);
  registerBackend(name, gated.backend);
  await helper.load(gpioInModule, flow({ backend: name, ...fields }));
  const rec = record(helper.getNode('g1'), helper.getNode('out'));
  gated.release();
  await until(() => rec.status.find((s) => s.text === 'waiting'), 'the pin to be open');
  return { clock, sim, rec };
}

describe('telemetry-gpio-in', () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    names.splice(0).forEach(unregisterBackend);
  });

  test('reads once on deploy, then one message per edge with payload, topic, pin, edge and timestamp', async () => {
    const { clock, sim, rec } = await start({ pin: '17', edge: 'both', readOnDeploy: true });
    await clock.advance(99);
    assert.equal(rec.sent.length, 0, 'the first message waits until the flow has started');
    await clock.advance(1);
    await until(() => rec.sent.length === 1, 'initial reading');
    assert.deepEqual(rec.sent[0], { _msgid: rec.sent[0]._msgid, payload: 0, topic: 'gpio/17', pin: 17, edge: 'initial', timestamp: clock.now() });
    sim.gpio.drive(17, 1);
    sim.gpio.drive(17, 0);
    await until(() => rec.sent.length === 3, 'two edges');
    assert.deepEqual(rec.sent.slice(1).map((m) => [m.payload, m.edge]), [[1, 'rising'], [0, 'falling']]);
    await until(() => rec.status.at(-1)?.text === '0', 'status shows the level');
  });

  test('rising edge only, active low, debounced: a bouncing press gives one message', async () => {
    const { clock, sim, rec } = await start({ pin: '5', edge: 'rising', activeLow: true, debounce: '20', readOnDeploy: false });
    sim.gpio.drive(5, 1); // idle high with active low: logical 0
    await clock.advance(50);
    for (const level of [0, 1, 0, 1, 0] as const) {
      sim.gpio.drive(5, level); // the press pulls the pin low, with bounces
      await clock.advance(3);
    }
    await settle();
    assert.equal(rec.sent.length, 0, 'nothing while bouncing');
    await clock.advance(20);
    await until(() => rec.sent.length === 1, 'the press');
    assert.equal(rec.sent[0].payload, 1);
    assert.equal(rec.sent[0].edge, 'rising');
    sim.gpio.drive(5, 1); // release: a falling edge, not reported
    await clock.advance(50);
    await settle();
    assert.equal(rec.sent.length, 1);
  });

  test('debounced: a glitch back to the held level while a button is held sends no second "rising"', async () => {
    for (const edge of ['both', 'rising']) {
      const { clock, sim, rec } = await start({ pin: '5', edge, debounce: '20', readOnDeploy: false });
      sim.gpio.drive(5, 1); // a press, held
      await clock.advance(100);
      await until(() => rec.sent.length === 1, 'the press');
      sim.gpio.drive(5, 0); // a 2 ms glitch while still held
      await clock.advance(2);
      sim.gpio.drive(5, 1);
      await clock.advance(100);
      await settle();
      assert.deepEqual(rec.sent.map((m) => `${String(m.payload)}/${String(m.edge)}`), ['1/rising'], edge);
      await helper.unload();
    }
  });

  test('a pin a GPIO out node drives: "in use as an output", retried; the output is not switched to an input', async () => {
    const clock = new ManualClock();
    const sim = createSimulatedBackend({ timers: clock });
    const gated = gateGpio(sim); // the same simulated pins; the input opens once the output has
    names.push('test-gpio-in-shared', 'test-gpio-in-shared-gated');
    registerBackend('test-gpio-in-shared', sim);
    registerBackend('test-gpio-in-shared-gated', gated.backend);
    await helper.load(
      [gpioInModule, nodeModule('telemetry-gpio-out')],
      [{ id: 'o1', type: 'telemetry-gpio-out', pin: '6', initial: '1', backend: 'test-gpio-in-shared' }, ...flow({ backend: 'test-gpio-in-shared-gated', pin: '6' })],
    );
    const outRec = record(helper.getNode('o1'));
    await until(() => sim.gpio.level(6) === 1 && sim.gpio.openLines() === 1, 'the output is on');
    const rec = record(helper.getNode('g1'), helper.getNode('out'));
    gated.release();
    const e = await until(() => rec.errors[0], 'the refusal');
    assert.equal(errorText(e), 'GPIO 6 is in use as an output by another node (a GPIO out node): an input cannot share it; tried again until it is free');
    await until(() => rec.status.find((s) => s.fill === 'red' && s.text === 'pin in use'), 'red status');
    assert.equal(sim.gpio.direction(6), 'out');
    assert.equal(sim.gpio.level(6), 1, 'the output kept its level');
    await clock.advance(4000);
    await settle();
    assert.equal(rec.errors.length, 1, 'retried quietly');
    assert.equal(outRec.errors.length, 0);
    assert.equal(rec.sent.length, 0);
  });

  test('EBUSY: red status "busy" and a catchable error naming the pin', async () => {
    const clock = new ManualClock();
    const sim = createSimulatedBackend({ timers: clock });
    sim.gpio.markBusy(4);
    const gated = gateGpio(sim);
    names.push('test-gpio-in-busy');
    registerBackend('test-gpio-in-busy', gated.backend);
    await helper.load(gpioInModule, flow({ backend: 'test-gpio-in-busy', pin: '4' }));
    const rec = record(helper.getNode('g1'), helper.getNode('out'));
    gated.release();
    const e = await until(() => rec.errors[0], 'error');
    assert.match(errorText(e), /^GPIO 4 is busy/);
    assert.deepEqual(e.msg, { topic: 'gpio/4', pin: 4 });
    await until(() => rec.status.find((s) => s.fill === 'red' && s.text === 'busy'), 'red status');
    assert.equal(rec.sent.length, 0);
  });

  test('a pin busy at deploy is tried again with growing delays, the error logged once; once free it works', async () => {
    const clock = new ManualClock();
    const sim = createSimulatedBackend({ timers: clock });
    sim.gpio.markBusy(5);
    let attempts = 0;
    const counting = { ...sim, openGpio: (pin: number, opts: Parameters<typeof sim.openGpio>[1]) => (attempts++, sim.openGpio(pin, opts)) };
    names.push('test-gpio-in-retry');
    registerBackend('test-gpio-in-retry', counting);
    await helper.load(gpioInModule, flow({ backend: 'test-gpio-in-retry', pin: '5', readOnDeploy: false }));
    const rec = record(helper.getNode('g1'), helper.getNode('out'));
    await until(() => attempts === 1 && rec.status.find((s) => s.text === 'busy'), 'first attempt');
    await clock.advance(999);
    assert.equal(attempts, 1, 'no retry before 1 s');
    await clock.advance(1);
    await until(() => attempts === 2, 'retry after 1 s');
    await clock.advance(1999);
    assert.equal(attempts, 2, 'the next delay is 2 s');
    await clock.advance(1);
    await until(() => attempts === 3, 'retry after 2 s more');
    assert.equal(rec.errors.length, 1, 'the same error is reported once');
    sim.gpio.markFree(5);
    await clock.advance(4000);
    await until(() => rec.status.find((s) => s.text === 'waiting'), 'open once the pin is free');
    sim.gpio.drive(5, 1);
    await until(() => rec.sent.find((m) => m.payload === 1), 'an edge after the late open');
  });

  test('close unwatches and unexports the pin', async () => {
    const { clock, sim, rec } = await start({ pin: '27', edge: 'both' });
    await clock.advance(100);
    await until(() => rec.sent.length === 1, 'initial reading');
    assert.equal(sim.gpio.isExported(27), true);
    assert.equal(sim.gpio.watcherCount(27), 1);
    await helper.unload();
    assert.equal(sim.gpio.isExported(27), false);
    assert.equal(sim.gpio.watcherCount(27), 0);
    sim.gpio.drive(27, 1);
    await settle();
    assert.equal(rec.sent.length, 1);
  });

  test('on real hardware without onoff: "onoff is not installed", red status, no crash', async () => {
    const fake = fakeSysfs(BOARDS.pi5);
    try {
      const missing = (id: string): never => {
        throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
      };
      const gated = gateGpio(createHardwareBackend({ sysfsRoot: fake.root, load: missing }));
      names.push('test-gpio-in-noonoff');
      registerBackend('test-gpio-in-noonoff', gated.backend);
      await helper.load(gpioInModule, flow({ backend: 'test-gpio-in-noonoff', pin: '17' }));
      const rec = record(helper.getNode('g1'), helper.getNode('out'));
      gated.release();
      const e = await until(() => rec.errors[0], 'error');
      assert.equal(errorText(e), 'onoff is not installed (GPIO needs it; simulated mode works without)');
      await until(() => rec.status.find((s) => s.fill === 'red' && s.text === 'module missing'), 'red status');
    } finally {
      fake.remove();
    }
  });
});
