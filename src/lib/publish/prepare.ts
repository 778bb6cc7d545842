// Turns a flow message into a publish request, or says in plain words why it cannot be sent.
// Everything is checked here, before queueing: a bad message replayed from a queue could make
// Mosquitto disconnect the client over and over.
import type { PublishProperties, PublishRequest, QoS } from '../mqtt/connection';
import { checkPublishTopic, checkUtf8String, shorten } from '../mqtt/topic-rules';
import type { Identity, NotSent, WriteChecker } from './types';

export interface PublishDefaults {
  /** Fixed topic; blank means msg.topic. */
  topic: string;
  /** Fixed QoS, or undefined to take msg.qos (default 0). */
  qos: QoS | undefined;
  /** Fixed retain flag, or undefined to take msg.retain (default false). */
  retain: boolean | undefined;
  contentType?: string;
  messageExpiry?: number;
  protocolVersion: 4 | 5;
  /** Largest payload the broker accepts (bytes); 268435455 is MQTT's own limit. */
  maxPayloadBytes?: number;
}

export interface MessageFields {
  topic?: unknown;
  payload?: unknown;
  qos?: unknown;
  retain?: unknown;
  contentType?: unknown;
  messageExpiry?: unknown;
  userProperties?: unknown;
  responseTopic?: unknown;
  correlationData?: unknown;
}

export type Prepared = { ok: true; request: PublishRequest; bytes: number } | { ok: false; error: NotSent };

const MQTT_MAX_PAYLOAD = 268435455;

export function preparePublish(
  msg: MessageFields,
  defaults: PublishDefaults,
  acl?: { checker: WriteChecker; identity: Identity },
): Prepared {
  const topic = defaults.topic || msg.topic;
  const topicProblem = checkPublishTopic(topic);
  if (topicProblem) return fail('INVALID_TOPIC', topicProblem.message);
  const t = topic as string;

  const qos = defaults.qos ?? parseMsgQos(msg.qos);
  if (qos === undefined) return fail('INVALID_MESSAGE', 'msg.qos must be 0, 1 or 2');
  const retain = defaults.retain ?? parseMsgRetain(msg.retain);
  if (retain === undefined) return fail('INVALID_MESSAGE', 'msg.retain must be true or false (or the string "true" or "false")');

  const payload = encodePayload(msg.payload);
  if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return fail('INVALID_MESSAGE', payload.error);
  const bytes = Buffer.isBuffer(payload) ? payload.length : Buffer.byteLength(payload, 'utf8');
  const max = defaults.maxPayloadBytes ?? MQTT_MAX_PAYLOAD;
  if (bytes > max) return fail('INVALID_MESSAGE', `payload of ${bytes} bytes exceeds the limit of ${max}`);

  let properties: PublishProperties | undefined;
  if (defaults.protocolVersion === 5) {
    const props = v5Properties(msg, defaults);
    if (typeof props === 'string') return fail('INVALID_MESSAGE', props);
    properties = props;
  }

  if (acl) {
    const decision = acl.checker.check(acl.identity, t, 'write');
    if (!decision.allowed) {
      return { ok: false, error: { code: 'ACL_DENIED', message: `not allowed to publish to "${shorten(t)}"`, rule: decision.reason } };
    }
  }
  const request: PublishRequest = { topic: t, payload, qos, retain };
  if (properties && Object.keys(properties).length > 0) request.properties = properties;
  return { ok: true, request, bytes: bytes + Buffer.byteLength(t) };
}

function fail(code: NotSent['code'], message: string): Prepared {
  return { ok: false, error: { code, message } };
}

function parseMsgQos(v: unknown): QoS | undefined {
  if (v === undefined || v === null || v === '') return 0;
  const n = typeof v === 'string' ? Number(v) : v;
  return n === 0 || n === 1 || n === 2 ? n : undefined;
}

/** As Node-RED's own mqtt out node: true or "true" retains, false or "false" does not; anything else is a mistake. */
function parseMsgRetain(v: unknown): boolean | undefined {
  if (v === undefined || v === null || v === '') return false;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  return undefined;
}

/** Objects as JSON, Buffers as they are, everything else as a string. */
export function encodePayload(p: unknown): string | Buffer | { error: string } {
  if (Buffer.isBuffer(p)) return p;
  if (p instanceof Uint8Array) return Buffer.from(p);
  if (typeof p === 'string') return p;
  if (p === undefined || p === null) return '';
  if (typeof p === 'number' || typeof p === 'boolean' || typeof p === 'bigint') return String(p);
  if (typeof p === 'object') {
    try {
      const json = JSON.stringify(p);
      return json === undefined ? { error: 'payload cannot be encoded as JSON' } : json;
    } catch (err) {
      return { error: `payload cannot be encoded as JSON: ${(err as Error).message}` };
    }
  }
  return { error: `payload of type ${typeof p} cannot be sent` };
}

// MQTT 5 caps every string and binary property at 65,535 bytes; MQTT.js would throw or send a corrupt packet.
const MAX_PROPERTY_BYTES = 65535;

function v5Properties(msg: MessageFields, defaults: PublishDefaults): PublishProperties | string {
  const props: PublishProperties = {};
  const contentType = msg.contentType ?? defaults.contentType;
  if (contentType !== undefined && contentType !== '') {
    if (typeof contentType !== 'string') return 'msg.contentType must be a string';
    const bad = checkUtf8String(contentType, 'msg.contentType');
    if (bad) return bad;
    props.contentType = contentType;
  }
  const expiry = msg.messageExpiry ?? defaults.messageExpiry;
  if (expiry !== undefined && expiry !== '') {
    const n = typeof expiry === 'number' || typeof expiry === 'string' ? Number(expiry) : NaN;
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) return 'msg.messageExpiry must be whole seconds (0 to 4294967295)';
    props.messageExpiryInterval = n;
  }
  if (msg.userProperties !== undefined) {
    const up = userProperties(msg.userProperties);
    if (typeof up === 'string') return up;
    // MQTT.js never sends nor settles a publish whose userProperties object is empty.
    if (Object.keys(up).length > 0) props.userProperties = up;
  }
  if (msg.responseTopic !== undefined && msg.responseTopic !== '') {
    const bad = checkPublishTopic(msg.responseTopic);
    if (bad) return `msg.responseTopic: ${bad.message}`;
    props.responseTopic = msg.responseTopic as string;
  }
  if (msg.correlationData !== undefined && msg.correlationData !== '') {
    const cd = msg.correlationData;
    if (Buffer.isBuffer(cd)) props.correlationData = cd;
    else if (typeof cd === 'string') props.correlationData = Buffer.from(cd);
    else return 'msg.correlationData must be a string or a Buffer';
    if (props.correlationData.length > MAX_PROPERTY_BYTES) return `msg.correlationData is longer than ${MAX_PROPERTY_BYTES} bytes`;
  }
  return props;
}

function userProperties(up: unknown): Record<string, string | string[]> | string {
  if (typeof up !== 'object' || up === null || Array.isArray(up)) return 'msg.userProperties must be an object';
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(up as Record<string, unknown>)) {
    let value: string | string[];
    if (typeof v === 'string') value = v;
    else if (typeof v === 'number' || typeof v === 'boolean') value = String(v);
    else if (Array.isArray(v) && (v as unknown[]).every((x) => typeof x === 'string')) value = v as string[];
    else return `user property "${shorten(k, 40)}" must be a string`;
    if (Array.isArray(value) && value.length === 0) continue;
    const bad = checkUtf8String(k, 'a user property name') ?? [value].flat().map((x) => checkUtf8String(x, `user property "${shorten(k, 40)}"`)).find(Boolean);
    if (bad) return bad;
    // defineProperty, not assignment: a property named "__proto__" must stay a property, not replace the prototype.
    Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
