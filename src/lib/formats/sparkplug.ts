// Sparkplug B edge node: NBIRTH (with bdSeq) before any data, DBIRTH for the device, then NDATA/DDATA with
// seq 0..255 wrapping. A measurement not in the last birth triggers a rebirth, as the specification requires
// every metric to be announced in a BIRTH. The NDEATH for the connection's Will is available at any time.
import { fail, ok, quote, type Result } from './errors';
import type { Reading, ReadingValue } from './reading';
import type { FormatOptions, Formatter, OutMessage } from './types';
import { decodeSparkplug, encodeSparkplug, type SparkplugMetric } from './sparkplug-codec';

export const SPARKPLUG_NAMESPACE = 'spBv1.0';
export const REBIRTH_METRIC = 'Node Control/Rebirth';

const DEATH_TOPIC = /^spBv1\.0\/([^/+#]+)\/NDEATH\/([^/+#]+)$/;

/** An edge node's NDEATH topic, as a Will carries it: spBv1.0/<group>/NDEATH/<edge node>. */
export function isNodeDeathTopic(topic: string): boolean {
  return DEATH_TOPIC.test(topic);
}

/** "<group>/<edge node>" of an NDEATH topic; undefined for any other topic. */
export function edgeNodeOfDeath(topic: string | undefined): string | undefined {
  const m = topic === undefined ? null : DEATH_TOPIC.exec(topic);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** The NDEATH topic of the edge node an NDATA, DDATA or DBIRTH belongs to; undefined for any other topic. */
export function deathTopicOf(topic: string): string | undefined {
  const m = /^spBv1\.0\/([^/+#]+)\/(?:NDATA|DDATA|DBIRTH)\/([^/+#]+)(?:\/[^/+#]+)?$/.exec(topic);
  return m ? `${SPARKPLUG_NAMESPACE}/${m[1]}/NDEATH/${m[2]}` : undefined;
}

type MessageType = 'NBIRTH' | 'NDEATH' | 'NDATA' | 'DBIRTH' | 'DDATA' | 'NCMD';

function checkId(id: string, what: string): Result<string> {
  if (!id) return fail('BAD_OPTION', `Sparkplug ${what} is required`, what);
  if (/[/+#]/.test(id) || /[\u0000-\u001f]/.test(id)) return fail('BAD_OPTION', `Sparkplug ${what} ${quote(id)} must not contain '/', '+', '#' or control characters`, what);
  return ok(id);
}

interface Known {
  value: ReadingValue;
  unit?: string;
  timestamp: number;
}

export class SparkplugEdgeNode implements Formatter {
  readonly name = 'sparkplug';
  private seq = 0;
  private born = false;
  private readonly known = new Map<string, Known>();

  private constructor(
    readonly group: string,
    readonly edgeNode: string,
    readonly device: string | undefined,
    private bdSeqValue: number,
    private readonly now: () => number,
  ) {}

  /** The birth/death sequence number of the current (or next) session. */
  get bdSeq(): number {
    return this.bdSeqValue;
  }

  /** Whether an NBIRTH has been made: only then is there a session to start again. */
  get hasBorn(): boolean {
    return this.born;
  }

  /**
   * Births for a new MQTT session (Sparkplug: every CONNECT has a new bdSeq, and its NBIRTH comes first), with every
   * metric known so far. The NDEATH from death() then carries the new bdSeq too.
   */
  newSession(bdSeq: number): Result<OutMessage[]> {
    if (!Number.isInteger(bdSeq) || bdSeq < 0 || bdSeq > 255) return fail('BAD_OPTION', 'bdSeq must be 0..255', 'spBdSeq');
    this.bdSeqValue = bdSeq;
    try {
      return ok(this.births(this.now()));
    } catch (err) {
      return fail('ENCODE_FAILED', `Sparkplug encoding failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  static create(o: FormatOptions, now: () => number = Date.now): Result<SparkplugEdgeNode> {
    const group = checkId(o.spGroup?.trim() ?? '', 'group id');
    if (!group.ok) return group;
    const edge = checkId(o.spEdgeNode?.trim() || o.device?.trim() || '', 'edge node id');
    if (!edge.ok) return edge;
    const deviceId = o.spDevice?.trim();
    if (deviceId) {
      const d = checkId(deviceId, 'device id');
      if (!d.ok) return d;
    }
    const bdSeq = o.spBdSeq ?? 0;
    if (!Number.isInteger(bdSeq) || bdSeq < 0 || bdSeq > 255) return fail('BAD_OPTION', 'bdSeq must be 0..255', 'spBdSeq');
    return ok(new SparkplugEdgeNode(group.value, edge.value, deviceId || undefined, bdSeq, now));
  }

  topic(type: MessageType, withDevice = false): string {
    const base = `${SPARKPLUG_NAMESPACE}/${this.group}/${type}/${this.edgeNode}`;
    return withDevice && this.device ? `${base}/${this.device}` : base;
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = (this.seq + 1) % 256;
    return s;
  }

  private metric(name: string, k: Known, withUnit: boolean): SparkplugMetric {
    const m: SparkplugMetric = { name, timestamp: k.timestamp, type: typeof k.value === 'boolean' ? 'Boolean' : 'Double', value: k.value };
    if (withUnit && k.unit !== undefined) m.properties = { engUnit: { type: 'String', value: k.unit } };
    return m;
  }

  /** NBIRTH (seq 0) and, for a device, DBIRTH: every metric known so far with its latest value. */
  private births(timestamp: number): OutMessage[] {
    this.seq = 0;
    this.born = true;
    const data = [...this.known.entries()].map(([n, k]) => this.metric(n, k, true));
    const nodeMetrics: SparkplugMetric[] = [
      { name: 'bdSeq', timestamp, type: 'UInt64', value: this.bdSeq },
      { name: REBIRTH_METRIC, timestamp, type: 'Boolean', value: false },
      ...(this.device ? [] : data),
    ];
    const out: OutMessage[] = [{ topic: this.topic('NBIRTH'), payload: encodeSparkplug({ timestamp, metrics: nodeMetrics, seq: this.nextSeq() }), qos: 0, retain: false }];
    if (this.device) out.push({ topic: this.topic('DBIRTH', true), payload: encodeSparkplug({ timestamp, metrics: data, seq: this.nextSeq() }), qos: 0, retain: false });
    return out;
  }

  format(r: Reading): Result<OutMessage[]> {
    if (!this.device && r.values.has('bdSeq')) return fail('BAD_NAME', '"bdSeq" is reserved by Sparkplug for the birth/death sequence', 'payload.bdSeq');
    let rebirth = !this.born;
    for (const [name, value] of r.values) {
      const before = this.known.get(name);
      const unit = r.units.get(name) ?? before?.unit;
      // A reading without units keeps the unit announced in the birth; only a different one needs a rebirth.
      if (!before || typeof before.value !== typeof value || before.unit !== unit) rebirth = true;
      const k: Known = { value, timestamp: r.timestamp };
      if (unit !== undefined) k.unit = unit;
      this.known.set(name, k);
    }
    try {
      if (rebirth) return ok(this.births(r.timestamp));
      const metrics = [...r.values.keys()].map((n) => this.metric(n, this.known.get(n) as Known, false));
      const type = this.device ? 'DDATA' : 'NDATA';
      return ok([{ topic: this.topic(type, true), payload: encodeSparkplug({ timestamp: r.timestamp, metrics, seq: this.nextSeq() }), qos: 0, retain: false }]);
    } catch (err) {
      return fail('ENCODE_FAILED', `Sparkplug encoding failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** The NDEATH to configure as the connection's Will (QoS 1, not retained); its bdSeq matches the NBIRTH. */
  death(timestamp: number): OutMessage {
    return { topic: this.topic('NDEATH'), payload: encodeSparkplug({ timestamp, metrics: [{ name: 'bdSeq', timestamp, type: 'UInt64', value: this.bdSeq }] }), qos: 1, retain: false };
  }

  /** An NCMD with `Node Control/Rebirth` = true makes the node publish its births again. */
  control(topic: unknown, payload: unknown): Result<OutMessage[]> | undefined {
    if (topic !== this.topic('NCMD')) return undefined;
    // A subscription in "auto" mode hands over a protobuf that happens to be valid UTF-8 as a string: the same bytes.
    const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    if (!(bytes instanceof Uint8Array)) return fail('BAD_FIELD', 'an NCMD payload must be a Sparkplug protobuf Buffer', 'payload');
    try {
      const cmd = decodeSparkplug(bytes);
      const wanted = (cmd.metrics ?? []).some((m) => m.name === REBIRTH_METRIC && m.value === true);
      return ok(wanted && this.known.size > 0 ? this.births(this.now()) : []);
    } catch (err) {
      return fail('BAD_FIELD', `NCMD payload is not a Sparkplug B payload: ${err instanceof Error ? err.message : String(err)}`, 'payload');
    }
  }
}
