// Properties of the publish and subscribe conversions: preparePublish turns any message into either a request that
// is valid to send or a NotSent with a clear message; convertMessage decodes any bytes and properties without throwing.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import type { IPublishPacket } from 'mqtt';
import { checkPublishTopic } from '../../src/lib/mqtt/topic-rules';
import { preparePublish, type PublishDefaults } from '../../src/lib/publish/prepare';
import type { WriteChecker } from '../../src/lib/publish/types';
import { convertMessage, type PayloadMode } from '../../src/lib/subscribe/convert';
import { assertNoPollution, count, hostileBuffer, hostileKey, hostileMessage, hostileString, hostileValue, mosquittoAccepts, report } from './arbitraries';

const RUNS = 400;
const CODES = new Set(['INVALID_TOPIC', 'INVALID_MESSAGE', 'ACL_DENIED']);

const defaultsArb: fc.Arbitrary<PublishDefaults> = fc.record(
  {
    topic: fc.constantFrom('', '', 'fixed/topic', 'bad/+'),
    qos: fc.constantFrom(undefined, 0, 1, 2),
    retain: fc.constantFrom(undefined, true, false),
    protocolVersion: fc.constantFrom(4, 5),
    contentType: fc.constantFrom(undefined, 'text/plain'),
    messageExpiry: fc.constantFrom(undefined, 60),
    maxPayloadBytes: fc.constantFrom(undefined, 1024),
  },
  { requiredKeys: ['topic', 'qos', 'retain', 'protocolVersion'] },
).map((d) => {
  const out: PublishDefaults = { topic: d.topic, qos: d.qos, retain: d.retain, protocolVersion: d.protocolVersion };
  if (d.contentType !== undefined) out.contentType = d.contentType;
  if (d.messageExpiry !== undefined) out.messageExpiry = d.messageExpiry;
  if (d.maxPayloadBytes !== undefined) out.maxPayloadBytes = d.maxPayloadBytes;
  return out;
});

/** Write access only below sensors/ (a stand-in for a parsed ACL). */
const checker: WriteChecker = {
  check: (_who, topic) => (topic.startsWith('sensors/') ? { allowed: true, reason: 'allow sensors/#' } : { allowed: false, reason: 'no rule' }),
};

describe('fuzz: publish preparation and received-message conversion', () => {
  after(() => report('publish-convert'));

  test('preparePublish: a valid request or a NotSent with a code and a message; never throws, never pollutes', () => {
    let sent = 0;
    let refused = 0;
    fc.assert(
      fc.property(hostileMessage, defaultsArb, fc.boolean(), (msg, defaults, withAcl) => {
        count('preparePublish');
        const acl = withAcl ? { checker, identity: { clientId: 'c1' } } : undefined;
        const r = preparePublish(msg, defaults, acl);
        assertNoPollution();
        if (!r.ok) {
          refused++;
          assert.ok(CODES.has(r.error.code), r.error.code);
          assert.ok(typeof r.error.message === 'string' && r.error.message.length > 0 && r.error.message.length < 400, r.error.message);
          return true;
        }
        sent++;
        const q = r.request;
        assert.equal(checkPublishTopic(q.topic), undefined, 'topic valid');
        if (withAcl) assert.ok(q.topic.startsWith('sensors/'), 'ACL respected');
        assert.ok(q.qos === 0 || q.qos === 1 || q.qos === 2);
        assert.equal(typeof q.retain, 'boolean');
        assert.ok(typeof q.payload === 'string' || Buffer.isBuffer(q.payload));
        const bytes = Buffer.isBuffer(q.payload) ? q.payload.length : Buffer.byteLength(q.payload);
        assert.equal(r.bytes, bytes + Buffer.byteLength(q.topic));
        assert.ok(bytes <= (defaults.maxPayloadBytes ?? 268435455));
        if (defaults.protocolVersion === 4) assert.equal(q.properties, undefined, 'no v5 properties on MQTT 3.1.1');
        const p = q.properties;
        const sizes = [p?.contentType, p?.correlationData, ...Object.entries(p?.userProperties ?? {}).flat(2)].filter((x): x is string | Buffer => typeof x === 'string' || Buffer.isBuffer(x));
        // MQTT 5 string and binary properties are limited to 65,535 bytes.
        assert.ok(sizes.every((x) => Buffer.byteLength(x) <= 65535), 'a property longer than 65,535 bytes was prepared');
        // An own "__proto__" key in msg.userProperties must stay a key, not replace the copy's prototype.
        if (p?.userProperties) assert.equal(Object.getPrototypeOf(p.userProperties) as unknown, Object.prototype, 'userProperties prototype replaced');
        // MQTT.js neither sends nor settles a publish with an empty userProperties object.
        if (p?.userProperties) assert.ok(Object.keys(p.userProperties).length > 0, 'empty userProperties prepared');
        if (p?.userProperties) {
          for (const v of Object.values(p.userProperties)) assert.ok(typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')));
        }
        if (p?.responseTopic !== undefined) assert.equal(checkPublishTopic(p.responseTopic), undefined);
        if (p?.messageExpiryInterval !== undefined) assert.ok(Number.isInteger(p.messageExpiryInterval) && p.messageExpiryInterval >= 0);
        if (p?.contentType !== undefined) assert.equal(typeof p.contentType, 'string');
        // Every string the broker will check must pass Mosquitto's UTF-8 rule, or the broker disconnects us and the
        // queued message is replayed on every reconnect.
        const strings = [p?.contentType, ...Object.entries(p?.userProperties ?? {}).flat(2)].filter((x): x is string => typeof x === 'string');
        assert.ok(strings.every(mosquittoAccepts), `a property string Mosquitto refuses was prepared: ${JSON.stringify(strings)}`);
        if (p?.correlationData !== undefined) assert.ok(Buffer.isBuffer(p.correlationData));
        return true;
      }),
      { numRuns: RUNS },
    );
    assert.ok(sent > 20 && refused > 20, `both outcomes exercised: ${sent} prepared, ${refused} refused`);
  });

  test('convertMessage: a leading BOM stays in string output; JSON with a BOM still parses in json and auto', () => {
    const packet = { cmd: 'publish', topic: 't', payload: Buffer.alloc(0), qos: 0, retain: false, dup: false } as IPublishPacket;
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const text = convertMessage('t', Buffer.concat([bom, Buffer.from('hi')]), packet, 'string');
    assert.equal(text.ok && text.fields.payload, '\ufeffhi');
    for (const mode of ['json', 'auto'] as const) {
      const json = convertMessage('t', Buffer.concat([bom, Buffer.from('{"a":1}')]), packet, mode);
      assert.deepEqual(json.ok && json.fields.payload, { a: 1 }, mode);
    }
  });

  test('convertMessage: any bytes and properties, every mode; never throws; text only when valid UTF-8', () => {
    const props = fc.record(
      {
        contentType: fc.oneof(fc.constantFrom('application/json', 'text/plain'), hostileString),
        userProperties: fc.dictionary(hostileKey, fc.oneof(hostileString, fc.array(hostileString, { maxLength: 2 })), { maxKeys: 4 }),
        responseTopic: hostileString,
        correlationData: hostileBuffer,
        messageExpiryInterval: fc.nat(),
      },
      { requiredKeys: [] },
    );
    const payload = fc.oneof(
      hostileBuffer,
      hostileValue.map((v) => {
        try {
          return Buffer.from(JSON.stringify(v) ?? 'undefined');
        } catch {
          return Buffer.from('[');
        }
      }),
      hostileString.map((s) => Buffer.from(s)),
    );
    fc.assert(
      fc.property(hostileString, payload, fc.option(props, { nil: undefined }), fc.constantFrom<PayloadMode>('auto', 'json', 'string', 'buffer'), fc.constantFrom<0 | 1 | 2>(0, 1, 2), fc.boolean(), (topic, bytes, properties, mode, qos, retain) => {
        count('convertMessage');
        const packet = { cmd: 'publish', topic, payload: bytes, qos, retain, dup: false, properties } as IPublishPacket;
        const r = convertMessage(topic, bytes, packet, mode);
        assertNoPollution();
        assert.equal(r.fields.topic, topic);
        assert.equal(r.fields.qos, qos);
        let utf8 = true;
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        } catch {
          utf8 = false;
        }
        if (!r.ok) {
          assert.ok(mode === 'json' || mode === 'string', `only json/string fail (${mode})`);
          assert.ok(r.error.length > 0);
          return true;
        }
        if (mode === 'buffer' || !utf8) assert.ok(Buffer.isBuffer(r.fields.payload), 'bytes stay bytes');
        if (mode === 'string') assert.equal(r.fields.payload, bytes.toString('utf8'));
        if (r.fields.userProperties) assert.notEqual(r.fields.userProperties, properties?.userProperties, 'a copy, not the packet object');
        return true;
      }),
      { numRuns: RUNS },
    );
  });
});
