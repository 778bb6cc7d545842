import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { helper, logLines, nodeModule, tlsConfigModule, type FlowNode } from '../helpers/node-red';
import { attachUser, waitFor } from '../helpers/broker';
import { testCerts, type CertSet } from '../helpers/certs';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto';
import type { BrokerNode } from '../../src/nodes/shared/broker-node';
import type { NodeStatus } from '../../src/nodes/shared/node-red';

const modules = [tlsConfigModule(), nodeModule('secure-mqtt-broker')];

function tlsFlow(port: number, tls: Partial<Record<string, unknown>> | undefined, extra: Record<string, unknown> = {}): FlowNode[] {
  const flow: FlowNode[] = [
    {
      id: 'b1',
      type: 'secure-mqtt-broker',
      host: 'localhost',
      port,
      transport: 'mqtts',
      reconnectMin: '0.1',
      reconnectMax: '0.5',
      tls: tls ? 't1' : '',
      ...extra,
    },
  ];
  if (tls) {
    flow.push({ id: 't1', type: 'tls-config', cert: '', key: '', ca: '', servername: '', verifyservercert: true, alpnprotocol: '', ...tls });
  }
  return flow;
}

async function connectAndWatch(flow: FlowNode[]): Promise<{ node: BrokerNode; seen: NodeStatus[] }> {
  await helper.load(modules, flow);
  const node = helper.getNode('b1') as unknown as BrokerNode;
  return { node, seen: attachUser(node) };
}

/** Waits until a status with the wanted text appears, then checks a few retries passed without ever connecting. */
async function expectRefused(seen: NodeStatus[], text: RegExp): Promise<NodeStatus> {
  const status = await waitFor(() => seen.find((s) => s.fill === 'red' && text.test(s.text ?? '')), 8000, `status ${text}`);
  await waitFor(() => seen.filter((s) => s.text === 'connecting' || s.text?.startsWith('retrying')).length >= 3, 8000, 'retries');
  assert.ok(!seen.some((s) => s.text?.startsWith('connected')), `must never connect: ${JSON.stringify(seen)}`);
  return status;
}

describe('secure-mqtt-broker: TLS', () => {
  let certs: CertSet;
  let server: RunningMosquitto;
  let wrongHost: RunningMosquitto;
  let mutual: RunningMosquitto;
  before(async () => {
    certs = testCerts();
    await helper.startServer();
    server = await startMosquitto({ tls: { certs } });
    wrongHost = await startMosquitto({ tls: { certs, wrongHost: true }, websockets: true });
    mutual = await startMosquitto({ tls: { certs, requireCertificate: true, useIdentityAsUsername: true } });
  });
  after(async () => {
    await Promise.all([server.stop(), wrongHost.stop(), mutual.stop()]);
    await helper.stopServer();
  });
  afterEach(() => helper.unload());

  test('the right CA connects, verified', async () => {
    const { seen } = await connectAndWatch(tlsFlow(server.tlsPort as number, { ca: certs.caCert }));
    const s = await waitFor(() => seen.find((x) => x.text?.startsWith('connected')), 5000, 'connected');
    assert.deepEqual(s, { fill: 'green', shape: 'dot', text: 'connected' });
  });

  test('the CA given as credential data (no files) connects too', async () => {
    const fs = await import('node:fs');
    await helper.load(modules, tlsFlow(server.tlsPort as number, {}), { t1: { cadata: fs.readFileSync(certs.caCert, 'utf8') } });
    const seen = attachUser(helper.getNode('b1') as unknown as BrokerNode);
    await waitFor(() => seen.find((x) => x.text === 'connected'), 5000, 'connected');
  });

  test('a wrong CA is refused with the reason shown and never connects', async () => {
    const { seen } = await connectAndWatch(tlsFlow(server.tlsPort as number, { ca: certs.otherCaCert }));
    const s = await expectRefused(seen, /^TLS: /);
    assert.match(s.text ?? '', /unknown CA/);
    assert.equal(logLines('TLS: ').length, 1, 'logged once');
  });

  test('mqtts without any TLS config verifies against the system CAs (never silently unverified)', async () => {
    const { seen } = await connectAndWatch(tlsFlow(server.tlsPort as number, undefined));
    await expectRefused(seen, /^TLS: /);
  });

  test('a host name mismatch is refused with the reason shown', async () => {
    const { seen } = await connectAndWatch(tlsFlow(wrongHost.tlsPort as number, { ca: certs.caCert }));
    await expectRefused(seen, /^TLS: host name does not match certificate$/);
  });

  test('the TLS server name, when given, is the name checked (mqtts)', async () => {
    const { seen } = await connectAndWatch(tlsFlow(wrongHost.tlsPort as number, { ca: certs.caCert, servername: 'broker.example.net' }));
    await waitFor(() => seen.find((x) => x.text === 'connected'), 5000, 'connected with the server name of the certificate');
  });

  test('wss verifies like mqtts, and the TLS options reach the websocket (server name)', async () => {
    const wss = { transport: 'wss', port: wrongHost.wsPort };
    const refused = await connectAndWatch(tlsFlow(0, { ca: certs.caCert }, wss));
    await expectRefused(refused.seen, /^TLS: host name does not match certificate$/);
    await helper.unload();
    const { seen } = await connectAndWatch(tlsFlow(0, { ca: certs.caCert, servername: 'broker.example.net' }, wss));
    await waitFor(() => seen.find((x) => x.text === 'connected'), 5000, 'connected over wss with the server name');
  });

  test('verification turned off connects, and the status and the log say so', async () => {
    const { seen } = await connectAndWatch(tlsFlow(wrongHost.tlsPort as number, { ca: certs.otherCaCert, verifyservercert: false }));
    const s = await waitFor(() => seen.find((x) => x.text?.startsWith('connected')), 5000, 'connected');
    assert.deepEqual(s, { fill: 'yellow', shape: 'dot', text: 'connected, TLS unverified' });
    assert.equal(logLines('TLS server verification is OFF').length, 1);
  });

  test('mutual TLS: the client certificate connects and the broker takes its CN as user name', async () => {
    const { seen } = await connectAndWatch(
      tlsFlow(mutual.tlsPort as number, { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey }, { clientId: 'mtls-1' }),
    );
    await waitFor(() => seen.find((x) => x.text === 'connected'), 5000, 'connected');
    await waitFor(() => mutual.log().includes(`as mtls-1 (p2, c1, k60, u'${certs.clientCN}')`), 3000, 'CN as user name in broker log');
  });

  test('mutual TLS: without a client certificate the broker refuses', async () => {
    const { seen } = await connectAndWatch(tlsFlow(mutual.tlsPort as number, { ca: certs.caCert }, { clientId: 'mtls-2' }));
    const s = await waitFor(() => seen.find((x) => x.fill === 'red'), 8000, 'refusal');
    assert.equal(s.text, 'TLS: broker requires a client certificate');
    await waitFor(() => seen.filter((x) => x.fill === 'red').length >= 2, 8000, 'retries');
    assert.ok(!seen.some((x) => x.text?.startsWith('connected')));
  });

  test('a client certificate from an unknown CA is refused', async () => {
    const { seen } = await connectAndWatch(
      tlsFlow(mutual.tlsPort as number, { ca: certs.caCert, cert: certs.strangerCert, key: certs.strangerKey }, { clientId: 'mtls-3' }),
    );
    const s = await waitFor(() => seen.find((x) => x.fill === 'red'), 8000, 'refusal');
    assert.equal(s.text, 'TLS: broker does not trust the client certificate');
    assert.ok(!seen.some((x) => x.text?.startsWith('connected')));
  });

  test('a TLS config pointing at a missing file stops the connection with a clear status', async () => {
    const { seen } = await connectAndWatch(tlsFlow(server.tlsPort as number, { ca: '/nonexistent/ca.pem' }));
    assert.deepEqual(seen[0], { fill: 'red', shape: 'ring', text: 'TLS config invalid (see its error)' });
  });
});
