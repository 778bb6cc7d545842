// Shapes shared by the publish pipeline: a message ready to send, and why one was not sent.
import type { PublishRequest } from '../mqtt/connection';

export const NOT_SENT_CODES = [
  'INVALID_TOPIC',
  'INVALID_MESSAGE',
  'ACL_DENIED',
  'BROKER_DENIED',
  'QUEUE_FULL',
  'NOT_CONNECTED',
  'PUBLISH_FAILED',
  'CLOSED',
  'TOO_LARGE',
  'EXPIRED',
  'SPARKPLUG_UNBORN',
] as const;
export type NotSentCode = (typeof NOT_SENT_CODES)[number];

export interface NotSent {
  code: NotSentCode;
  message: string;
  /** The access rule that decided, for ACL_DENIED. */
  rule?: string;
  /** The broker's v5 reason code, for BROKER_DENIED. */
  reasonCode?: number;
}

/** A message accepted for sending; `seq` orders it and identifies it in the disk spool. */
export interface Outgoing {
  seq: number;
  request: PublishRequest;
  /** Encoded size, for the queue's byte limit. */
  bytes: number;
}

export interface Identity {
  username?: string;
  clientId: string;
}

export interface AccessDecision {
  allowed: boolean;
  reason: string;
}

/** What the publish and subscribe nodes need of an access-rule engine. */
export interface WriteChecker {
  check(identity: Identity, topic: string, access: 'write' | 'read'): AccessDecision;
  /** The broker's answer to subscribing, and what the read rules let through the filter ('some': depends on the topic). */
  checkSubscribe?(identity: Identity, filter: string): AccessDecision & { delivery: 'all' | 'some' | 'none'; deliveryReason: string };
}
