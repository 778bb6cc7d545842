// TLS: a server certificate that expired or is not yet valid is refused like a wrong host; the broker node's minimum
// TLS version is honoured against a real Mosquitto listener limited to TLS 1.2.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { after, afterEach, before, describe, test } from 'node:test';
import type { BrokerNode } from '../../src/nodes/shared/broker-node';
import type { NodeStatus } from '../../src/nodes/shared/node-red';
import { attachUser, waitFor } from '../helpers/broker';
import { signCert, testCerts, type CertSet } from '../helpers/certs';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto';
import { helper, nodeModule, tlsConfigModule, type FlowNode } from '../helpers/node-red';

const modules = [tlsConfigModule(), nodeModule('secure-mqtt-broker')];

function flow(port: number, caCert: string, extra: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: 'b1', type: 'secure-mqtt-broker', host: 'localhost', port, transport: 'mqtts', reconnectMin: '0.1', reconnectMax: '0.5', tls: 't1', clientId: `tls-${Date.now()}`, ...extra },
    { id: 't1', type: 'tls-config', cert: '', key: '', ca: caCert, servername: '', verifyservercert: true, alpnprotocol: '' },
  ];
}

async function load(port: number, caCert: string, extra: Record<string, unknown> = {}): Promise<NodeStatus[]> {
  await helper.load(modules, flow(port, caCert, extra));
  return attachUser(helper.getNode('b1') as unknown as BrokerNode);
}

/**
 * Mosquitto's `tls_version tlsv1.2` is a minimum (TLS 1.3 still negotiates), so the TLS 1.2-only listener is made
 * with an OpenSSL configuration for the broker process alone: MaxProtocol = TLSv1.2.
 */
async function startTls12Only(certs: CertSet): Promise<RunningMosquitto> {
  const conf = path.join(certs.dir, 'openssl-max-tls12.cnf');
  fs.writeFileSync(conf, ['openssl_conf = openssl_init', '[openssl_init]', 'ssl_conf = ssl_sect', '[ssl_sect]', 'system_default = sys', '[sys]', 'MaxProtocol = TLSv1.2', ''].join('\n'), { mode: 0o644 });
  const saved = process.env.OPENSSL_CONF;
  process.env.OPENSSL_CONF = conf; // read by the spawned mosquitto only; this process loaded its OpenSSL config at start
  try {
    return await startMosquitto({ tls: { certs, tlsVersion: 'tlsv1.2' } });
  } finally {
    if (saved === undefined) delete process.env.OPENSSL_CONF;
    else process.env.OPENSSL_CONF = saved;
  }
}

/** The protocol a plain TLS client negotiates with the listener (or the error it gets). */
function negotiate(port: number, ca: string, opts: tls.ConnectionOptions = {}): Promise<string> {
  return new Promise((resolve) => {
    const sock = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: fs.readFileSync(ca), ...opts }, () => {
      resolve(sock.getProtocol() ?? 'none');
      sock.destroy();
    });
    sock.once('error', (err: Error) => resolve(`error: ${err.message}`));
  });
}

/** Refused with a TLS reason, retried, never connected. */
async function expectRefused(seen: NodeStatus[], text: RegExp): Promise<NodeStatus> {
  const s = await waitFor(() => seen.find((x) => x.fill === 'red' && text.test(x.text ?? '')), 10000, `status ${text}`);
  await waitFor(() => seen.filter((x) => x.text === 'connecting' || x.text?.startsWith('retrying')).length >= 3, 10000, 'retries');
  assert.ok(!seen.some((x) => x.text?.startsWith('connected')), `never connected: ${JSON.stringify(seen)}`);
  return s;
}

describe('security: TLS certificate validity and minimum version', () => {
  let certs: CertSet;
  const brokers: RunningMosquitto[] = [];
  let expired: RunningMosquitto;
  let notYet: RunningMosquitto;
  let tls12: RunningMosquitto;
  before(async () => {
    certs = testCerts();
    const ca = { cert: certs.caCert, key: certs.caKey };
    const san = 'DNS:localhost,IP:127.0.0.1';
    const old = signCert(certs.dir, 'server-expired', 'localhost', ca, { san, startDate: '20200101000000Z', endDate: '20210101000000Z' });
    const future = signCert(certs.dir, 'server-future', 'localhost', ca, { san, startDate: '20900101000000Z', endDate: '20991231000000Z' });
    for (const f of fs.readdirSync(certs.dir)) fs.chmodSync(`${certs.dir}/${f}`, 0o644);
    await helper.startServer();
    expired = await startMosquitto({ tls: { certs, serverCert: old } });
    notYet = await startMosquitto({ tls: { certs, serverCert: future } });
    tls12 = await startTls12Only(certs);
    brokers.push(expired, notYet, tls12);
  });
  after(async () => {
    await Promise.all(brokers.map((b) => b.stop()));
    await helper.stopServer();
  });
  afterEach(() => helper.unload());

  test('an expired server certificate is refused, with the reason in the status', async () => {
    const s = await expectRefused(await load(expired.tlsPort as number, certs.caCert), /^TLS: /);
    assert.match(s.text ?? '', /expired/i);
  });

  test('a server certificate that is not yet valid is refused, with the reason in the status', async () => {
    const s = await expectRefused(await load(notYet.tlsPort as number, certs.caCert), /^TLS: /);
    assert.match(s.text ?? '', /not yet valid/i);
  });

  test('the TLS 1.2-only listener really is TLS 1.2 only (checked with a plain TLS client)', async () => {
    assert.equal(await negotiate(tls12.tlsPort as number, certs.caCert), 'TLSv1.2');
    assert.match(await negotiate(tls12.tlsPort as number, certs.caCert, { minVersion: 'TLSv1.3' }), /^error: /);
    assert.equal(await negotiate(expired.tlsPort as number, certs.caCert, { rejectUnauthorized: false }), 'TLSv1.3', 'the other listeners speak 1.3');
  });

  test('minimum TLS 1.3 against a TLS 1.2-only listener: refused, never connected', async () => {
    const seen = await load(tls12.tlsPort as number, certs.caCert, { tlsMinVersion: 'TLSv1.3' });
    const s = await expectRefused(seen, /./);
    assert.equal(s.text, 'TLS: protocol version not accepted');
  });

  test('minimum TLS 1.2 against the same listener connects (the refusal above is the version, nothing else)', async () => {
    const seen = await load(tls12.tlsPort as number, certs.caCert, { tlsMinVersion: 'TLSv1.2' });
    const s = await waitFor(() => seen.find((x) => x.text?.startsWith('connected')), 10000, 'connected');
    assert.deepEqual(s, { fill: 'green', shape: 'dot', text: 'connected' });
  });
});
