// Message plumbing shared by the telemetry-format/-validate/-reduce nodes: the second-output error message,
// and outgoing messages that carry only the MQTT hints a format asked for.
import type { TelemetryError } from '../../lib/formats/errors';
import type { OutMessage } from '../../lib/formats/types';
import type { NodeMessage } from './node-red';

/** Node context as the runtime offers it (the default in-memory store is synchronous). */
export interface NodeContextStore {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

const HINTS = ['qos', 'retain', 'contentType', 'userProperties', 'messageExpiry'] as const;

/** The input message, for output 2, with `msg.error = { code, message, path? , ...extra }`. */
export function invalidMessage(msg: NodeMessage, error: TelemetryError & { errors?: readonly unknown[] }): NodeMessage {
  return { ...msg, error };
}

/**
 * An outgoing message: the input's own properties (so correlation fields survive), minus any MQTT hints it
 * arrived with (a retained input must not make the output retained), plus what the format decided.
 */
export function outgoing(msg: NodeMessage, m: OutMessage): NodeMessage {
  const out: NodeMessage = { ...msg };
  for (const h of HINTS) delete out[h];
  out.topic = m.topic;
  out.payload = m.payload;
  if (m.contentType !== undefined) out.contentType = m.contentType;
  if (m.qos !== undefined) out.qos = m.qos;
  if (m.retain !== undefined) out.retain = m.retain;
  if (m.userProperties !== undefined) out.userProperties = m.userProperties;
  return out;
}
