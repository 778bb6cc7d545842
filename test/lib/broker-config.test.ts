import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deriveSettings, parseProperties } from '../../src/lib/mqtt/broker-config';
import { stableClientId } from '../../src/lib/mqtt/settings';

test('editor fields become connection settings with defaults per transport', () => {
  const { settings, problems } = deriveSettings({ host: ' broker.lan ', transport: 'mqtts', protocolVersion: '5', sessionExpiry: '3600', cleanSession: false }, { user: 'u', password: 'p' }, 'id-1', { ca: 'x' });
  assert.deepEqual(problems, []);
  assert.equal(settings.host, 'broker.lan');
  assert.equal(settings.port, 8883);
  assert.equal(settings.protocolVersion, 5);
  assert.equal(settings.sessionExpiry, 3600);
  assert.equal(settings.clean, false);
  assert.equal(settings.keepalive, 60);
  assert.deepEqual(settings.backoff, { initialMs: 1000, maxMs: 60000, stableMs: 30000, jitter: 0.3 });
  assert.equal(settings.username, 'u');
});

test('minimum TLS version is passed to the TLS options', () => {
  const { settings } = deriveSettings({ host: 'h', transport: 'mqtts', tlsMinVersion: 'TLSv1.3' }, {}, 'id', { rejectUnauthorized: true });
  assert.equal(settings.tls?.minVersion, 'TLSv1.3');
});

test('lifecycle messages: invalid topics and properties are configuration problems', () => {
  const { settings, problems } = deriveSettings(
    { host: 'h', protocolVersion: '5', birthTopic: 'dev/+', willTopic: 'dev/will', willPayload: 'gone', willQos: '1', willRetain: true, willProps: '{"willDelayInterval":5,"userProperties":{"a":"b"}}', closeTopic: 'dev/c', closeProps: '{bad' },
    {},
    'id',
    undefined,
  );
  assert.equal(settings.birth, undefined);
  assert.deepEqual(settings.will, { topic: 'dev/will', payload: 'gone', qos: 1, retain: true, properties: { willDelayInterval: 5, userProperties: { a: 'b' } } });
  assert.deepEqual(problems, ['birth topic: topic "dev/+" contains a wildcard (+ or #)', 'close properties: not valid JSON']);
  assert.deepEqual(deriveSettings({ host: '' }, {}, 'id', undefined).problems, ['broker host is empty']);
});

test('with MQTT 3.1.1, properties left from a v5 setup are not sent and do not stop the connection', () => {
  const { settings, problems } = deriveSettings({ host: 'h', protocolVersion: '4', willTopic: 'dev/will', willProps: '{bad', birthTopic: 'dev/b', birthProps: '{"messageExpiryInterval":5}' }, {}, 'id', undefined);
  assert.deepEqual(problems, []);
  assert.deepEqual(settings.will, { topic: 'dev/will', payload: '', qos: 0, retain: false });
  assert.equal(settings.birth?.properties, undefined);
});

test('v5 properties JSON is checked field by field', () => {
  assert.deepEqual(parseProperties('{"contentType":"text/plain","messageExpiryInterval":60}'), { contentType: 'text/plain', messageExpiryInterval: 60 });
  assert.equal(parseProperties('[1]'), 'must be a JSON object');
  assert.equal(parseProperties('{"messageExpiryInterval":-1}'), 'messageExpiryInterval must be a whole number of seconds');
  assert.equal(parseProperties('{"userProperties":{"a":1}}'), 'user property "a" must be a string');
});

test('generated client ids are stable per runtime and differ between runtimes', () => {
  const a = stableClientId('node1', 'pi-kitchen', '/home/pi/.node-red');
  assert.equal(a, stableClientId('node1', 'pi-kitchen', '/home/pi/.node-red'));
  assert.notEqual(a, stableClientId('node1', 'pi-garage', '/home/pi/.node-red'));
  assert.notEqual(a, stableClientId('node1', 'pi-kitchen', '/srv/node-red'));
  assert.ok(a.length <= 23, 'fits the 23 characters every MQTT 3.1.1 broker must accept');
});
