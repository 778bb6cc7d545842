// MQTT.js takes a SOCKS proxy from the environment (MQTTJS_SOCKS_PROXY) and on that path leaves the host out of
// tls.connect: Node then checked an IP-addressed broker's certificate against "localhost". The connection checks the
// name the user configured, with or without the proxy.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import type { PeerCertificate } from 'node:tls';
import type { IClientOptions } from 'mqtt';
import { after, before, describe, test } from 'node:test';
import { MqttConnection } from '../../src/lib/mqtt/connection';
import type { FailureReason } from '../../src/lib/mqtt/failure-reasons';
import { waitFor } from '../helpers/broker';
import { signCert, testCerts, type CertSet } from '../helpers/certs';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto';

/** A SOCKS5 proxy (no authentication, CONNECT only) that pipes to 127.0.0.1, and counts what went through it. */
async function startSocks(): Promise<{ port: number; used: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const state = { used: 0 };
  const server = net.createServer((c) => {
    sockets.add(c);
    c.on('error', () => c.destroy());
    c.once('data', () => {
      c.write(Buffer.from([5, 0]));
      c.once('data', (req) => {
        const off = req[3] === 1 ? 8 : req[3] === 3 ? 5 + req[4] : 20;
        const up = net.connect(req.readUInt16BE(off), '127.0.0.1', () => {
          state.used++;
          c.write(Buffer.from([5, 0, 0, 1, 127, 0, 0, 1, 0, 0]));
          c.pipe(up);
          up.pipe(c);
        });
        sockets.add(up);
        up.on('error', () => c.destroy());
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    get used() {
      return state.used;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('TLS through a SOCKS proxy from the environment', () => {
  let certs: CertSet;
  let localhostOnly: RunningMosquitto;
  let ipSan: RunningMosquitto;
  let socks: Awaited<ReturnType<typeof startSocks>>;
  before(async () => {
    certs = testCerts();
    const dnsOnly = signCert(certs.dir, 'localhost-only', 'localhost', { cert: certs.caCert, key: certs.caKey }, { san: 'DNS:localhost' });
    const ipOnly = signCert(certs.dir, 'ip-only', '127.0.0.1', { cert: certs.caCert, key: certs.caKey }, { san: 'IP:127.0.0.1' });
    for (const f of [dnsOnly.cert, dnsOnly.key, ipOnly.cert, ipOnly.key]) fs.chmodSync(f, 0o644);
    localhostOnly = await startMosquitto({ tls: { certs, serverCert: dnsOnly } });
    ipSan = await startMosquitto({ tls: { certs, serverCert: ipOnly } });
    socks = await startSocks();
  });
  after(async () => {
    await socks?.close();
    await localhostOnly?.stop();
    await ipSan?.stop();
  });

  /** Connects to 127.0.0.1 over TLS; resolves with 'connected' or the failure's code. */
  async function outcome(port: number, viaSocks: boolean): Promise<string> {
    const saved = process.env.MQTTJS_SOCKS_PROXY;
    if (viaSocks) process.env.MQTTJS_SOCKS_PROXY = `socks5://127.0.0.1:${socks.port}`;
    const conn = new MqttConnection({
      host: '127.0.0.1',
      port,
      transport: 'mqtts',
      protocolVersion: 4,
      clientId: `socks-${port}-${viaSocks}`,
      keepalive: 30,
      clean: true,
      tls: { ca: fs.readFileSync(certs.caCert) },
    });
    let failure: FailureReason | undefined;
    conn.on('failure', (f) => (failure = f));
    try {
      conn.start();
      await waitFor(() => conn.connected || failure, 10000, 'connected or refused');
      return conn.connected ? 'connected' : (failure?.code ?? 'unknown');
    } finally {
      if (saved === undefined) delete process.env.MQTTJS_SOCKS_PROXY;
      else process.env.MQTTJS_SOCKS_PROXY = saved;
      await conn.close(200);
    }
  }

  test('a certificate for "localhost" only is refused at 127.0.0.1, directly and through the proxy', async () => {
    const direct = await outcome(localhostOnly.tlsPort as number, false);
    const before = socks.used;
    const proxied = await outcome(localhostOnly.tlsPort as number, true);
    assert.ok(socks.used > before, 'the connection went through the proxy');
    assert.notEqual(direct, 'connected');
    assert.equal(proxied, direct);
  });

  test('a certificate for the IP address is accepted at 127.0.0.1, directly and through the proxy', async () => {
    assert.equal(await outcome(ipSan.tlsPort as number, false), 'connected');
    const before = socks.used;
    assert.equal(await outcome(ipSan.tlsPort as number, true), 'connected');
    assert.ok(socks.used > before, 'the connection went through the proxy');
  });

  test('the name checked is the configured one: the server name when set, an IPv6 host without its brackets', () => {
    type Check = { checkServerIdentity?: (name: string, cert: PeerCertificate) => Error | undefined };
    const optionsFor = (host: string, servername?: string): Check => {
      let seen: IClientOptions | undefined;
      const conn = new MqttConnection(
        { host, port: 1, transport: 'mqtts', protocolVersion: 4, clientId: 'names', keepalive: 30, clean: true, tls: servername ? { servername } : {} },
        { connect: (o) => { seen = o; throw new Error('not connecting'); } },
      );
      conn.start();
      void conn.close(0);
      assert.ok(seen);
      return seen as Check;
    };
    const v6: PeerCertificate = { subject: { CN: 'broker' }, subjectaltname: 'IP Address:0:0:0:0:0:0:0:1' } as unknown as PeerCertificate;
    const named: PeerCertificate = { subject: { CN: 'broker' }, subjectaltname: 'DNS:broker.example.net' } as unknown as PeerCertificate;
    assert.equal(optionsFor('[::1]').checkServerIdentity?.('ignored', v6), undefined);
    assert.ok(optionsFor('[::1]').checkServerIdentity?.('ignored', named) instanceof Error);
    assert.equal(optionsFor('10.0.0.5', 'broker.example.net').checkServerIdentity?.('10.0.0.5', named), undefined);
    assert.ok(optionsFor('10.0.0.5').checkServerIdentity?.('localhost', named) instanceof Error);
  });
});
