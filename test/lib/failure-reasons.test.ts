import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connackReason, describeError } from '../../src/lib/mqtt/failure-reasons';

test('CONNACK return codes of 3.1.1', () => {
  assert.equal(connackReason(4, 4).text, 'refused: bad user name or password');
  assert.equal(connackReason(5, 4).text, 'refused: not authorized');
  assert.equal(connackReason(1, 4).text, 'refused: unacceptable protocol version');
  assert.equal(connackReason(2, 4).text, 'refused: client id rejected');
  assert.equal(connackReason(3, 4).text, 'refused: server unavailable');
  // Mosquitto 2 refuses a wrong password with "not authorized"; the text says what that most likely means.
  assert.equal(connackReason(5, 4, true).text, 'refused: not authorized (bad user name or password?)');
  assert.equal(connackReason(0x87, 5, false).text, 'refused: not authorized (anonymous access refused?)');
});

test('CONNACK reason codes of 5', () => {
  assert.equal(connackReason(0x86, 5).text, 'refused: bad user name or password');
  assert.equal(connackReason(0x87, 5).text, 'refused: not authorized');
  assert.equal(connackReason(0x8a, 5).text, 'refused: banned');
  assert.equal(connackReason(0x9f, 5).text, 'refused: connection rate exceeded');
  for (let c = 0x80; c <= 0x9f; c++) assert.doesNotMatch(connackReason(c, 5).text, /reason/);
});

test('network and TLS errors in plain words', () => {
  const e = (code: string, message = code): Error => Object.assign(new Error(message), { code });
  assert.equal(describeError(e('ECONNREFUSED'), 4).text, 'connection refused (nothing listening)');
  assert.equal(describeError(e('ENOTFOUND'), 4).text, 'host name not found');
  assert.equal(describeError(e('SELF_SIGNED_CERT_IN_CHAIN'), 4).text, 'TLS: unknown CA (self-signed CA in chain not trusted)');
  assert.equal(describeError(e('CERT_HAS_EXPIRED'), 4).text, 'TLS: server certificate expired');
  assert.equal(describeError(e('ERR_TLS_CERT_ALTNAME_INVALID'), 4).text, 'TLS: host name does not match certificate');
  assert.equal(describeError(e('ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE'), 4).text, 'TLS: handshake failure');
  assert.equal(describeError(e('ERR_SSL_SOMETHING_NEW'), 4).text, 'TLS: something new');
  assert.equal(describeError(new Error('connack timeout'), 4).text, 'broker did not answer in time');
  const refused = Object.assign(new Error('Connection refused: Bad User Name or Password'), { code: 134 });
  assert.equal(describeError(refused, 5).text, 'refused: bad user name or password');
  const refusedV3 = Object.assign(new Error('Connection refused: whatever'), { code: 4 });
  assert.equal(describeError(refusedV3, 4).text, 'refused: bad user name or password');
});

test('an alert that arrives as EPROTO with OpenSSL text is put in plain words too', () => {
  const eproto = (reason: string): Error =>
    Object.assign(new Error(`write EPROTO 802C5BD1A67F0000:error:0A00042E:SSL routines:ssl3_read_bytes:${reason}:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:1605:SSL alert number 70\n`), { code: 'EPROTO' });
  assert.deepEqual(describeError(eproto('tlsv1 alert protocol version'), 4), {
    code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
    text: 'TLS: protocol version not accepted',
    words: { key: 'code.ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' },
  });
  assert.equal(describeError(eproto('sslv3 alert handshake failure'), 4).text, 'TLS: handshake failure');
  assert.equal(describeError(eproto('tlsv13 alert certificate required'), 4).text, 'TLS: broker requires a client certificate');
  assert.deepEqual(describeError(eproto('some new reason'), 4), { code: 'EPROTO', text: 'TLS: some new reason' });
});
