// Turns the broker config node's editor fields into ConnectionSettings; kept free of Node-RED for testing.
import type { ConnectionOptions as TlsOptions, SecureVersion } from 'node:tls';
import type { IPublishPacket } from 'mqtt';
import { DEFAULT_BACKOFF } from './backoff';
import {
  DEFAULT_PORTS,
  intInRange,
  numberInRange,
  parseQos,
  parseTransport,
  type ConnectionSettings,
  type LifecycleMessage,
} from './settings';
import { checkPublishTopic } from './topic-rules';
import { parseJson } from '../json';

/** The fields the editor stores for a `secure-mqtt-broker` node (all strings or booleans, as the editor saves them). */
export interface BrokerConfigFields {
  host?: string;
  port?: string | number;
  transport?: string;
  path?: string;
  protocolVersion?: string | number;
  clientId?: string;
  keepalive?: string | number;
  cleanSession?: boolean;
  sessionExpiry?: string | number;
  tlsMinVersion?: string;
  reconnectMin?: string | number;
  reconnectMax?: string | number;
  birthTopic?: string;
  birthPayload?: string;
  birthQos?: string | number;
  birthRetain?: boolean | string;
  birthProps?: string;
  willTopic?: string;
  willPayload?: string;
  willQos?: string | number;
  willRetain?: boolean | string;
  willProps?: string;
  closeTopic?: string;
  closePayload?: string;
  closeQos?: string | number;
  closeRetain?: boolean | string;
  closeProps?: string;
}

export interface BrokerCredentials {
  user?: string;
  password?: string;
}

export interface DerivedSettings {
  settings: ConnectionSettings;
  /** Configuration mistakes in plain words; the connection is not started while there are any. */
  problems: string[];
}

type Props = NonNullable<IPublishPacket['properties']>;

export function deriveSettings(
  fields: BrokerConfigFields,
  creds: BrokerCredentials,
  clientId: string,
  tls: TlsOptions | undefined,
): DerivedSettings {
  const problems: string[] = [];
  const transport = parseTransport(fields.transport);
  const protocolVersion = Number(fields.protocolVersion) === 5 ? 5 : 4;
  const host = (fields.host ?? '').trim();
  if (!host) problems.push('broker host is empty');
  const port = intInRange(fields.port, 1, 65535, DEFAULT_PORTS[transport]);
  const minSeconds = numberInRange(fields.reconnectMin, 0.05, 3600, DEFAULT_BACKOFF.initialMs / 1000);
  const maxSeconds = Math.max(minSeconds, numberInRange(fields.reconnectMax, 0.05, 86400, DEFAULT_BACKOFF.maxMs / 1000));
  const settings: ConnectionSettings = {
    host,
    port,
    transport,
    protocolVersion,
    clientId,
    keepalive: intInRange(fields.keepalive, 0, 65535, 60),
    clean: fields.cleanSession !== false,
    backoff: { ...DEFAULT_BACKOFF, initialMs: Math.round(minSeconds * 1000), maxMs: Math.round(maxSeconds * 1000) },
  };
  if (fields.path) settings.path = fields.path;
  if (protocolVersion === 5 && fields.sessionExpiry !== undefined && fields.sessionExpiry !== '') {
    settings.sessionExpiry = intInRange(fields.sessionExpiry, 0, 0xffffffff, 0);
  }
  if (creds.user) settings.username = creds.user;
  if (creds.password) settings.password = creds.password;
  if (tls) {
    const minVersion = fields.tlsMinVersion;
    settings.tls = minVersion === 'TLSv1.2' || minVersion === 'TLSv1.3' ? { ...tls, minVersion: minVersion as SecureVersion } : tls;
  }
  // MQTT 3.1.1 has no properties: what the editor kept from a v5 setup is not sent, so it cannot stop the connection.
  const props = (p: string | undefined): string | undefined => (protocolVersion === 5 ? p : undefined);
  const birth = lifecycle('birth', fields.birthTopic, fields.birthPayload, fields.birthQos, fields.birthRetain, props(fields.birthProps), problems);
  const will = lifecycle('will', fields.willTopic, fields.willPayload, fields.willQos, fields.willRetain, props(fields.willProps), problems);
  const close = lifecycle('close', fields.closeTopic, fields.closePayload, fields.closeQos, fields.closeRetain, props(fields.closeProps), problems);
  if (birth) settings.birth = birth;
  if (will) settings.will = will;
  if (close) settings.close = close;
  return { settings, problems };
}

function lifecycle(
  kind: string,
  topic: string | undefined,
  payload: string | undefined,
  qos: unknown,
  retain: unknown,
  props: string | undefined,
  problems: string[],
): LifecycleMessage | undefined {
  if (!topic) return undefined;
  const bad = checkPublishTopic(topic);
  if (bad) {
    problems.push(`${kind} topic: ${bad.message}`);
    return undefined;
  }
  const msg: LifecycleMessage = { topic, payload: payload ?? '', qos: parseQos(qos), retain: retain === true || retain === 'true' };
  if (props && props.trim()) {
    const parsed = parseProperties(props);
    if (typeof parsed === 'string') problems.push(`${kind} properties: ${parsed}`);
    else msg.properties = parsed;
  }
  return msg;
}

/** Parses the v5 properties the editor stores as JSON: contentType, messageExpiryInterval, willDelayInterval, userProperties. */
export function parseProperties(json: string): Props | string {
  let raw: unknown;
  try {
    raw = parseJson(json);
  } catch {
    return 'not valid JSON';
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'must be a JSON object';
  const src = raw as Record<string, unknown>;
  const out: Props & { willDelayInterval?: number } = {};
  if (typeof src.contentType === 'string') out.contentType = src.contentType;
  if (src.messageExpiryInterval !== undefined) {
    const n = intInRange(src.messageExpiryInterval, 0, 0xffffffff, -1);
    if (n < 0) return 'messageExpiryInterval must be a whole number of seconds';
    out.messageExpiryInterval = n;
  }
  if (src.willDelayInterval !== undefined) {
    const n = intInRange(src.willDelayInterval, 0, 0xffffffff, -1);
    if (n < 0) return 'willDelayInterval must be a whole number of seconds';
    out.willDelayInterval = n;
  }
  if (src.payloadFormatIndicator !== undefined) out.payloadFormatIndicator = src.payloadFormatIndicator === true;
  if (src.userProperties !== undefined) {
    const up = src.userProperties;
    if (typeof up !== 'object' || up === null || Array.isArray(up)) return 'userProperties must be an object of strings';
    const entries: Record<string, string> = {};
    for (const [k, v] of Object.entries(up as Record<string, unknown>)) {
      if (typeof v !== 'string') return `user property "${k}" must be a string`;
      entries[k] = v;
    }
    out.userProperties = entries;
  }
  return out;
}
