import assert from 'node:assert/strict';
import { test } from 'node:test';
import { preparePublish, type PublishDefaults } from '../../src/lib/publish/prepare';

const v5: PublishDefaults = { topic: '', qos: undefined, retain: undefined, protocolVersion: 5 };
const v4: PublishDefaults = { ...v5, protocolVersion: 4 };

function refusal(r: ReturnType<typeof preparePublish>): string {
  assert.equal(r.ok, false, 'refused');
  return r.ok ? '' : `${r.error.code}: ${r.error.message}`;
}

test('a plain message becomes a request with its topic, payload, QoS and retain flag', () => {
  const r = preparePublish({ topic: 'a/b', payload: { t: 21.5 }, qos: '1', retain: true }, v5);
  assert.ok(r.ok);
  assert.deepEqual(r.request, { topic: 'a/b', payload: '{"t":21.5}', qos: 1, retain: true });
  assert.equal(r.bytes, 10 + 3);
});

test('msg.retain: booleans and the strings "true"/"false" as Node-RED\'s mqtt out; anything else is refused; a fixed flag wins', () => {
  const retained = (retain: unknown, d: PublishDefaults = v4): boolean | undefined => {
    const r = preparePublish({ topic: 'a', payload: 'x', retain }, d);
    return r.ok ? r.request.retain : undefined;
  };
  assert.equal(retained(true), true);
  assert.equal(retained('true'), true);
  assert.equal(retained(false), false);
  assert.equal(retained('false'), false);
  for (const absent of [undefined, null, '']) assert.equal(retained(absent), false, String(absent));
  for (const bad of ['yes', 'TRUE', 1, 0, {}, []]) {
    assert.match(refusal(preparePublish({ topic: 'a', payload: 'x', retain: bad }, v4)), /^INVALID_MESSAGE: msg\.retain must be true or false/, JSON.stringify(bad));
  }
  assert.equal(retained('yes', { ...v4, retain: false }), false, 'the node\'s own retain setting ignores msg.retain');
  assert.equal(retained('false', { ...v4, retain: true }), true);
});

test('v5 properties are carried; on MQTT 3.1.1 none are', () => {
  const msg = { topic: 'a', payload: 'x', contentType: 'text/plain', messageExpiry: '60', userProperties: { site: 'lab', n: 3, tags: ['a', 'b'] }, responseTopic: 'r/1', correlationData: 'id-1' };
  const r = preparePublish(msg, v5);
  assert.ok(r.ok);
  assert.deepEqual(r.request.properties, {
    contentType: 'text/plain',
    messageExpiryInterval: 60,
    userProperties: { site: 'lab', n: '3', tags: ['a', 'b'] },
    responseTopic: 'r/1',
    correlationData: Buffer.from('id-1'),
  });
  const r4 = preparePublish(msg, v4);
  assert.ok(r4.ok);
  assert.equal(r4.request.properties, undefined);
});

test('user properties that yield no pair are left out (MQTT.js would never send nor settle the publish)', () => {
  for (const userProperties of [{}, { a: [] }, { a: [], b: [] }]) {
    const r = preparePublish({ topic: 'a', payload: 'x', userProperties }, v5);
    assert.ok(r.ok, JSON.stringify(userProperties));
    assert.equal(r.request.properties, undefined, JSON.stringify(userProperties));
  }
});

test('a user property named __proto__ stays a property and leaves the prototype alone', () => {
  const userProperties = JSON.parse('{"__proto__": "x", "b": "y"}') as Record<string, string>;
  const r = preparePublish({ topic: 'a', payload: 'x', userProperties }, v5);
  assert.ok(r.ok);
  const up = r.request.properties?.userProperties as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(up) as unknown, Object.prototype);
  assert.deepEqual(Object.getOwnPropertyNames(up), ['__proto__', 'b']);
  assert.equal(Object.entries(up).find(([k]) => k === '__proto__')?.[1], 'x');
});

test('strings Mosquitto would disconnect us for are refused before they are queued', () => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ contentType: 'text/\u0001' }, /msg\.contentType contains the forbidden character U\+0001/],
    [{ contentType: 'a\ud800' }, /msg\.contentType is not valid UTF-8/],
    [{ userProperties: { 'k\u0085': 'v' } }, /a user property name contains the forbidden character U\+0085/],
    [{ userProperties: { k: 'v\uffff' } }, /user property "k" contains the forbidden character U\+FFFF/],
    [{ userProperties: { k: ['ok', '\ufdd0'] } }, /user property "k" contains the forbidden character U\+FDD0/],
    [{ responseTopic: 'r/\u0000' }, /msg\.responseTopic/],
  ];
  for (const [fields, re] of cases) {
    assert.match(refusal(preparePublish({ topic: 'a', payload: 'x', ...fields }, v5)), new RegExp(`^INVALID_MESSAGE: ${re.source}`), JSON.stringify(fields));
  }
});

test('properties over 65,535 bytes are refused; 65,535 is accepted', () => {
  const big = 'x'.repeat(65536);
  assert.match(refusal(preparePublish({ topic: 'a', payload: 'x', contentType: big }, v5)), /contentType is longer than 65535 bytes/);
  assert.match(refusal(preparePublish({ topic: 'a', payload: 'x', correlationData: Buffer.alloc(65536) }, v5)), /correlationData is longer than 65535 bytes/);
  assert.match(refusal(preparePublish({ topic: 'a', payload: 'x', userProperties: { k: big } }, v5)), /user property "k" is longer than 65535 bytes/);
  assert.match(refusal(preparePublish({ topic: 'a', payload: 'x', userProperties: { [big]: 'v' } }, v5)), /user property name is longer/);
  assert.ok(preparePublish({ topic: 'a', payload: 'x', correlationData: Buffer.alloc(65535), contentType: 'é'.repeat(32767) }, v5).ok);
});

test('a message expiry that is not whole seconds is refused, whatever its type; it never throws', () => {
  for (const messageExpiry of [Symbol('s'), Object.create(null) as object, [[[1]]], -1, 1.5, 'soon', 2 ** 32, true]) {
    assert.match(refusal(preparePublish({ topic: 'a', payload: 'x', messageExpiry }, v5)), /msg\.messageExpiry must be whole seconds/, String(typeof messageExpiry));
  }
  const r = preparePublish({ topic: 'a', payload: 'x', messageExpiry: '0' }, v5);
  assert.ok(r.ok);
  assert.equal(r.request.properties?.messageExpiryInterval, 0);
});

test('a long hostile user property name is cut in the error message', () => {
  const message = refusal(preparePublish({ topic: 'a', payload: 'x', userProperties: { ['k'.repeat(5000)]: { nested: 1 } } }, v5));
  assert.ok(message.length < 120, message);
});

test('an ACL denial names the rule; the topic check comes first', () => {
  const checker = { check: () => ({ allowed: false, reason: 'no rule for user' }) };
  const r = preparePublish({ topic: 'a/b', payload: 'x' }, v5, { checker, identity: { clientId: 'c' } });
  assert.ok(!r.ok);
  assert.deepEqual(r.error, { code: 'ACL_DENIED', message: 'not allowed to publish to "a/b"', rule: 'no rule for user' });
  assert.match(refusal(preparePublish({ topic: 'a/#', payload: 'x' }, v5, { checker, identity: { clientId: 'c' } })), /^INVALID_TOPIC/);
});

test('an ACL denial of a 60,000-character topic quotes only its start', () => {
  const checker = { check: () => ({ allowed: false, reason: 'no rule for user' }) };
  const topic = `site/${'x'.repeat(60000)}`;
  const r = preparePublish({ topic, payload: 'x' }, v5, { checker, identity: { clientId: 'c' } });
  assert.ok(!r.ok);
  assert.ok(r.error.message.length < 120, `${r.error.message.length} characters`);
  assert.ok(r.error.message.startsWith('not allowed to publish to "site/xxx'), r.error.message);
});
