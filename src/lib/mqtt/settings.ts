// The connection's settings, and their derivation from a config node's raw, editor-supplied fields.
import { createHash } from 'node:crypto';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { IPublishPacket } from 'mqtt';
import type { BackoffOptions } from './backoff';

export type Transport = 'mqtt' | 'mqtts' | 'ws' | 'wss';

export interface LifecycleMessage {
  topic: string;
  payload: string | Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  properties?: NonNullable<IPublishPacket['properties']>;
}

export interface ConnectionSettings {
  host: string;
  port: number;
  transport: Transport;
  path?: string;
  protocolVersion: 4 | 5;
  clientId: string;
  keepalive: number;
  clean: boolean;
  sessionExpiry?: number;
  username?: string;
  password?: string;
  tls?: TlsOptions;
  birth?: LifecycleMessage;
  will?: LifecycleMessage;
  close?: LifecycleMessage;
  backoff?: BackoffOptions;
  connectTimeoutMs?: number;
  /** Where a kept session's subscriptions are remembered across restarts (see session-file.ts); none: in memory. */
  sessionDir?: string;
}

export function isTlsTransport(t: Transport): boolean {
  return t === 'mqtts' || t === 'wss';
}

export const DEFAULT_PORTS: Record<Transport, number> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

/**
 * A client id that stays the same across restarts of this runtime but differs between runtimes
 * (two devices running the same flow must not take over each other's session).
 */
export function stableClientId(nodeId: string, host: string, userDir: string): string {
  const digest = createHash('sha256').update(`${host}\0${userDir}\0${nodeId}`).digest('hex');
  return `nrst_${digest.slice(0, 18)}`;
}

export function parseTransport(value: unknown): Transport {
  return value === 'mqtts' || value === 'ws' || value === 'wss' ? value : 'mqtt';
}

/** Integer in [min, max], or the fallback when the value is blank or out of range. */
export function intInRange(value: unknown, min: number, max: number, fallback: number): number {
  if (value === '' || value === undefined || value === null) return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isInteger(n) && n >= min && n <= max ? n : fallback;
}

/** Finite number in [min, max], or the fallback when blank or out of range. */
export function numberInRange(value: unknown, min: number, max: number, fallback: number): number {
  if (value === '' || value === undefined || value === null) return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) && n >= min && n <= max ? n : fallback;
}

export function parseQos(value: unknown): 0 | 1 | 2 {
  const n = typeof value === 'number' || typeof value === 'string' ? Number(value) : 0;
  return n === 1 || n === 2 ? n : 0;
}
