import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import mqtt from 'mqtt';
import { certificateCommonName, connectionIdentity } from '../../src/lib/acl/certificate-identity';
import { parseMosquittoAcl } from '../../src/lib/acl/mosquitto-acl';
import { testCerts } from '../helpers/certs';
import { startMosquitto } from '../helpers/mosquitto';
import { brokerAllowsPublish } from './broker-oracle';

test('the CN of a PEM client certificate', () => {
  const certs = testCerts();
  assert.equal(certificateCommonName(fs.readFileSync(certs.clientCert)), certs.clientCN);
  assert.equal(certificateCommonName(fs.readFileSync(certs.clientCert, 'utf8')), certs.clientCN);
});

test('a certificate with several subject fields and no CN', () => {
  const dir = fs.mkdtempSync(path.join(testCerts().dir, 'nocn-'));
  const key = path.join(dir, 'k.pem');
  const crt = path.join(dir, 'c.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt, '-subj', '/O=Acme/OU=Plant 1', '-days', '1'], { stdio: 'ignore' });
  assert.throws(() => certificateCommonName(fs.readFileSync(crt)), /no Common Name/);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt, '-subj', '/O=Acme/CN=gw 7/OU=x', '-days', '1'], { stdio: 'ignore' });
  assert.equal(certificateCommonName(fs.readFileSync(crt)), 'gw 7');
});

test('a CN with the characters a printed subject escapes, a multi-valued RDN, two CNs: the first CN, decoded', () => {
  const dir = fs.mkdtempSync(path.join(testCerts().dir, 'cn-'));
  const key = path.join(dir, 'k.pem');
  const crt = path.join(dir, 'c.pem');
  const cases: [string, string][] = [
    ['/CN=plant\\,line 2', 'plant,line 2'],
    ['/CN=\\+gw', '+gw'],
    ['/CN=a"b=c', 'a"b=c'],
    ['/O=Acme+CN=gw 9', 'gw 9'],
    ['/CN=first/CN=second', 'first'],
    ['/CN=Gerät 7', 'Gerät 7'],
  ];
  for (const [subj, cn] of cases) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', crt, '-subj', subj, '-utf8', '-days', '1'], { stdio: 'ignore' });
    assert.equal(certificateCommonName(fs.readFileSync(crt)), cn, subj);
  }
});

test('reading the CN in a process that has not loaded tls yet leaves tls working (Node 20 half-loads it otherwise)', () => {
  const script = `const { certificateCommonName } = require(${JSON.stringify(require.resolve('../../src/lib/acl/certificate-identity'))});
    certificateCommonName(require('node:fs').readFileSync(${JSON.stringify(testCerts().clientCert)}));
    process.stdout.write(typeof require('node:tls').createSecureContext);`;
  assert.equal(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }), 'function');
});

test('connectionIdentity: user name, no user name, or the CN with use_identity_as_username', () => {
  assert.deepEqual(connectionIdentity({ clientId: 'c', username: 'bob' }), { username: 'bob', clientId: 'c' });
  assert.deepEqual(connectionIdentity({ clientId: 'c', username: '' }), { username: undefined, clientId: 'c' });
  const cert = fs.readFileSync(testCerts().clientCert);
  assert.deepEqual(connectionIdentity({ clientId: 'c', username: 'ignored', certificate: cert, useIdentityAsUsername: true }), {
    username: testCerts().clientCN,
    clientId: 'c',
  });
  assert.throws(() => connectionIdentity({ clientId: 'c', useIdentityAsUsername: true }), /needs a client certificate/);
});

test('with use_identity_as_username the broker applies the CN user block, and so does the engine', async () => {
  const certs = testCerts();
  const acl = `user ${certs.clientCN}\ntopic write gw/own\nuser configured-name\ntopic write gw/other\n`;
  const mosq = await startMosquitto({ acl, tls: { certs, requireCertificate: true, useIdentityAsUsername: true } });
  const engine = parseMosquittoAcl(acl);
  const identity = connectionIdentity({ clientId: 'gw-1', username: 'configured-name', certificate: fs.readFileSync(certs.clientCert), useIdentityAsUsername: true });
  const client = await mqtt.connectAsync(`mqtts://localhost:${mosq.tlsPort}`, {
    protocolVersion: 5,
    clientId: 'gw-1',
    username: 'configured-name',
    ca: fs.readFileSync(certs.caCert),
    cert: fs.readFileSync(certs.clientCert),
    key: fs.readFileSync(certs.clientKey),
    reconnectPeriod: 0,
  });
  try {
    for (const topic of ['gw/own', 'gw/other']) {
      assert.equal(engine.check(identity, topic, 'write').allowed, await brokerAllowsPublish(client, topic), topic);
    }
    assert.equal(engine.check(identity, 'gw/own', 'write').allowed, true);
  } finally {
    await client.endAsync(true);
    await mosq.stop();
  }
});
