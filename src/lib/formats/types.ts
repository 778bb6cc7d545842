// What a format produces, and the options every format reads from the node's configuration.
import type { Result } from './errors';
import type { Reading } from './reading';

/** One MQTT message, with the MQTT 5 hints the publish node honours. */
export interface OutMessage {
  topic: string;
  payload: string | Buffer;
  contentType?: string;
  qos?: 0 | 1 | 2;
  retain?: boolean;
  userProperties?: Record<string, string>;
}

export const FORMAT_NAMES = ['json', 'senml', 'influx', 'homeassistant', 'thingsboard', 'aws', 'azure', 'sparkplug'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

export interface FormatOptions {
  format: FormatName;
  /** Topic template; empty means the format's default. */
  topic?: string;
  /** Used when the message has no msg.device / msg.sensor. */
  device?: string;
  sensor?: string;
  timestampStyle?: 'iso' | 'ms';
  qos?: 0 | 1 | 2;
  senmlBaseName?: string;
  influxMeasurement?: string;
  influxIntegers?: 'float' | 'integer';
  haPrefix?: string;
  haStatusTopic?: string;
  haExpireAfter?: number;
  haDeviceName?: string;
  haManufacturer?: string;
  spGroup?: string;
  spEdgeNode?: string;
  spDevice?: string;
  /** Sparkplug birth/death sequence number this node starts with (persisted by the node). */
  spBdSeq?: number;
}

export interface Formatter {
  readonly name: FormatName;
  format(reading: Reading): Result<OutMessage[]>;
  /**
   * Messages that are not readings but tell a stateful format to re-announce itself (Home Assistant's
   * `online`, a Sparkplug rebirth command). Returns undefined when the message is not one of those.
   */
  control?(topic: unknown, payload: unknown): Result<OutMessage[]> | undefined;
}
