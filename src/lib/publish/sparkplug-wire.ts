// Sparkplug B as the broker sees it. A host counts `seq` over everything an edge node publishes on one connection,
// from its NBIRTH (0), and ignores an edge node's data before that NBIRTH: without it the node is offline. Messages
// queued across an outage were numbered, and born, in the session that ended. So the publisher, which knows the order
// on the wire, numbers each message as it goes, and holds an edge node's data until the NBIRTH (and a device's until
// its DBIRTH) of the connection has gone; what waited goes out after the births as historical data.
//
// One per connection object, shared by the publishers on it: the state is the connection's, whichever node sends.
// Only edge nodes born on this connection object before (or messages from an earlier run, in the disk spool) are held:
// a flow that relays other edge nodes' data, or a connection replaced on redeploy, sends as it always did.
import type { PublishRequest } from '../mqtt/connection';
import { decodeSparkplug, encodeSparkplug, toNumber, type SparkplugPayload } from '../formats/sparkplug-codec';

const TOPIC = /^spBv1\.0\/([^/+#]+)\/(NBIRTH|NDEATH|DBIRTH|NDATA|DDATA|DDEATH)\/([^/+#]+)(?:\/([^/+#]+))?$/;
/** Metrics of an NBIRTH that describe the session, not data: left out when an old NBIRTH becomes data. */
const SESSION_METRIC = /^(bdSeq$|Node Control\/)/;

export type WireDecision =
  /** Write `request`; call commit() once it is really written (not refused): it takes the number and the births. */
  | { kind: 'send'; request: PublishRequest; commit(): void }
  /** Not yet: it waits in the hold `key` (an edge node, or a device of one) for a birth on this connection. */
  | { kind: 'hold'; key: string };

interface Born {
  next: number;
  devices: Set<string>;
}

export class SparkplugWire {
  /** Edge nodes (and devices) born on the current connection. */
  private readonly born = new Map<string, Born>();
  /** Edge nodes and devices born on any connection of this object: their data wait for the next birth. */
  private readonly known = new Set<string>();
  private readonly birthListeners = new Set<(key: string) => void>();

  /** A new connection: every edge node is offline to the hosts until its NBIRTH on it. */
  newConnection(): void {
    this.born.clear();
  }

  /** Calls `listener` with the hold key (edge node or device) a birth has just freed. Returns the unsubscribe. */
  onBirth(listener: (key: string) => void): () => void {
    this.birthListeners.add(listener);
    return () => this.birthListeners.delete(listener);
  }

  /**
   * For a message about to be written: undefined when it is not an edge node's Sparkplug message (sent as it is).
   * `historical`: it belongs to a session that ended (it waited for this connection's births, or came from the spool).
   */
  decide(request: PublishRequest, historical: boolean): WireDecision | undefined {
    if (!request.topic.startsWith('spBv1.0/')) return undefined;
    const m = TOPIC.exec(request.topic);
    if (!m) return undefined;
    const [, group, type, edge, device] = m;
    // NBIRTH, NDEATH and NDATA name no device; the others need one.
    if ((type === 'NBIRTH' || type === 'NDEATH' || type === 'NDATA') !== (device === undefined)) return undefined;
    const edgeKey = `${group}/${edge}`;
    if (type === 'NDEATH') return { kind: 'send', request, commit: () => this.born.delete(edgeKey) };
    const payload = decoded(request.payload);
    if (!payload) return undefined; // not Sparkplug: the host judges it, wherever it goes
    const b = this.born.get(edgeKey);
    if (type === 'NBIRTH' && !historical) {
      const fresh: Born = { next: 0, devices: new Set() };
      return this.numbered(request, payload, fresh, false, () => {
        this.born.set(edgeKey, fresh);
        this.birth(edgeKey);
      });
    }
    if (!b) return historical || this.known.has(edgeKey) ? { kind: 'hold', key: edgeKey } : undefined;
    if (type === 'NBIRTH') return this.numbered(request, withoutSessionMetrics(payload), b, true, undefined, 'NDATA');
    const deviceKey = `${edgeKey}/${device}`;
    if (type === 'DBIRTH' && !historical) {
      return this.numbered(request, payload, b, false, () => {
        b.devices.add(device);
        this.birth(deviceKey);
      });
    }
    if (type === 'DDEATH') return this.numbered(request, payload, b, false, () => b.devices.delete(device));
    if (device !== undefined && !b.devices.has(device)) {
      return historical || this.known.has(deviceKey) ? { kind: 'hold', key: deviceKey } : this.numbered(request, payload, b, false);
    }
    // A DBIRTH from a session that ended only repeats data: in this one the device has its own birth already.
    return this.numbered(request, payload, b, historical, undefined, type === 'DBIRTH' ? 'DDATA' : undefined);
  }

  private birth(key: string): void {
    this.known.add(key);
    for (const listener of this.birthListeners) listener(key);
  }

  /** The request with the next seq of this edge node (re-encoded only when something changes); commit takes it. */
  private numbered(request: PublishRequest, payload: SparkplugPayload, b: Born, historical: boolean, onCommit?: () => void, asType?: 'NDATA' | 'DDATA'): WireDecision {
    const seq = b.next;
    const commit = (): void => {
      b.next = (seq + 1) % 256;
      onCommit?.();
    };
    const topic = asType ? request.topic.replace(/\/[ND]BIRTH\//, `/${asType}/`) : request.topic;
    if (!historical && toNumber(payload.seq) === seq && topic === request.topic) return { kind: 'send', request, commit };
    payload.seq = seq;
    if (historical) for (const metric of payload.metrics ?? []) metric.isHistorical = true;
    return { kind: 'send', request: { ...request, topic, payload: encodeSparkplug(payload) }, commit };
  }
}

/** The payload, when it is one: protobuf with the timestamp and seq every one but NDEATH carries (Sparkplug 3.0). */
function decoded(payload: string | Buffer): SparkplugPayload | undefined {
  if (payload.length === 0) return undefined;
  try {
    const p = decodeSparkplug(typeof payload === 'string' ? Buffer.from(payload) : payload);
    return p.timestamp !== undefined && p.seq !== undefined ? p : undefined;
  } catch {
    return undefined;
  }
}

function withoutSessionMetrics(p: SparkplugPayload): SparkplugPayload {
  return { ...p, metrics: (p.metrics ?? []).filter((m) => !SESSION_METRIC.test(m.name ?? '')) };
}
