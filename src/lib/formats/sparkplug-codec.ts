// The part of the `sparkplug-payload` package (Eclipse Tahu, CommonJS) this pack uses, typed locally.

/** 64-bit integers come back from decoding as `long` objects. */
export interface SparkplugLong {
  toNumber(): number;
}

export type SparkplugType = 'Double' | 'Boolean' | 'UInt64' | 'String';

export interface SparkplugPropertyValue {
  type: SparkplugType;
  value: number | boolean | string | SparkplugLong | null;
}

export interface SparkplugMetric {
  name?: string;
  timestamp?: number | SparkplugLong;
  type: SparkplugType;
  value: number | boolean | string | SparkplugLong | null;
  properties?: Record<string, SparkplugPropertyValue>;
  /** Data from before the current session (store and forward). */
  isHistorical?: boolean;
}

export interface SparkplugPayload {
  timestamp?: number | SparkplugLong;
  metrics?: SparkplugMetric[];
  seq?: number | SparkplugLong;
}

interface SparkplugCodec {
  encodePayload(p: SparkplugPayload): Uint8Array;
  decodePayload(b: Uint8Array): SparkplugPayload;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const module_ = require('sparkplug-payload') as { get(namespace: string): SparkplugCodec | null };
const codec = module_.get('spBv1.0') as SparkplugCodec;

export function encodeSparkplug(p: SparkplugPayload): Buffer {
  return Buffer.from(codec.encodePayload(p));
}

export function decodeSparkplug(b: Uint8Array): SparkplugPayload {
  return codec.decodePayload(b);
}

/** A decoded number or long as a plain number (exact up to 2^53). */
export function toNumber(v: number | SparkplugLong | string | boolean | null | undefined): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && typeof v.toNumber === 'function') return v.toNumber();
  return undefined;
}
