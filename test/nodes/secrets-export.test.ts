import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startNodeRed, type NodeRedProcess } from '../helpers/node-red-process';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto';
import { waitFor } from '../helpers/broker';

const SECRET = 'Pw-9f3c1e-never-shown';

describe('credentials stay secret in a real Node-RED runtime', () => {
  let mosq: RunningMosquitto;
  let red: NodeRedProcess;
  before(async () => {
    mosq = await startMosquitto({ passwords: { alice: SECRET } });
    const flows = [
      { id: 'tab1', type: 'tab', label: 'secrets' },
      { id: 'b1', type: 'secure-mqtt-broker', host: '127.0.0.1', port: String(mosq.port), clientId: 'secret-test', protocolVersion: '5' },
      { id: 'p1', type: 'secure-mqtt-out', z: 'tab1', broker: 'b1', topic: 'x/y', qos: '1', wires: [[], []] },
    ];
    red = await startNodeRed({ flows, credentials: { b1: { user: 'alice', password: SECRET } } });
  });
  after(async () => {
    await red?.stop();
    await mosq?.stop();
  });

  test('the broker accepts the stored credentials (they were really used)', async () => {
    await waitFor(() => mosq.log().includes("as secret-test (p5, c1, k60, u'alice')"), 10000, 'authenticated connection');
  });

  test('the password is absent from the flow export, the flows file and the credentials API', async () => {
    const flows = await red.api('GET', '/flows');
    assert.equal(flows.status, 200);
    assert.ok(!flows.text.includes(SECRET), 'GET /flows');
    const creds = await red.api('GET', '/credentials/secure-mqtt-broker/b1');
    assert.deepEqual(creds.json, { user: 'alice', has_password: true });
    const flowFile = fs.readFileSync(path.join(red.userDir, 'flows.json'), 'utf8');
    assert.ok(!flowFile.includes(SECRET) && !flowFile.includes('alice'), 'flows.json holds no credentials');
    const credFile = fs.readFileSync(path.join(red.userDir, 'flows_cred.json'), 'utf8');
    assert.ok(!credFile.includes(SECRET), 'flows_cred.json is encrypted');
  });

  test('the password never appears in the log', () => {
    assert.ok(red.log().length > 0);
    assert.ok(!red.log().includes(SECRET));
  });
});
