import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { helper, logLines, nodeModule } from '../helpers/node-red';
import { waitFor } from '../helpers/broker';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto';
import { watch } from '../helpers/mqtt-watch';
import { collect, connected, publishFlow } from '../helpers/publish';
import { startNodeRed, type NodeRedProcess } from '../helpers/node-red-process';
import { runtimeWithBroker } from '../helpers/runtime-with-broker';

const modules = [nodeModule('secure-mqtt-broker'), nodeModule('secure-mqtt-out'), nodeModule('secure-mqtt-in')];
const ACL = ['user writer', 'topic write telemetry/#', 'topic deny telemetry/secret/#', 'topic read commands/#', '', 'user watcher', 'topic read #', ''].join('\n');

describe('secure-mqtt-out: access rules', () => {
  const rig = runtimeWithBroker({ acl: ACL });

  for (const version of ['4', '5']) {
    test(`a publish the rules deny leaves on output 2 with the deciding rule, and is never sent (v${version}, QoS 0)`, async () => {
      const w = await watch(rig.mosq.port, '#', { username: 'watcher' });
      await helper.load(modules, publishFlow(rig.mosq.port, { qos: '0' }, { protocolVersion: version, aclSource: 'acl-inline', aclText: ACL }), {
        b1: { user: 'writer' },
      });
      const c = collect();
      const p1 = await connected();
      p1.receive({ topic: 'telemetry/secret/key', payload: 'x' });
      p1.receive({ topic: 'other/topic', payload: 'y' });
      p1.receive({ topic: 'telemetry/ok', payload: 'sentinel' });
      await waitFor(() => w.received.length === 1 && c.notSent.length === 2, 5000, 'sentinel and two refusals');
      assert.equal(w.received[0].topic, 'telemetry/ok');
      const [first, second] = c.notSent.map((m) => m.error as { code: string; rule: string; message: string });
      assert.equal(first.code, 'ACL_DENIED');
      assert.match(first.rule, /line 3/);
      assert.match(first.rule, /deny telemetry\/secret\/#/);
      assert.equal(first.message, 'not allowed to publish to "telemetry/secret/key"');
      assert.equal(second.code, 'ACL_DENIED');
      assert.match(second.rule, /no rule matched/);
      await waitFor(() => c.caught.length === 2, 2000, 'catch');
      await w.close();
    });
  }

  test('the subscribe node warns at deploy when the rules do not let this identity read its filter', async () => {
    await helper.load(
      modules,
      [
        { id: 'b1', type: 'secure-mqtt-broker', host: '127.0.0.1', port: rig.mosq.port, aclSource: 'acl-inline', aclText: ACL },
        { id: 's1', type: 'secure-mqtt-in', broker: 'b1', topic: 'telemetry/+/temp', qos: '1', wires: [[]] },
      ],
      { b1: { user: 'writer' } },
    );
    await waitFor(() => logLines('do not let this connection read').length === 1, 5000, 'warning');
  });

  test('a malformed acl stops the connection with the line named', async () => {
    await helper.load(modules, publishFlow(rig.mosq.port, {}, { aclSource: 'acl-inline', aclText: 'user a\ntopic wrtie x/#\n' }), { b1: { user: 'writer' } });
    await waitFor(() => logLines('access rules').length > 0, 2000, 'error logged');
    assert.match(logLines('access rules')[0], /line 2/);
  });

  test('dynamic-security entries the broker skips are skipped, each logged as a warning; inline password hashes are warned about', async () => {
    const dynsec = {
      defaultACLAccess: { publishClientSend: false },
      roles: [{ rolename: 'w', acls: [{ acltype: 'publishClientSend', topic: 'telemetry/#', allow: true }, { acltype: 'publish', topic: 'other/#', allow: true }] }],
      clients: [{ username: 'writer', password: { hash: 'aGFzaA==', salt: 'c2FsdA==', iterations: 101 }, roles: [{ rolename: 'w' }, { rolename: 'missing' }] }],
    };
    await helper.load(modules, publishFlow(rig.mosq.port, { qos: '0' }, { aclSource: 'dynsec-inline', aclText: JSON.stringify(dynsec) }), { b1: { user: 'writer' } });
    const c = collect();
    const p1 = await connected();
    p1.receive({ topic: 'telemetry/1', payload: 1 });
    p1.receive({ topic: 'other/1', payload: 2 });
    await waitFor(() => c.ok.length === 1 && c.notSent.length === 1, 3000, 'one sent, one refused');
    const warned = logLines('access rules: dynamic-security');
    assert.equal(warned.length, 2, warned.join('\n'));
    assert.match(warned[0], /roles\[0\]\.acls\[1\] has an unknown acltype "publish"/);
    assert.match(warned[1], /clients\[0\]\.roles\[1\] names unknown role "missing"/);
    // Inline rules live in the flow file: a pasted copy of the broker's file brings its password hashes along.
    assert.equal(logLines('hold password hashes').length, 1);
  });

  test('an acl file is reloaded when it changes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nrst-acl-'));
    const file = path.join(dir, 'acl');
    fs.writeFileSync(file, 'user writer\ntopic write a/#\n');
    await helper.load(modules, publishFlow(rig.mosq.port, { qos: '0' }, { aclSource: 'acl-file', aclPath: file }), { b1: { user: 'writer' } });
    const c = collect();
    const p1 = await connected();
    p1.receive({ topic: 'b/1', payload: 1 });
    await waitFor(() => c.notSent.length === 1, 3000, 'denied before the change');
    fs.writeFileSync(file, 'user writer\ntopic write a/#\ntopic write b/#\n');
    await waitFor(() => logLines('access rules reloaded').length === 1, 10000, 'reload');
    p1.receive({ topic: 'b/1', payload: 2 });
    await waitFor(() => c.ok.length === 1, 3000, 'allowed after the change');
  });
});

describe('the access-rule check endpoint of the editor', () => {
  let mosq: RunningMosquitto;
  let red: NodeRedProcess;
  before(async () => {
    mosq = await startMosquitto({ acl: ACL });
    red = await startNodeRed({
      adminAuth: true,
      flows: [
        { id: 'tab1', type: 'tab', label: 'acl' },
        { id: 'b1', type: 'secure-mqtt-broker', host: '127.0.0.1', port: String(mosq.port), aclSource: 'acl-inline', aclText: ACL },
        { id: 'p1', type: 'secure-mqtt-out', z: 'tab1', broker: 'b1', topic: 'telemetry/x', wires: [[], []] },
        { id: 'b2', type: 'secure-mqtt-broker', host: '127.0.0.1', port: String(mosq.port) },
        { id: 'p2', type: 'secure-mqtt-out', z: 'tab1', broker: 'b2', topic: 'telemetry/y', wires: [[], []] },
      ],
      credentials: { b1: { user: 'writer' } },
    });
  });
  after(async () => {
    await red?.stop();
    await mosq?.stop();
  });

  test('refuses unauthenticated requests when adminAuth is on', async () => {
    const res = await red.api('GET', '/secure-telemetry/acl-check?broker=b1&topic=telemetry/x');
    assert.equal(res.status, 401);
  });

  test('answers allowed or denied with the deciding rule for an authenticated user', async () => {
    const token = await red.login();
    const ok = await red.api('GET', '/secure-telemetry/acl-check?broker=b1&topic=telemetry/x', undefined, token);
    assert.equal(ok.status, 200);
    assert.deepEqual({ ...(ok.json as object), reason: undefined }, { rules: true, allowed: true, reason: undefined, identity: { username: 'writer', clientId: (ok.json as { identity: { clientId: string } }).identity.clientId } });
    const denied = await red.api('GET', '/secure-telemetry/acl-check?broker=b1&topic=telemetry/secret/a', undefined, token);
    assert.equal((denied.json as { allowed: boolean }).allowed, false);
    assert.match((denied.json as { reason: string }).reason, /deny telemetry\/secret\/#/);
    const bad = await red.api('GET', '/secure-telemetry/acl-check?broker=b1&topic=a/%23', undefined, token);
    assert.equal(bad.status, 400);
    const noRules = await red.api('GET', '/secure-telemetry/acl-check?broker=b2&topic=a', undefined, token);
    assert.deepEqual(noRules.json, { rules: false });
    const badNoRules = await red.api('GET', '/secure-telemetry/acl-check?broker=b2&topic=a/%23', undefined, token);
    assert.equal(badNoRules.status, 400, 'an invalid topic is said without rules too');
    const missing = await red.api('GET', '/secure-telemetry/acl-check?broker=nope&topic=a', undefined, token);
    assert.equal(missing.status, 404);
  });
});
