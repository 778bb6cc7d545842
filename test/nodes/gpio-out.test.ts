import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { HardwareBackend } from '../../src/lib/hardware/backend';
import { describeFault } from '../../src/lib/hardware/describe-fault';
import type { Bit } from '../../src/lib/hardware/types';
import { registerBackend, unregisterBackend } from '../../src/lib/sensors/backends';
import { createSimulatedBackend, type SimulatedBackend } from '../../src/lib/sensors/simulated-backend';
import { errorText, record, settle, until } from '../helpers/hardware-nodes';
import { helper, nodeModule, type FlowNode } from '../helpers/node-red';
import { parseJson } from '../../src/lib/json';

const gpioOutModule = nodeModule('telemetry-gpio-out');
const names: string[] = [];

function backend(): { name: string; sim: SimulatedBackend } {
  const sim = createSimulatedBackend();
  const name = `test-gpio-out-${names.length + 1}`;
  names.push(name);
  registerBackend(name, sim);
  return { name, sim };
}

async function load(fields: Record<string, unknown>) {
  const flow: FlowNode[] = [{ id: 'o1', type: 'telemetry-gpio-out', ...fields }];
  await helper.load(gpioOutModule, flow);
  const node = helper.getNode('o1');
  return { node, rec: record(node) };
}

/** Every physical level change on `pin` from now on. */
function transitions(sim: SimulatedBackend, pin: number): Bit[] {
  const seen: Bit[] = [];
  sim.gpio.probe((p, level) => {
    if (p === pin) seen.push(level);
  });
  return seen;
}

describe('telemetry-gpio-out', () => {
  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async () => {
    await helper.unload();
    names.splice(0).forEach(unregisterBackend);
  });

  test('accepts 0/1, true/false and "on"/"off" (any case)', async () => {
    const { name, sim } = backend();
    const { node, rec } = await load({ backend: name, pin: '23', initial: '0' });
    const inputs: Array<[unknown, Bit]> = [[1, 1], [0, 0], [true, 1], [false, 0], ['on', 1], ['OFF', 0], ['1', 1]];
    for (const [payload, level] of inputs) {
      const before = rec.errors.length;
      node.receive({ payload });
      await until(() => sim.gpio.level(23) === level && rec.status.at(-1)?.text === (level ? 'on' : 'off'), `level ${level} for ${JSON.stringify(payload)}`);
      assert.equal(rec.errors.length, before);
    }
  });

  test('anything else is a catchable error and the pin stays as it was', async () => {
    const { name, sim } = backend();
    const { node, rec } = await load({ backend: name, pin: '24', initial: '1' });
    await until(() => sim.gpio.level(24) === 1, 'initial level');
    const seen = transitions(sim, 24);
    const bad: unknown[] = ['maybe', 2, null, { on: true }, '', -1];
    for (const payload of bad) node.receive({ payload, _msgid: `bad-${String(bad.indexOf(payload))}` });
    await until(() => rec.errors.length === bad.length, 'one error per bad message');
    assert.match(errorText(rec.errors[0]), /payload must be 0\/1, true\/false or "on"\/"off" \(got "maybe"\); the pin was not changed/);
    assert.equal((rec.errors[0].msg as { _msgid: string })._msgid, 'bad-0');
    assert.equal(sim.gpio.level(24), 1);
    assert.deepEqual(seen, []);
  });

  test('a circular, BigInt or huge payload: a short error naming its type, the pin unchanged', async () => {
    const { name, sim } = backend();
    const { node, rec } = await load({ backend: name, pin: '25', initial: '1' });
    await until(() => sim.gpio.level(25) === 1, 'initial level');
    const circular: Record<string, unknown> = { on: 'maybe' };
    circular.self = circular;
    const bad: Array<[unknown, RegExp]> = [
      [circular, /\(got object \{"on":"maybe","self":\[Circular\]\}\)/],
      [{ big: 10n ** 30n }, /\(got object \{"big":1000000000000000000000000000000n\}\)/],
      [{ data: 'x'.repeat(1_000_000) }, /\(got object \{"data":"x{31}…\)/],
      [Array.from({ length: 100_000 }, (_, i) => i), /\(got array \[0,1,2,3,[0-9,]*…\)/],
    ];
    bad.forEach(([payload], i) => node.receive({ payload, _msgid: `bad-${i}` }));
    await until(() => rec.errors.length === bad.length, 'one error per bad message');
    bad.forEach(([, text], i) => {
      const e = rec.errors.find((x) => (x.msg as { _msgid?: string } | undefined)?._msgid === `bad-${i}`);
      assert.ok(e, `error for bad-${i} reported with its message`);
      assert.match(errorText(e), text);
      assert.match(errorText(e), /the pin was not changed$/);
      assert.ok(errorText(e).length < 150, `short: ${errorText(e).length} characters`);
    });
    assert.equal(sim.gpio.level(25), 1);
  });

  test('the initial write fails: the line is released, and the next message opens it again and works', async () => {
    const { name, sim } = backend();
    let failWrites = 1;
    const flaky: HardwareBackend = {
      ...sim,
      openGpio: async (pin, opts) => {
        const l = await sim.openGpio(pin, opts);
        return {
          ...l,
          write: async (value) => {
            if (failWrites-- > 0) throw describeFault(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }), { kind: 'gpio', pin });
            return l.write(value);
          },
        };
      },
    };
    const flakyName = `${name}-flaky`;
    names.push(flakyName);
    registerBackend(flakyName, flaky);
    const { node, rec } = await load({ backend: flakyName, pin: '26', initial: '1' });
    await until(() => rec.errors.length === 1, 'the failed initial write is reported');
    assert.match(errorText(rec.errors[0]), /I\/O error/);
    assert.equal(sim.gpio.openLines(), 0, 'the line of the failed opening was released');
    assert.equal(sim.gpio.isExported(26), false);
    node.receive({ payload: 0 });
    await until(() => rec.status.at(-1)?.text === 'off', 'the next message works');
    assert.equal(sim.gpio.openLines(), 1, 'one line: the new one');
    await helper.unload();
    assert.equal(sim.gpio.openLines(), 0);
  });

  test('"keep": a redeploy does not toggle the output (reconfigureDirection false)', async () => {
    const { name, sim } = backend();
    const first = await load({ backend: name, pin: '12', initial: 'keep' });
    first.node.receive({ payload: 'on' });
    await until(() => sim.gpio.level(12) === 1, 'on');
    const seen = transitions(sim, 12);
    await helper.unload();
    assert.equal(sim.gpio.isExported(12), false, 'close unexports');
    await load({ backend: name, pin: '12', initial: 'keep' });
    await settle();
    assert.equal(sim.gpio.level(12), 1);
    assert.deepEqual(seen, [], 'no transition across the redeploy');
  });

  test('an initial level with active low comes up without a glitch', async () => {
    const { name, sim } = backend();
    const seen = transitions(sim, 16);
    const { rec } = await load({ backend: name, pin: '16', initial: '1', activeLow: true });
    await until(() => rec.status.at(-1)?.text === 'on', 'status on');
    assert.equal(sim.gpio.level(16), 0, 'logical 1 is physical 0 when active low');
    assert.deepEqual(seen, [], 'the pin never went high');
  });

  test('"keep" with active low on a pin that is not an output yet: it comes up high (off), an active-low relay stays off', async () => {
    const { name, sim } = backend();
    sim.gpio.drive(7, 1); // the relay board's pull-up holds the input high: relay off
    const seen = transitions(sim, 7);
    const { rec } = await load({ backend: name, pin: '7', initial: 'keep', activeLow: true });
    await until(() => rec.status.at(-1)?.text === 'off', 'status off');
    assert.equal(sim.gpio.direction(7), 'out');
    assert.equal(sim.gpio.level(7), 1, 'physically high: logically off');
    assert.deepEqual(seen, [], 'the pin never went low');
  });

  test('"keep" with active low on a pin that is already an output: its level is kept, whatever it is', async () => {
    const { name, sim } = backend();
    const first = await load({ backend: name, pin: '8', initial: '1', activeLow: true });
    await until(() => first.rec.status.at(-1)?.text === 'on', 'on');
    assert.equal(sim.gpio.level(8), 0);
    await helper.unload();
    const seen = transitions(sim, 8);
    const { rec } = await load({ backend: name, pin: '8', initial: 'keep', activeLow: true });
    await until(() => rec.status.at(-1)?.text === 'on', 'still on after the redeploy');
    assert.deepEqual(seen, []);
  });

  test('a done() that throws (a message Node-RED cannot clone for a Complete node): done runs once, the failure is reported', async () => {
    const { name, sim } = backend();
    await helper.load(
      [gpioOutModule],
      [
        { id: 'o1', type: 'telemetry-gpio-out', pin: '9', initial: '0', backend: name },
        { id: 'done1', type: 'complete', scope: ['o1'], uncaught: false, wires: [['completed']] },
        { id: 'completed', type: 'helper' },
      ],
    );
    const node = helper.getNode('o1');
    const rec = record(node);
    const calls: Array<Error | undefined> = [];
    const target = node as unknown as { _complete: (msg: object, err?: Error) => void };
    const complete = target._complete.bind(node);
    target._complete = (msg, err) => {
      calls.push(err);
      complete(msg, err);
    };
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      // 400 KB of brackets parse fine, but Node-RED's recursive clone for the Complete node overflows the stack.
      const nested = parseJson(`${'['.repeat(200000)}${']'.repeat(200000)}`);
      node.receive({ payload: 1, nested });
      await until(() => rec.errors.length === 1, 'the failure is reported');
      await settle();
      assert.equal(sim.gpio.level(9), 1, 'the pin was set');
      assert.deepEqual(calls, [undefined], 'done() called exactly once, without an error');
      assert.match(errorText(rec.errors[0]), /^a message could not be passed back to the flow: Maximum call stack size exceeded/);
      node.receive({ payload: 0 });
      await until(() => sim.gpio.level(9) === 0 && rec.status.at(-1)?.text === 'off', 'the next message works');
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('EBUSY at deploy: red status and error; each message retries and fails with done(err)', async () => {
    const { name, sim } = backend();
    sim.gpio.markBusy(18);
    const { node, rec } = await load({ backend: name, pin: '18' });
    node.receive({ payload: 1 });
    const e = await until(() => rec.errors.find((x) => (x.msg as { payload?: unknown } | undefined)?.payload === 1), 'input error');
    assert.match(errorText(e), /^GPIO 18 is busy/);
    await until(() => rec.status.find((s) => s.fill === 'red' && s.text === 'busy'), 'red status');
  });

  test('invalid pin in the configuration fails every message', async () => {
    const { name } = backend();
    const { node, rec } = await load({ backend: name, pin: '99' });
    node.receive({ payload: 1 });
    const e = await until(() => rec.errors[0], 'error');
    assert.match(errorText(e), /pin must be a BCM GPIO number 0\.\.53/);
  });
});
