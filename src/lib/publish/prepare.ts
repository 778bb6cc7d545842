// Turns a flow message into a publish request, or says in plain words why it cannot be sent.
// Everything is checked here, before queueing: a bad message replayed from a queue could make
// Mosquitto disconnect the client over and over.
import type { PublishProperties, PublishRequest, QoS } from '../mqtt/connection';
import { checkPublishTopic } from '../mqtt/topic-rules';
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
  const retain = defaults.retain ?? msg.retain === true;

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
      return { ok: false, error: { code: 'ACL_DENIED', message: `not allowed to publish to "${t}"`, rule: decision.reason } };
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

function v5Properties(msg: MessageFields, defaults: PublishDefaults): PublishProperties | string {
  const props: PublishProperties = {};
  const contentType = msg.contentType ?? defaults.contentType;
  if (contentType !== undefined && contentType !== '') {
    if (typeof contentType !== 'string') return 'msg.contentType must be a string';
    props.contentType = contentType;
  }
  const expiry = msg.messageExpiry ?? defaults.messageExpiry;
  if (expiry !== undefined && expiry !== '') {
    const n = Number(expiry);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) return 'msg.messageExpiry must be whole seconds (0 to 4294967295)';
    props.messageExpiryInterval = n;
  }
  if (msg.userProperties !== undefined) {
    const up = msg.userProperties;
    if (typeof up !== 'object' || up === null || Array.isArray(up)) return 'msg.userProperties must be an object';
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up)) {
      if (typeof v === 'string') out[k] = v;
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[];
      else if (typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
      else return `user property "${k}" must be a string`;
    }
    props.userProperties = out;
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
  }
  return props;
}
