// Turns a received MQTT message into the fields of a flow message, decoding the payload as the user asked.
import { TextDecoder } from 'node:util';
import type { IPublishPacket } from 'mqtt';
import { parseJson } from '../json';

export type PayloadMode = 'auto' | 'json' | 'string' | 'buffer';

export interface Converted {
  topic: string;
  payload: unknown;
  qos: number;
  retain: boolean;
  contentType?: string;
  userProperties?: Record<string, string | string[]>;
  responseTopic?: string;
  correlationData?: Buffer;
  messageExpiry?: number;
}

export type ConvertResult = { ok: true; fields: Converted } | { ok: false; error: string; fields: Converted };

// ignoreBOM: a payload that starts with a BOM keeps it (TextDecoder drops it by default).
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** JSON from a device that writes a BOM first still parses; only 'string' output keeps the BOM. */
function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function decodeUtf8(b: Buffer): string | undefined {
  try {
    return strictUtf8.decode(b);
  } catch {
    return undefined;
  }
}

export function convertMessage(topic: string, payload: Buffer, packet: IPublishPacket, mode: PayloadMode): ConvertResult {
  const fields: Converted = { topic, payload, qos: packet.qos, retain: packet.retain };
  const p = packet.properties;
  if (p) {
    if (p.contentType !== undefined) fields.contentType = p.contentType;
    if (p.userProperties) fields.userProperties = { ...p.userProperties };
    if (p.responseTopic !== undefined) fields.responseTopic = p.responseTopic;
    if (p.correlationData) fields.correlationData = p.correlationData;
    if (p.messageExpiryInterval !== undefined) fields.messageExpiry = p.messageExpiryInterval;
  }
  if (mode === 'buffer') return { ok: true, fields };
  const text = decodeUtf8(payload);
  if (mode === 'string') {
    if (text === undefined) return { ok: false, error: 'payload is not valid UTF-8', fields };
    fields.payload = text;
    return { ok: true, fields };
  }
  if (mode === 'json') {
    if (text === undefined) return { ok: false, error: 'payload is not valid UTF-8', fields };
    try {
      fields.payload = parseJson(withoutBom(text));
      return { ok: true, fields };
    } catch (err) {
      return { ok: false, error: `payload is not valid JSON: ${(err as Error).message}`, fields };
    }
  }
  // auto: JSON objects and arrays (or anything declared JSON), else text, else the raw bytes
  if (text === undefined) return { ok: true, fields };
  const declaredJson = typeof fields.contentType === 'string' && /json/i.test(fields.contentType);
  const trimmed = text.trimStart();
  if (declaredJson || trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      fields.payload = parseJson(withoutBom(text));
      return { ok: true, fields };
    } catch {
      // not JSON after all: fall through to text
    }
  }
  fields.payload = text;
  return { ok: true, fields };
}
