// Several nodes on one connection and one filter (or overlapping ones), against a real Mosquitto: each node gets
// what its own options ask for, a node joining later does not replay the retained set to the others, and what
// the shared broker subscription cannot give a node is said.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import mqtt from 'mqtt';
import { MqttConnection, type SubscribeOptions, type SubscriptionNotice } from '../../src/lib/mqtt/connection';
import { DEFAULT_BACKOFF } from '../../src/lib/mqtt/backoff';
import { waitFor } from '../helpers/broker';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto';
import { startProxy } from '../helpers/tcp-proxy';

interface Node {
  got: string[];
  notices: SubscriptionNotice[];
  unsubscribe(): Promise<void>;
  ready: Promise<void>;
}

describe('MqttConnection: nodes sharing a filter', () => {
  let mosq: RunningMosquitto;
  let pub: mqtt.MqttClient;
  let n = 0;
  before(async () => {
    mosq = await startMosquitto();
    pub = await mqtt.connectAsync({ host: '127.0.0.1', port: mosq.port, protocolVersion: 5 });
  });
  after(async () => {
    await pub.endAsync();
    await mosq.stop();
  });

  async function connection(protocolVersion: 4 | 5): Promise<MqttConnection> {
    const conn = new MqttConnection({ host: '127.0.0.1', port: mosq.port, transport: 'mqtt', protocolVersion, clientId: `shared-${++n}`, keepalive: 30, clean: true });
    conn.start();
    await waitFor(() => conn.connected, 5000, 'connected');
    return conn;
  }

  function node(conn: MqttConnection, filter: string, options: SubscribeOptions): Node {
    const got: string[] = [];
    const notices: SubscriptionNotice[] = [];
    const sub = conn.subscribe(filter, options, (topic, payload, packet) => got.push(`${topic}=${payload.toString()}${packet.retain ? ' (retained)' : ''}`), (x) => notices.push(x));
    return { got, notices, ready: sub.ready, unsubscribe: () => sub.unsubscribe() };
  }

  /** A live message every node on `topic` receives: once it is in, everything sent before it is too. */
  async function settle(topic: string, nodes: Node[]): Promise<void> {
    const mark = `mark-${++n}`;
    await pub.publishAsync(topic, mark, { qos: 1 });
    await waitFor(() => nodes.every((x) => x.got.includes(`${topic}=${mark}`)), 5000, `${mark} delivered`);
  }

  async function retained(prefix: string): Promise<void> {
    await pub.publishAsync(`${prefix}/1`, 'r1', { qos: 1, retain: true });
    await pub.publishAsync(`${prefix}/2`, 'r2', { qos: 1, retain: true });
  }

  for (const version of [4, 5] as const) {
    test(`MQTT ${version === 5 ? '5' : '3.1.1'}: a node joining a filter gets the retained messages, the node already on it not again`, async () => {
      await retained(`join${version}`);
      const conn = await connection(version);
      try {
        const a = node(conn, `join${version}/#`, { qos: 1 });
        await a.ready;
        await settle(`join${version}/live`, [a]);
        const b = node(conn, `join${version}/#`, { qos: 1 });
        await b.ready;
        await settle(`join${version}/live`, [a, b]);
        const ret = (x: Node): string[] => x.got.filter((m) => m.endsWith('(retained)')).sort();
        assert.deepEqual(ret(a), [`join${version}/1=r1 (retained)`, `join${version}/2=r2 (retained)`]);
        assert.deepEqual(ret(b), [`join${version}/1=r1 (retained)`, `join${version}/2=r2 (retained)`]);
        assert.equal(a.got.length, 4, a.got.join(', '));
        assert.equal(b.got.length, 3, b.got.join(', '));
      } finally {
        await conn.close();
      }
    });

    test(`MQTT ${version === 5 ? '5' : '3.1.1'}: nodes deployed together share one SUBSCRIBE and each gets the retained set once`, async () => {
      await retained(`together${version}`);
      const conn = await connection(version);
      try {
        const nodes = [node(conn, `together${version}/#`, { qos: 1 }), node(conn, `together${version}/#`, { qos: 0 })];
        await Promise.all(nodes.map((x) => x.ready));
        await settle(`together${version}/live`, nodes);
        for (const x of nodes) assert.deepEqual(x.got.filter((m) => m.endsWith('(retained)')).length, 2, x.got.join(', '));
        assert.equal(mosq.count(new RegExp(`together${version}/# \\(QoS`)), 1, 'one SUBSCRIBE for both nodes');
      } finally {
        await conn.close();
      }
    });
  }

  test('MQTT 5: retain handling is per node: "never" on one node does not take the retained messages from the other', async () => {
    await retained('rh');
    const conn = await connection(5);
    try {
      const never = node(conn, 'rh/#', { qos: 1, rh: 2 });
      await never.ready;
      const always = node(conn, 'rh/#', { qos: 1 });
      await always.ready;
      await settle('rh/live', [never, always]);
      assert.deepEqual(never.got, [`rh/live=mark-${n}`]);
      assert.deepEqual(always.got.filter((m) => m.endsWith('(retained)')).sort(), ['rh/1=r1 (retained)', 'rh/2=r2 (retained)']);
    } finally {
      await conn.close();
    }
  });

  test('MQTT 5: no local holds only while every node on the filter asks for it, and the node is told', async () => {
    const conn = await connection(5);
    try {
      const quiet = node(conn, 'nl/#', { qos: 1, nl: true });
      await quiet.ready;
      const all = node(conn, 'nl/#', { qos: 1 });
      await all.ready;
      await conn.publish({ topic: 'nl/own', payload: 'first', qos: 1 });
      await settle('nl/live', [quiet, all]);
      assert.ok(all.got.includes('nl/own=first'), `the node without no local gets this connection's publish: ${all.got.join(', ')} ${mosq.log().split('\n').filter((l) => /nl/.test(l)).join('\n')}`);
      assert.deepEqual(quiet.notices, [{ code: 'NO_LOCAL_LOST', other: 'nl/#' }]);
      assert.deepEqual(all.notices, []);
    } finally {
      await conn.close();
    }
  });

  test('MQTT 5: a shared and a plain subscription on one connection split the stream with another member of the group', async () => {
    const x = await connection(5);
    const y = await connection(5);
    try {
      const plain = node(x, 'split/#', { qos: 1 });
      const sharedX = node(x, '$share/g/split/#', { qos: 1 });
      const sharedY = node(y, '$share/g/split/#', { qos: 1 });
      await Promise.all([plain.ready, sharedX.ready, sharedY.ready]);
      for (let i = 0; i < 20; i++) await pub.publishAsync('split/t', String(i), { qos: 1 });
      await waitFor(() => plain.got.length === 20 && sharedX.got.length + sharedY.got.length === 20, 5000, 'every message once in the group');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(plain.got.length, 20);
      assert.equal(sharedX.got.length + sharedY.got.length, 20, `x ${sharedX.got.length}, y ${sharedY.got.length}`);
      assert.deepEqual([...sharedX.got, ...sharedY.got].map((m) => Number(m.split('=')[1])).sort((p, q) => p - q), [...Array(20).keys()]);
      assert.deepEqual(sharedX.notices, []);
    } finally {
      await x.close();
      await y.close();
    }
  });

  test('MQTT 3.1.1: a shared subscription overlapping another filter of the connection is told that it cannot get only its share', async () => {
    const conn = await connection(4);
    try {
      const shared = node(conn, '$share/g/over/+/t', { qos: 1 });
      const plain = node(conn, 'over/#', { qos: 1 });
      const apart = node(conn, 'elsewhere/#', { qos: 1 });
      await Promise.all([shared.ready, plain.ready, apart.ready]);
      assert.deepEqual(shared.notices, [{ code: 'SHARED_OVERLAP', other: 'over/#' }]);
      assert.deepEqual(plain.notices, []);
      assert.deepEqual(apart.notices, []);
    } finally {
      await conn.close();
    }
  });

  for (const version of [4, 5] as const) {
    test(`MQTT ${version === 5 ? '5' : '3.1.1'}, Mosquitto's default 20 in flight: a node joining while 100 retained messages stream to the first gets them once, and so does the first`, async () => {
      const slow = await startMosquitto({ extra: ['max_inflight_messages 20'] });
      const setup = await mqtt.connectAsync({ host: '127.0.0.1', port: slow.port });
      const conn = new MqttConnection({ host: '127.0.0.1', port: slow.port, transport: 'mqtt', protocolVersion: version, clientId: `inflight-${version}`, keepalive: 30, clean: true });
      try {
        for (let i = 0; i < 100; i++) await setup.publishAsync(`many/${i}`, `r${i}`, { qos: 1, retain: true });
        conn.start();
        await waitFor(() => conn.connected, 5000, 'connected');
        const a = node(conn, 'many/#', { qos: 1 });
        await a.ready;
        const b = node(conn, 'many/#', { qos: 1 });
        await b.ready;
        await waitFor(() => a.got.length >= 100 && b.got.length >= 100, 10000, 'both have the retained set');
        await setup.publishAsync('many/live', 'x', { qos: 1 });
        await waitFor(() => a.got.includes('many/live=x') && b.got.includes('many/live=x'), 5000, 'the live message');
        for (const [name, x] of [['first', a], ['joining', b]] as const) {
          const retained = x.got.filter((m) => m.endsWith('(retained)'));
          assert.equal(retained.length, 100, `${name} node: ${retained.length} retained messages`);
          assert.equal(new Set(retained).size, 100, `${name} node: no repeats`);
        }
      } finally {
        await conn.close();
        await setup.endAsync();
        await slow.stop();
      }
    });

    test(`MQTT ${version === 5 ? '5' : '3.1.1'}: a node joining as the connection comes back is in the reconnect's SUBSCRIBE, not a second one`, async () => {
      await retained(`back${version}`);
      const conn = await connection(version);
      try {
        const a = node(conn, `back${version}/#`, { qos: 1 });
        await a.ready;
        await settle(`back${version}/live`, [a]);
        let b: Node | undefined;
        const onState = (s: { state: string }): void => {
          if (s.state !== 'connected') return;
          conn.off('state', onState);
          b = node(conn, `back${version}/#`, { qos: 1 });
        };
        conn.on('state', onState);
        // The broker drops the connection when another takes its client id over.
        const thief = await mqtt.connectAsync({ host: '127.0.0.1', port: mosq.port, clientId: conn.clientId, protocolVersion: version, reconnectPeriod: 0 });
        await thief.endAsync();
        await waitFor(() => b !== undefined, 10000, 'the node joined on reconnect');
        const joined = b as Node;
        await joined.ready;
        await settle(`back${version}/live`, [a, joined]);
        const ret = (x: Node): string[] => x.got.filter((m) => m.endsWith('(retained)')).sort();
        assert.deepEqual(ret(joined), [`back${version}/1=r1 (retained)`, `back${version}/2=r2 (retained)`]);
        assert.deepEqual(ret(a), [`back${version}/1=r1 (retained)`, `back${version}/1=r1 (retained)`, `back${version}/2=r2 (retained)`, `back${version}/2=r2 (retained)`], 'once at the first connect, once at the reconnect');
      } finally {
        await conn.close();
      }
    });
  }

  test('MQTT 3.1.1: a topic first retained after a node subscribed reaches it live; a later join does not bring it again', async () => {
    await retained('later');
    const conn = await connection(4);
    try {
      const a = node(conn, 'later/#', { qos: 1 });
      await a.ready;
      await pub.publishAsync('later/new', 'n', { qos: 1, retain: true });
      await settle('later/live', [a]);
      const b = node(conn, 'later/#', { qos: 1 });
      await b.ready;
      await settle('later/live', [a, b]);
      assert.deepEqual(a.got.filter((m) => m.startsWith('later/new')), ['later/new=n'], a.got.join(', '));
      assert.deepEqual(b.got.filter((m) => m.startsWith('later/new')), ['later/new=n (retained)']);
    } finally {
      await conn.close();
    }
  });

  /** A connection with a kept MQTT 5 session under a fixed client id. */
  function kept(clientId: string): MqttConnection {
    return new MqttConnection({ host: '127.0.0.1', port: mosq.port, transport: 'mqtt', protocolVersion: 5, clientId, keepalive: 30, clean: false, sessionExpiry: 300 });
  }

  test('MQTT 5, kept session: "only new subscriptions" on a filter the session never had gets the retained messages', async () => {
    await retained('onlynew');
    const first = kept('onlynew-client');
    first.start();
    await waitFor(() => first.connected, 5000, 'connected');
    await first.close();
    const conn = kept('onlynew-client');
    conn.start();
    try {
      await waitFor(() => conn.connected, 5000, 'connected into the kept session');
      const x = node(conn, 'onlynew/#', { qos: 1, rh: 1 });
      await x.ready;
      await settle('onlynew/live', [x]);
      assert.deepEqual(x.got.filter((m) => m.endsWith('(retained)')).sort(), ['onlynew/1=r1 (retained)', 'onlynew/2=r2 (retained)']);
    } finally {
      await conn.close();
    }
  });

  test('MQTT 5, kept session, a new connection object (a redeploy): filters no node has any more are unsubscribed, and a wider no local is applied', async () => {
    const old = kept('redeploy-client');
    old.start();
    await waitFor(() => old.connected, 5000, 'connected');
    await Promise.all([node(old, 'rd/dev/#', { qos: 1 }).ready, node(old, 'rd/#', { qos: 1, nl: true }).ready]);
    await old.close();
    const conn = kept('redeploy-client');
    conn.start();
    try {
      await waitFor(() => conn.connected, 5000, 'connected into the kept session');
      const x = node(conn, 'rd/#', { qos: 1 });
      await x.ready;
      await conn.publish({ topic: 'rd/own', payload: 'mine', qos: 1 });
      await pub.publishAsync('rd/dev/t', 'once', { qos: 1 });
      await settle('rd/live', [x]);
      assert.ok(x.got.includes('rd/own=mine'), `no local widened: ${x.got.join(', ')}`);
      assert.deepEqual(x.got.filter((m) => m === 'rd/dev/t=once'), ['rd/dev/t=once'], 'the old rd/dev/# no longer doubles it');
    } finally {
      await conn.close();
    }
  });

  test('MQTT 5, kept session: a filter whose last node left while the connection was down is unsubscribed after reconnecting', async () => {
    const conn = kept('left-offline');
    conn.start();
    try {
      await waitFor(() => conn.connected, 5000, 'connected');
      const x = node(conn, 'gone/#', { qos: 1 });
      await x.ready;
      const thief = await mqtt.connectAsync({ host: '127.0.0.1', port: mosq.port, clientId: 'left-offline', protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 300 }, reconnectPeriod: 0 });
      await waitFor(() => !conn.connected, 5000, 'dropped');
      await x.unsubscribe();
      await thief.endAsync();
      await waitFor(() => conn.connected, 10000, 'connected again');
      await waitFor(() => /Received UNSUBSCRIBE from left-offline/.test(mosq.log()), 5000, 'the UNSUBSCRIBE');
    } finally {
      await conn.close();
    }
  });

  test('MQTT 5, kept session: an UNSUBSCRIBE lost with the connection (no UNSUBACK) is sent again after reconnecting', async () => {
    const proxy = await startProxy(mosq.port);
    const conn = new MqttConnection({ host: '127.0.0.1', port: proxy.port, transport: 'mqtt', protocolVersion: 5, clientId: 'unsub-lost', keepalive: 30, clean: false, sessionExpiry: 300, backoff: { ...DEFAULT_BACKOFF, initialMs: 100, maxMs: 500 } });
    conn.start();
    try {
      await waitFor(() => conn.connected, 5000, 'connected');
      const x = node(conn, 'lost-unsub/#', { qos: 1 });
      await x.ready;
      proxy.pause(); // the UNSUBSCRIBE is written but never reaches the broker
      const gone = x.unsubscribe();
      await new Promise((r) => setTimeout(r, 200));
      proxy.cutAll();
      proxy.resume();
      await gone;
      assert.doesNotMatch(mosq.log(), /Received UNSUBSCRIBE from unsub-lost/);
      await waitFor(() => conn.connected, 10000, 'connected again');
      await waitFor(() => /Received UNSUBSCRIBE from unsub-lost/.test(mosq.log()), 5000, 'the UNSUBSCRIBE after the reconnect');
    } finally {
      await conn.close();
      await proxy.close();
    }
  });
});
