// Sparkplug B as the broker sees it. A host counts `seq` over everything an edge node publishes on one connection,
// from its NBIRTH (0), and ignores an edge node's data before that NBIRTH: without it the node is offline. Messages
// queued across an outage were numbered, and born, in the session that ended. So the publisher, which knows the order
// on the wire, numbers each message as it goes, and holds the edge node's data until the NBIRTH (and a device's until
// its DBIRTH) of the connection has gone; what waited goes out after the births as historical data.
//
// Only the edge node this connection is, the one whose NDEATH is its Will: its session ends when the connection goes
// (the broker publishes the NDEATH), and the broker node asks its format node for new births. Any other edge node's
// messages (a flow relaying them, a connection without the Will) go as they are, numbered by whoever made them.
// One per connection object, shared by the publishers on it: the session is the connection's, whichever node sends.
import { EventEmitter } from 'node:events';
import type { PublishRequest } from '../mqtt/connection';
import { edgeNodeOfDeath } from '../formats/sparkplug';
import { decodeSparkplug, encodeSparkplug, toNumber, type SparkplugPayload } from '../formats/sparkplug-codec';

const TOPIC = /^spBv1\.0\/([^/+#]+)\/(NBIRTH|NDEATH|DBIRTH|NDATA|DDATA|DDEATH)\/([^/+#]+)(?:\/([^/+#]+))?$/;
const BIRTH = /^spBv1\.0\/([^/+#]+)\/(?:NBIRTH\/([^/+#]+)|DBIRTH\/([^/+#]+)\/[^/+#]+)$/;
/** Metrics of an NBIRTH that describe the session, not data: left out when an old NBIRTH becomes data. */
const SESSION_METRIC = /^(bdSeq$|Node Control\/)/;

export type WireDecision =
  /** Write `request`; call commit() once it is really written (not refused): it takes the number and the births. */
  | { kind: 'send'; request: PublishRequest; commit(): void }
  /** Not yet: it waits in the hold `key` (the edge node, or a device of it) for a birth on this connection. */
  | { kind: 'hold'; key: string };

interface WireEvents {
  /** A birth has gone: what waits under this key (the edge node, or "<edge node>/<device>") may go. */
  birth: [key: string];
  /** A new connection: the edge node is unborn again, and waits for a birth start anew. */
  connection: [];
}

interface Born {
  next: number;
  devices: Set<string>;
}

export class SparkplugWire extends EventEmitter<WireEvents> {
  /** "group/edge node" of the connection's Will, when it is an NDEATH. */
  private edgeKey: string | undefined;
  /** Born on the current connection: the next seq, and the devices born since. */
  private born: Born | undefined;

  constructor() {
    super();
    this.setMaxListeners(0); // one 'birth' and one 'connection' listener per publish node on the connection
  }

  /** A new connection, made with this Will: its edge node is offline to the hosts until its NBIRTH on it. */
  newConnection(willTopic: string | undefined): void {
    this.edgeKey = edgeNodeOfDeath(willTopic);
    this.born = undefined;
    this.emit('connection');
  }

  /**
   * Whether `request` is a birth of the edge node whose NDEATH is `willTopic` (the Will the connection has now). Such
   * a birth is never dropped for room or lifetime: the data waiting for it could never go.
   */
  static isBirthOf(request: PublishRequest, willTopic: string | undefined): boolean {
    const edge = edgeNodeOfDeath(willTopic);
    const m = edge ? BIRTH.exec(request.topic) : null;
    return !!m && `${m[1]}/${m[2] ?? m[3]}` === edge && decoded(request.payload) !== undefined;
  }

  /**
   * For a message about to be written: undefined when it is not a Sparkplug message of this connection's edge node
   * (sent as it is). `historical`: it belongs to a session that ended (it waited for a birth, or came from the spool).
   */
  decide(request: PublishRequest, historical: boolean): WireDecision | undefined {
    if (this.edgeKey === undefined || !request.topic.startsWith('spBv1.0/')) return undefined;
    const m = TOPIC.exec(request.topic);
    if (!m) return undefined;
    const [, group, type, edge, device] = m;
    if (`${group}/${edge}` !== this.edgeKey) return undefined;
    // NBIRTH, NDEATH and NDATA name no device; the others need one.
    if ((type === 'NBIRTH' || type === 'NDEATH' || type === 'NDATA') !== (device === undefined)) return undefined;
    if (type === 'NDEATH') return { kind: 'send', request, commit: () => (this.born = undefined) };
    const payload = decoded(request.payload);
    if (!payload) return undefined; // not Sparkplug: the host judges it, wherever it goes
    const edgeKey = this.edgeKey;
    const b = this.born;
    const as = (t: 'NDATA' | 'DDATA'): string => `spBv1.0/${group}/${t}/${edge}${device === undefined ? '' : `/${device}`}`;
    if (type === 'NBIRTH' && !historical) {
      const fresh: Born = { next: 0, devices: new Set() };
      return this.numbered(request, payload, fresh, false, undefined, () => {
        this.born = fresh;
        this.emit('birth', edgeKey);
      });
    }
    if (!b) return { kind: 'hold', key: edgeKey };
    if (type === 'NBIRTH') return this.numbered(request, withoutSessionMetrics(payload), b, true, as('NDATA'));
    const deviceKey = `${edgeKey}/${device}`;
    if (type === 'DBIRTH' && !historical) {
      return this.numbered(request, payload, b, false, undefined, () => {
        b.devices.add(device);
        this.emit('birth', deviceKey);
      });
    }
    if (type === 'DDEATH') return this.numbered(request, payload, b, false, undefined, () => b.devices.delete(device));
    if (device !== undefined && !b.devices.has(device)) return { kind: 'hold', key: deviceKey };
    // A DBIRTH from a session that ended only repeats data: in this one the device has its own birth already.
    return this.numbered(request, payload, b, historical, type === 'DBIRTH' ? as('DDATA') : undefined);
  }

  /** The request with the next seq (re-encoded only when something changes); commit takes the number. */
  private numbered(request: PublishRequest, payload: SparkplugPayload, b: Born, historical: boolean, topic = request.topic, onCommit?: () => void): WireDecision {
    const seq = b.next;
    const commit = (): void => {
      b.next = (seq + 1) % 256;
      onCommit?.();
    };
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
