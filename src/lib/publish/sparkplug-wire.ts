// Sparkplug B as the broker sees it. A host counts `seq` over everything an edge node publishes on one connection,
// from its NBIRTH (0), and ignores an edge node's data before that NBIRTH: without it the node is offline. Messages
// queued across an outage were numbered, and born, in the session that ended. So the publisher, which alone knows
// the order on the wire, numbers each message as it goes, and holds an edge node's data until the NBIRTH (and a
// device's until its DBIRTH) of the connection has gone; what waited goes out after the births as historical data.
import type { PublishRequest } from '../mqtt/connection';
import { decodeSparkplug, encodeSparkplug, toNumber, type SparkplugPayload } from '../formats/sparkplug-codec';

const TOPIC = /^spBv1\.0\/([^/+#]+)\/(NBIRTH|DBIRTH|NDATA|DDATA|DDEATH)\/([^/+#]+)(?:\/([^/+#]+))?$/;

export type WireDecision =
  /** Write this request (renumbered, perhaps marked historical); `releases` names the hold its birth ends. */
  | { kind: 'send'; request: PublishRequest; releases?: string }
  /** Not yet: it waits in the hold `key` (an edge node, or a device of one) for a birth on this connection. */
  | { kind: 'hold'; key: string };

interface Born {
  next: number;
  devices: Set<string>;
}

export class SparkplugWire {
  private readonly born = new Map<string, Born>();
  private connection: number | undefined;

  /**
   * For a message about to be written: undefined when it is not a Sparkplug edge node message (sent as it is).
   * `historical`: it waited for the births of this connection (it belongs to an earlier session).
   * `connects` counts the transport's connections: each new one starts every edge node unborn.
   */
  decide(request: PublishRequest, historical: boolean, connects: number): WireDecision | undefined {
    if (!request.topic.startsWith('spBv1.0/')) return undefined;
    const m = TOPIC.exec(request.topic);
    if (!m) return undefined;
    const [, group, type, edge, device] = m;
    // NBIRTH and NDATA name no device; DBIRTH, DDATA and DDEATH need one. Anything else is not ours to judge.
    if ((type === 'NBIRTH' || type === 'NDATA') !== (device === undefined)) return undefined;
    if (connects !== this.connection) {
      this.connection = connects;
      this.born.clear();
    }
    const edgeKey = `${group}/${edge}`;
    if (type === 'NBIRTH') {
      const b: Born = { next: 0, devices: new Set() };
      this.born.set(edgeKey, b);
      return this.numbered(request, b, false, edgeKey);
    }
    const b = this.born.get(edgeKey);
    if (!b) return { kind: 'hold', key: edgeKey };
    const deviceKey = `${edgeKey}/${device}`;
    if (type === 'DBIRTH' && !historical) {
      b.devices.add(device);
      return this.numbered(request, b, false, deviceKey);
    }
    if (type === 'DDEATH') {
      b.devices.delete(device);
      return this.numbered(request, b, false);
    }
    if (device !== undefined && !b.devices.has(device)) return { kind: 'hold', key: deviceKey };
    return this.numbered(request, b, historical);
  }

  /** The request with the next seq of this edge node, re-encoded only when something changes. */
  private numbered(request: PublishRequest, b: Born, historical: boolean, releases?: string): WireDecision {
    let payload: SparkplugPayload;
    try {
      payload = decodeSparkplug(typeof request.payload === 'string' ? Buffer.from(request.payload) : request.payload);
    } catch {
      // Not a Sparkplug payload: the host will refuse it whatever its place; it takes no number.
      return { kind: 'send', request, ...(releases ? { releases } : {}) };
    }
    const seq = b.next;
    b.next = (b.next + 1) % 256;
    // A DBIRTH from the session that ended only repeats data: in this one the device has its own birth already.
    const topic = historical ? request.topic.replace('/DBIRTH/', '/DDATA/') : request.topic;
    let out = request;
    if (historical || toNumber(payload.seq) !== seq || topic !== request.topic) {
      payload.seq = seq;
      if (historical) for (const metric of payload.metrics ?? []) metric.isHistorical = true;
      out = { ...request, topic, payload: encodeSparkplug(payload) };
    }
    return { kind: 'send', request: out, ...(releases ? { releases } : {}) };
  }
}
