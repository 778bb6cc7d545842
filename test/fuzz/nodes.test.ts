// Node-level properties through node-red-node-test-helper: random hostile messages into each node. Every message
// ends exactly once (done() or a Catch), never with an unexpected exception; what is sent is valid; no prototype
// is polluted. secure-mqtt-out runs against a real Mosquitto and a watcher on '#' sees only valid topics;
// secure-mqtt-in takes hostile run-time (un)subscribe actions against the same Mosquitto, whose log shows every filter.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import mqtt from 'mqtt';
import { checkPublishTopic, checkSubscriptionFilter } from '../../src/lib/mqtt/topic-rules';
import { preparePublish } from '../../src/lib/publish/prepare';
import { registerBackend, unregisterBackend } from '../../src/lib/sensors/backends';
import { createSimulatedBackend } from '../../src/lib/sensors/simulated-backend';
import { waitFor } from '../helpers/broker';
import { watch, type Watcher } from '../helpers/mqtt-watch';
import { helper, nodeModule, type FlowNode, type NodeModule } from '../helpers/node-red';
import { brokerUp } from '../helpers/publish';
import { assertNoPollution, check, count, hostileString, makeHostileMessage, makeHostileValue, report } from './arbitraries';
import { runtimeWithBroker } from '../helpers/runtime-with-broker';

// Node-RED clones messages for Catch and Complete nodes with a recursive deep clone: keep nesting to 300 levels.
const value = makeHostileValue(300);
const message = makeHostileMessage(value);
const RUNS = 40;

type Msg = Record<string, unknown>;

interface Io {
  out: Msg[];
  bad: Msg[];
  completed: Msg[];
  caught: Msg[];
}

/** The node under test 'n1' with outputs to helper sinks, and Catch/Complete nodes scoped to it. */
function harness(node: Record<string, unknown>, outputs = 2): FlowNode[] {
  const wires = outputs === 0 ? [] : outputs === 1 ? [['out']] : [['out'], ['bad']];
  return [
    { id: 'n1', type: String(node.type), wires, ...node },
    { id: 'out', type: 'helper' },
    { id: 'bad', type: 'helper' },
    { id: 'c1', type: 'catch', scope: ['n1'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
    { id: 'd1', type: 'complete', scope: ['n1'], uncaught: false, wires: [['completed']] },
    { id: 'completed', type: 'helper' },
  ];
}

function collect(): Io {
  const io: Io = { out: [], bad: [], completed: [], caught: [] };
  for (const k of ['out', 'bad', 'completed', 'caught'] as const) helper.getNode(k).on('input', (m: Msg) => io[k].push(m));
  return io;
}

let nextId = 0;

/** Sends the messages, waits until each has ended (done or catch), and checks each ended exactly once. */
async function drive(io: Io, msgs: Msg[], opts: { allowCatch: boolean }): Promise<number[]> {
  const ids: number[] = [];
  for (const m of msgs) {
    const id = ++nextId;
    ids.push(id);
    helper.getNode('n1').receive({ ...m, fuzzId: id });
  }
  const ended = (id: number): number => io.completed.filter((m) => m.fuzzId === id).length + io.caught.filter((m) => m.fuzzId === id).length;
  await waitFor(() => ids.every((id) => ended(id) >= 1), 8000, 'every message ended').catch((e: Error) => {
    const stuck = ids.map((id, i) => (ended(id) === 0 ? fc.stringify(msgs[i]).slice(0, 800) : undefined)).filter((x) => x !== undefined);
    throw new Error(`${e.message}; never ended: ${stuck.join(' | ')}`);
  });
  await new Promise((r) => setImmediate(() => setImmediate(r)));
  for (const id of ids) assert.equal(ended(id), 1, `message ${id} ended exactly once`);
  if (!opts.allowCatch) {
    const caught = io.caught.filter((m) => ids.includes(m.fuzzId as number));
    assert.deepEqual(caught.map((m) => (m.error as { message?: string } | undefined)?.message), [], 'no unexpected exception reached the Catch node');
  }
  assertNoPollution();
  return ids;
}

function errorOf(m: Msg): { code?: unknown; message?: unknown } {
  return (m.error ?? {}) as { code?: unknown; message?: unknown };
}

/**
 * The filters Mosquitto logged in SUBSCRIBE packets from `client` ("Received SUBSCRIBE from <id>", then one
 * "\t<filter> (QoS n)" line per filter, with log_type all).
 */
function brokerFilters(log: string, client: string): string[] {
  const found: string[] = [];
  let inSubscribe = false;
  for (const line of log.split('\n')) {
    const text = /^\d+: ([^]*)$/.exec(line)?.[1];
    if (text === undefined) continue;
    if (text === `Received SUBSCRIBE from ${client}`) {
      inSubscribe = true;
      continue;
    }
    const f = inSubscribe ? /^\t([^]*) \(QoS \d+\)$/.exec(text) : null;
    if (f) found.push(f[1]);
    else inSubscribe = false;
  }
  return found;
}

/** What the subscribe node's input handler treats as the list of filters in msg.topic. */
function filtersOf(topic: unknown): unknown[] {
  return Array.isArray(topic) ? [...topic] : topic === undefined ? [] : [topic];
}

/** Why an error text is unsafe to log as one line (a control character or lone surrogate), or undefined. */
function checkUtf8Clean(text: string): string | undefined {
  const bad = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.exec(text);
  return bad ? `U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at ${bad.index}` : undefined;
}

/** fc.stringify with every long string cut short, for failure messages. */
function brief(v: unknown): string {
  const cut = (x: unknown): unknown => (typeof x === 'string' && x.length > 40 ? `${x.slice(0, 20)}…(${x.length} chars)` : x);
  return fc.stringify(Array.isArray(v) ? (v as unknown[]).map(cut) : typeof v === 'object' && v !== null && (Object.getPrototypeOf(v) as unknown) === Object.prototype ? Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, Array.isArray(x) ? (x as unknown[]).map(cut) : cut(x)])) : cut(v)).slice(0, 400);
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

async function fuzz(name: string, runs: number, body: (msgs: Msg[]) => Promise<void>, arb: fc.Arbitrary<Msg> = message, examples: Msg[][] = []): Promise<void> {
  await check(
    fc.asyncProperty(fc.array(arb, { minLength: 1, maxLength: 6 }), async (msgs) => {
      for (let i = 0; i < msgs.length; i++) count(name);
      await body(msgs);
    }),
    { numRuns: runs, endOnFailure: true, examples: examples.map((e) => [e] as [Msg[]]) },
  );
}

describe('fuzz: nodes under hostile messages', () => {
  const rig = runtimeWithBroker();
  after(() => {
    report('nodes');
  });

  async function load(modules: NodeModule | NodeModule[], flow: FlowNode[]): Promise<Io> {
    await helper.load(modules, flow);
    return collect();
  }

  test('secure-mqtt-out (MQTT 5, real Mosquitto): one output and one end per message; only valid topics reach the broker; the connection survives', async () => {
    const w: Watcher = await watch(rig.mosq.port, '#', { clientId: 'fuzz-watch-all', protocolVersion: 5 });
    try {
      const flow: FlowNode[] = [
        { id: 'b1', type: 'secure-mqtt-broker', host: '127.0.0.1', port: rig.mosq.port, clientId: 'fuzz-pub', protocolVersion: '5', reconnectMin: '0.1', reconnectMax: '0.5' },
        ...harness({ type: 'secure-mqtt-out', broker: 'b1', topic: '' }),
      ];
      const io = await load([nodeModule('secure-mqtt-broker'), nodeModule('secure-mqtt-out')], flow);
      await waitFor(() => brokerUp(), 5000, 'connected');
      const statuses: string[] = [];
      helper.getNode('n1').on('call:status', (c: { args: Array<{ text?: string }> }) => statuses.push(c.args[0].text ?? ''));
      const topic = fc.oneof(fc.constantFrom('fuzz/a', 'fuzz/b/c', 'fuzz/€'), hostileString, value);
      const plain = fc.record({ payload: fc.oneof(value, hostileString), qos: fc.constantFrom(0, 1, 2), retain: fc.boolean(), topic: fc.constantFrom('fuzz/a', 'fuzz/b/c', 'fuzz/€') }, { requiredKeys: ['payload', 'topic'] });
      const arb = fc.tuple(fc.oneof(message, plain), topic, fc.boolean()).map(([m0, t, keepTopic]) => {
        const m = m0 as Msg;
        if (keepTopic && typeof m.topic === 'string' && m.topic.startsWith('fuzz/')) t = m.topic;
        return { ...m, topic: t };
      });
      let sent = 0;
      let unseen = 0; // sent, but the '#' watcher may not see them
      await fuzz('secure-mqtt-out', RUNS * 2, async (msgs) => {
        await waitFor(() => brokerUp(), 5000, 'connected before the run').catch((e: Error) => {
          throw new Error(`${e.message}; broker log tail:\n${rig.mosq.log().split('\n').slice(-12).join('\n')}`);
        });
        const ids = await drive(io, msgs, { allowCatch: true }).catch((e: Error) => {
          const failed = io.bad.filter((m) => errorOf(m).code === 'PUBLISH_FAILED').map((m) => fc.stringify({ ...m, error: undefined, _msgid: undefined }).slice(0, 700)).join(' / ');
          throw new Error(`${e.message}; status ${statuses.at(-1)}; PUBLISH_FAILED: ${failed}; broker log tail:\n${rig.mosq.log().split('\n').slice(-8).join('\n')}`);
        });
        for (const id of ids) {
          const ok = io.out.filter((m) => m.fuzzId === id).length;
          const bad = io.bad.filter((m) => m.fuzzId === id);
          assert.equal(ok + bad.length, 1, `message ${id}: exactly one output`);
          const caught = io.caught.filter((m) => m.fuzzId === id).length;
          if (ok === 1) {
            sent++;
            // Mosquitto discards a message whose expiry interval is 0 before delivering it (not the node's doing).
            const sentMsg = io.out.find((m) => m.fuzzId === id) as Msg;
            const prepared = preparePublish(sentMsg, { topic: '', qos: undefined, retain: undefined, protocolVersion: 5 });
            if (prepared.ok && prepared.request.properties?.messageExpiryInterval === 0) unseen++;
            // A '#' subscription does not match topics that start with '$' (MQTT 5 section 4.7.2).
            else if (typeof sentMsg.topic === 'string' && sentMsg.topic.startsWith('$')) unseen++;
            assert.equal(caught, 0, 'a sent message is no error');
          } else {
            const e = errorOf(bad[0]);
            assert.ok(typeof e.code === 'string' && typeof e.message === 'string' && e.message.length > 0, 'msg.error has a code and a message');
            assert.equal(caught, 1, 'a refused message is a catchable error');
          }
        }
        assert.ok(brokerUp(), 'the connection survived (the broker never disconnected us)');
      }, arb);
      await waitFor(() => w.received.length >= sent - unseen, 20000, `the watcher got the ${sent - unseen} sent messages it can see (no expiry 0, no $ topic)`).catch((e: Error) => {
        const seen = new Set(w.received.map((r) => r.topic));
        const missing = io.out.filter((m) => typeof m.topic === 'string' && !seen.has(m.topic)).map((m) => fc.stringify({ ...m, _msgid: undefined }).slice(0, 400));
        throw new Error(`${e.message}; ${w.received.length} seen; sent but not seen (by topic): ${missing.slice(0, 5).join(' / ')}`);
      });
      await new Promise((r) => setTimeout(r, 300)); // a message sent that should not have been would show up now
      for (const r of w.received) assert.equal(checkPublishTopic(r.topic), undefined, `only valid topics at the broker: ${JSON.stringify(r.topic)}`);
      assert.ok(w.received.length <= sent, `nothing was sent that the node did not report as sent (${w.received.length} > ${sent})`);
      assert.doesNotMatch(rig.mosq.log(), /Client fuzz-pub disconnected|Bad socket read\/write on client fuzz-pub|protocol error/i, 'the broker never dropped the publisher');
      console.log(`[figures] nodes: secure-mqtt-out: ${sent} sent to Mosquitto (${unseen} with expiry 0, which the broker may discard, or a $ topic, which '#' does not match), ${w.received.length} seen by the '#' watcher, ${io.bad.length} refused on output 2`);
    } finally {
      await w.close();
    }
  });

  test('secure-mqtt-in (MQTT 5, real Mosquitto): each action changes subscriptions or is a clear catchable error; only valid filters reach the broker; the connection survives', async () => {
    const pub = await mqtt.connectAsync({ host: '127.0.0.1', port: rig.mosq.port, clientId: 'fuzz-in-pub', protocolVersion: 5 });
    const logStart = rig.mosq.log().length;
    try {
      const flow: FlowNode[] = [
        { id: 'b1', type: 'secure-mqtt-broker', host: '127.0.0.1', port: rig.mosq.port, clientId: 'fuzz-sub', protocolVersion: '5', reconnectMin: '0.1', reconnectMax: '0.5' },
        // v5 subscription options on the node (no local, retain as published, retained only on a new subscription).
        ...harness({ type: 'secure-mqtt-in', broker: 'b1', topic: '', qos: '1', nl: true, rap: true, rh: '1', datatype: 'auto' }, 1),
      ];
      const io = await load([nodeModule('secure-mqtt-broker'), nodeModule('secure-mqtt-in')], flow);
      await waitFor(() => brokerUp(), 5000, 'connected');

      const goodFilter = fc.constantFrom('fuzz/in/a', 'fuzz/in/+', 'fuzz/in/#', 'fuzz/in/+/x', '$share/g1/fuzz/in/s', '$share/g2/#', '+', '#', 'fuzz/in/€', '$SYS/broker/uptime', 'fuzz/in/ a (b)');
      const badFilter = fc.constantFrom('a/#/b', 'a+', 'a#', '+a/b', '$share/g', '$share//x', '$share/g/', '$share/g+/x', '$share/g#/x', '', '#/a', 'a/'.repeat(200) + 'a', 'x'.repeat(65536), 'a\u0000b', 'a\ud800', 'a\ufffe', 'a\u0085');
      const filter = fc.oneof({ weight: 4, arbitrary: goodFilter }, { weight: 2, arbitrary: hostileString }, { weight: 2, arbitrary: badFilter }, { weight: 1, arbitrary: value });
      const topic = fc.oneof({ weight: 4, arbitrary: filter }, { weight: 2, arbitrary: fc.array(filter, { maxLength: 4 }) }, { weight: 1, arbitrary: fc.constantFrom(true, undefined, [], false, 0) });
      const action = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('subscribe', 'unsubscribe', 'getSubscriptions') }, { weight: 1, arbitrary: fc.constantFrom('Subscribe', 'subscribe ', 'sub', '', 'getsubscriptions') }, { weight: 1, arbitrary: hostileString }, { weight: 1, arbitrary: value });
      const qos = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: fc.constantFrom(0, 1, 2, '0', '1', '2', null, '') }, { weight: 1, arbitrary: fc.constantFrom(3, -1, 1.5, NaN, Infinity, 'x', '0x1', [1], true, Symbol('qos'), Object.create(null) as object) }, { weight: 1, arbitrary: value });
      // v5 options in the message are not the node's input; they must be ignored, whatever they hold.
      const extras = fc.record({ nl: value, rap: value, rh: value, properties: value, options: value }, { requiredKeys: [] });
      const arb = fc.tuple(fc.oneof(message, fc.record({ payload: value })), action, topic, qos, extras).map(([m0, a, t, q, x]) => {
        const m: Msg = { ...(m0 as Msg), ...x, action: a, topic: t };
        if (q === undefined) delete m.qos;
        else m.qos = q;
        if (t === undefined) delete m.topic;
        return m;
      });

      let model = new Set<string>();
      // Refusals that are not clean, by kind: how many, and the first exact input.
      const violations = new Map<string, { n: number; first: string }>();
      const violate = (kind: string, example: string): void => {
        const v = violations.get(kind);
        if (v) v.n++;
        else violations.set(kind, { n: 1, first: example });
      };
      const show = (m: Msg): string => brief({ action: m.action, topic: m.topic, qos: m.qos });
      let changed = 0;
      let refused = 0;
      let listed = 0;
      await fuzz('secure-mqtt-in', RUNS * 2, async (msgs) => {
        await waitFor(() => brokerUp(), 5000, 'connected before the run').catch((e: Error) => {
          throw new Error(`${e.message}; broker log tail:\n${rig.mosq.log().split('\n').slice(-12).join('\n')}`);
        });
        for (const m of msgs) {
          // Each action, then a getSubscriptions probe: the node runs them in order, so the probe shows the effect.
          const [id, probe] = await drive(io, [m, { action: 'getSubscriptions' }], { allowCatch: true });
          const caught = io.caught.filter((c) => c.fuzzId === id);
          const probeOut = io.out.filter((o) => o.fuzzId === probe);
          assert.equal(probeOut.length, 1, 'the probe is answered once');
          assert.ok(!io.caught.some((c) => c.fuzzId === probe), 'the probe is never refused');
          const after = new Set((probeOut[0].payload as Array<{ topic: string }>).map((s) => s.topic));
          const before = model;
          model = after; // one violation must not make every later message fail
          if (caught.length === 1) {
            refused++;
            const e = errorOf(caught[0]);
            assert.ok(typeof e.message === 'string' && e.message.length > 0, `a refusal carries msg.error.message: ${show(m)}`);
            const text = e.message as string;
            const said = `${show(m)} -> ${JSON.stringify(text.length > 160 ? `${text.slice(0, 160)}…` : text)}`;
            if (!/msg\.(action|topic|qos)|topic filter/.test(text)) violate('refused with a raw runtime error, not one naming msg.action/topic/qos', said);
            if (text.length > 1000) violate('error message over 1000 characters (the whole filter copied in, unshortened)', `${said} (${text.length} characters)`);
            const dirty = checkUtf8Clean(text);
            if (dirty !== undefined) violate('error message holds control characters or lone surrogates copied from msg.topic (log injection)', `${said} (${dirty})`);
            if (!sameSet(before, after)) violate('refused, yet subscriptions changed (the valid filters before the bad one in an array were subscribed)', `${said}; subscriptions ${brief([...before])} -> ${brief([...after])}`);
            continue;
          }
          const filters = filtersOf(m.topic);
          if (m.action === 'subscribe') {
            for (const f of filters) assert.equal(checkSubscriptionFilter(f), undefined, `subscribed to an invalid filter ${fc.stringify(f).slice(0, 200)}`);
            const expected = new Set([...before, ...(filters as string[])]);
            assert.ok(sameSet(after, expected), `subscribe: ${fc.stringify([...after])}, expected ${fc.stringify([...expected])}, for ${show(m)}`);
            changed++;
          } else if (m.action === 'unsubscribe') {
            const all = m.topic === true || m.topic === undefined;
            const expected = all ? new Set<string>() : new Set([...before].filter((f) => !filters.includes(f)));
            assert.ok(sameSet(after, expected), `unsubscribe: ${fc.stringify([...after])}, expected ${fc.stringify([...expected])}, for ${show(m)}`);
            if (!sameSet(before, after)) changed++;
          } else if (m.action === 'getSubscriptions') {
            assert.ok(sameSet(before, after), 'getSubscriptions changes nothing');
            const list = io.out.filter((o) => o.fuzzId === id);
            assert.equal(list.length, 1, 'getSubscriptions answers once');
            assert.ok(Array.isArray(list[0].payload));
            listed++;
          } else assert.fail(`action ${show(m)} was neither done nor refused`);
        }
        assert.ok(brokerUp(), 'the connection survived (the broker never disconnected us)');
      }, arb, [
        // Always tried first: one of each edge the random run may or may not reach.
        [
          { payload: 1, action: 'subscribe', topic: ['fuzz/in/e1', 'a/#/b'] },
          { payload: 1, action: 'subscribe', topic: ['fuzz/in/e2', 42] },
          { payload: 1, action: 'subscribe', topic: 'fuzz/in/e3', qos: Symbol('qos') },
          { payload: 1, action: 'subscribe', topic: 'fuzz/in/e4', qos: Object.create(null) as object },
          { payload: 1, action: 'subscribe', topic: 'x'.repeat(70_000) },
          { payload: 1, action: 'subscribe', topic: 'fuzz/\n[ERROR] forged log line \u001b[31m' },
        ],
        [
          { payload: 1, action: 'unsubscribe', topic: true },
          { payload: 1, action: 'subscribe', topic: ['$share/g/fuzz/in/s', 'fuzz/in/+/x'], qos: '2' },
          { payload: 1, action: 'getSubscriptions' },
          { payload: 1, action: 'unsubscribe', topic: ['fuzz/in/+/x', 7, 'not/subscribed'] },
          { payload: 1, action: 'unsubscribe' },
        ],
      ]);

      // After all that, a valid subscription still delivers.
      const [last] = await drive(io, [{ action: 'subscribe', topic: 'fuzz/in/final/+', qos: 1 }], { allowCatch: false });
      assert.ok(io.completed.some((c) => c.fuzzId === last));
      model.add('fuzz/in/final/+');
      await pub.publishAsync('fuzz/in/final/x', '{"ok":1}', { qos: 1 });
      const got = await waitFor(() => io.out.find((o) => o.topic === 'fuzz/in/final/x'), 5000, 'the final publish on the node output');
      assert.deepEqual(got.payload, { ok: 1 });

      const log = rig.mosq.log().slice(logStart);
      const atBroker = brokerFilters(log, 'fuzz-sub');
      assert.ok(atBroker.length > 0, 'the broker log shows the SUBSCRIBE filters');
      for (const f of atBroker) assert.equal(checkSubscriptionFilter(f), undefined, `only valid filters at the broker: ${JSON.stringify(f).slice(0, 200)}`);
      for (const f of model) assert.ok(atBroker.includes(f), `the subscribed filter ${JSON.stringify(f)} reached the broker`);
      assert.doesNotMatch(log, /Client fuzz-sub disconnected|Bad socket read\/write on client fuzz-sub|protocol error|malformed/i, 'the broker never dropped the subscriber');
      console.log(`[figures] nodes: secure-mqtt-in: ${changed} actions changed subscriptions, ${refused} refused with a catchable error, ${listed} listed; ${atBroker.length} filters in SUBSCRIBE packets at Mosquitto (${new Set(atBroker).size} distinct), all valid`);
      const found = [...violations].map(([kind, v]) => `  - ${kind}: ${v.n} input(s); first: ${v.first}`);
      assert.ok(found.length === 0, `secure-mqtt-in: refusals that are not clean (src bugs, by kind):\n${found.join('\n')}`);
    } finally {
      await pub.endAsync(true);
    }
  });

  for (const [label, def] of [
    ['telemetry-format json', { type: 'telemetry-format', format: 'json' }],
    ['telemetry-format senml', { type: 'telemetry-format', format: 'senml' }],
    ['telemetry-format influx', { type: 'telemetry-format', format: 'influx' }],
    ['telemetry-format homeassistant', { type: 'telemetry-format', format: 'homeassistant' }],
    ['telemetry-format sparkplug', { type: 'telemetry-format', format: 'sparkplug', spGroup: 'g', spEdgeNode: 'edge' }],
  ] as const) {
    test(`${label}: each message is formatted (valid topics, payloads) or refused on output 2 with msg.error`, async () => {
      const io = await load(nodeModule('telemetry-format'), harness({ ...def }));
      await fuzz(label, RUNS, async (msgs) => {
        const ids = await drive(io, msgs, { allowCatch: false });
        for (const id of ids) {
          const outs = io.out.filter((m) => m.fuzzId === id);
          const bads = io.bad.filter((m) => m.fuzzId === id);
          assert.ok((outs.length > 0) !== (bads.length === 1), `message ${id}: formatted or refused, not both`);
          for (const m of outs) {
            assert.equal(checkPublishTopic(m.topic), undefined, `valid topic ${JSON.stringify(m.topic)}`);
            assert.ok(typeof m.payload === 'string' || Buffer.isBuffer(m.payload));
          }
          for (const m of bads) assert.ok(typeof errorOf(m).code === 'string' && typeof errorOf(m).message === 'string');
        }
      });
    });
  }

  test('telemetry-validate (built-in SenML, and msg.schema): valid or refused on output 2; never an exception', async () => {
    const io = await load(nodeModule('telemetry-validate'), harness({ type: 'telemetry-validate', schemaSource: 'builtin', builtin: 'senml' }));
    await fuzz('telemetry-validate', RUNS, async (msgs) => {
      const ids = await drive(io, msgs, { allowCatch: false });
      for (const id of ids) {
        const outs = io.out.filter((m) => m.fuzzId === id).length;
        const bads = io.bad.filter((m) => m.fuzzId === id);
        assert.equal(outs + bads.length, 1, `message ${id}: exactly one output`);
        for (const m of bads) assert.ok(typeof errorOf(m).code === 'string' && typeof errorOf(m).message === 'string');
      }
    });
  });

  for (const [label, def] of [
    ['telemetry-reduce deadband', { type: 'telemetry-reduce', mode: 'deadband', deadbandMode: 'percent', band: '1' }],
    ['telemetry-reduce window', { type: 'telemetry-reduce', mode: 'window', windowKind: 'count', windowSize: '3', functions: 'mean,min,max,count,last' }],
    ['telemetry-reduce batch', { type: 'telemetry-reduce', mode: 'batch', batchCount: '4', batchJoin: 'array' }],
  ] as const) {
    test(`${label}: each message ends once, refusals on output 2, every reading sent is finite`, async () => {
      const io = await load(nodeModule('telemetry-reduce'), harness({ ...def }));
      await fuzz(label, RUNS, async (msgs) => {
        const ids = await drive(io, msgs, { allowCatch: false });
        for (const id of ids) {
          const bad = io.bad.filter((m) => m.fuzzId === id);
          assert.ok(bad.length <= 1);
          for (const m of bad) {
            const e = errorOf(m);
            assert.ok(typeof e.code === 'string' && typeof e.message === 'string' && e.message.length > 0, `a refusal carries msg.error: ${fc.stringify(m.error).slice(0, 200)}`);
          }
        }
      });
      for (const m of io.out) {
        if (def.mode === 'batch') continue;
        for (const v of Object.values(m.payload as Record<string, unknown>)) assert.ok(typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)), `finite output ${String(v)}`);
      }
    });
  }

  test('telemetry-sensor (simulated BME280, read on input): every message gets a reading or a catchable error', async () => {
    const io = await load(nodeModule('telemetry-sensor'), harness({ type: 'telemetry-sensor', sensorType: 'bme280', backend: 'simulated', address: '0x76', interval: '0' }, 1));
    await fuzz('telemetry-sensor', 25, async (msgs) => {
      const ids = await drive(io, msgs, { allowCatch: false });
      for (const id of ids) {
        const outs = io.out.filter((m) => m.fuzzId === id);
        assert.equal(outs.length, 1, `message ${id}: one reading`);
        const p = outs[0].payload as Record<string, unknown>;
        assert.ok(Object.values(p).every((v) => typeof v === 'number' && Number.isFinite(v)));
      }
    });
  });

  test('telemetry-gpio-out (simulated pin): a level for a valid payload, a catchable error otherwise; the pin is always 0 or 1', async () => {
    const sim = createSimulatedBackend();
    registerBackend('fuzz-gpio-out', sim);
    try {
      const io = await load(nodeModule('telemetry-gpio-out'), harness({ type: 'telemetry-gpio-out', backend: 'fuzz-gpio-out', pin: '21', initial: '0' }, 0));
      await waitFor(() => sim.gpio.level(21) === 0, 5000, 'pin opened');
      const payload = fc.oneof(fc.constantFrom(0, 1, true, false, 'on', 'off', 'ON', '1', '0'), value, hostileString);
      await fuzz('telemetry-gpio-out', RUNS, async (msgs) => {
        for (const m of msgs) {
          const before = sim.gpio.level(21);
          const [id] = await drive(io, [m], { allowCatch: true });
          const caught = io.caught.some((c) => c.fuzzId === id);
          const level = sim.gpio.level(21);
          assert.ok(level === 0 || level === 1);
          if (caught) assert.equal(level, before, 'a refused payload leaves the pin as it was');
        }
      }, fc.record({ payload }));
    } finally {
      unregisterBackend('fuzz-gpio-out');
    }
  });
});
