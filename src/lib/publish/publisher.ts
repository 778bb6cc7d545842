// Sends accepted messages in order through a window of in-flight publishes, queues them while the
// broker is away, gives back the ones a lost connection interrupted, and settles each exactly once.
import type { PublishCallback, PublishError, PublishOutcome, PublishRequest, QoS } from '../mqtt/connection';
import { Outbox, type OutboxLimits } from '../queue/outbox';
import type { DiskSpool } from '../queue/spool';
import type { NotSent } from './types';

export interface PublishTransport {
  readonly connected: boolean;
  /** Calls back once, when the broker has the message or it cannot be sent; may call back before returning. */
  send(req: PublishRequest, settle: PublishCallback): void;
}

interface Item<T> {
  seq: number;
  request: PublishRequest;
  bytes: number;
  ctx: T | undefined;
  spooled: boolean;
}

export interface PublisherEvents<T> {
  /** The broker has the message (QoS 0: written; QoS 1/2: acknowledged). */
  sent(ctx: T | undefined, outcome: PublishOutcome, request: PublishRequest): void;
  /** The message will not be sent. */
  notSent(ctx: T | undefined, error: NotSent, request: PublishRequest): void;
  /** Counters changed (for the status). */
  changed(): void;
}

export interface PublisherStats {
  sent: number;
  queued: number;
  inFlight: number;
  dropped: number;
  denied: number;
  failed: number;
}

// MQTT.js adds a socket 'drain' listener for each QoS 0 write that meets a full buffer and warns past 1000; QoS 1/2
// writes add none. Acknowledged messages get a deeper window: more of them in flight keeps the broker busy.
export const MAX_IN_FLIGHT_QOS0 = 900;
export const MAX_IN_FLIGHT_ACKED = 4000;

/** How many publishes may be unsettled before one of this QoS is sent; the broker's Receive Maximum counts QoS 1/2 only. */
export function inFlightLimit(qos: QoS, brokerReceiveMaximum: number | undefined): number {
  if (qos === 0) return MAX_IN_FLIGHT_QOS0;
  return Math.min(brokerReceiveMaximum ?? MAX_IN_FLIGHT_ACKED, MAX_IN_FLIGHT_ACKED);
}

export class Publisher<T> {
  private readonly outbox: Outbox<Item<T>>;
  private inFlight = 0;
  private nextSeq = 1;
  private closed = false;
  private pumpScheduled = false;
  private sentReported = 0;
  readonly stats: PublisherStats = { sent: 0, queued: 0, inFlight: 0, dropped: 0, denied: 0, failed: 0 };

  constructor(
    private readonly transport: PublishTransport,
    limits: OutboxLimits,
    private readonly events: PublisherEvents<T>,
    private readonly spool?: DiskSpool,
    /** Largest number of unsettled publishes before one of this QoS may be sent. */
    private window: (qos: QoS) => number = () => 256,
  ) {
    this.outbox = new Outbox(limits);
    for (const m of spool?.load() ?? []) {
      this.outbox.giveBack({ ...m, ctx: undefined, spooled: true });
      this.nextSeq = Math.max(this.nextSeq, m.seq + 1);
    }
    this.stats.queued = this.outbox.size; // no 'changed' event: the owner is still being built
  }

  /** Accepts a valid request; it is sent now or queued. */
  submit(request: PublishRequest, bytes: number, ctx: T): void {
    if (this.closed) {
      this.events.notSent(ctx, { code: 'CLOSED', message: 'publisher is closing' }, request);
      return;
    }
    const item: Item<T> = { seq: this.nextSeq++, request, bytes, ctx, spooled: false };
    if (this.spool && request.qos > 0) {
      this.spool.append(item);
      item.spooled = true;
    }
    if (this.outbox.size === 0 && this.transport.connected && this.inFlight < this.window(request.qos)) {
      this.send(item);
      return;
    }
    const { accepted, evicted } = this.outbox.push(item);
    for (const old of evicted) this.drop(old, 'queue full: oldest message dropped');
    if (!accepted) this.drop(item, 'queue full: message dropped');
    this.refreshCounts();
    this.schedulePump();
  }

  /** Sends queued messages while the connection and the window allow; call on every (re)connect. */
  pump(): void {
    while (!this.closed && this.transport.connected) {
      const next = this.outbox.peek();
      if (!next || this.inFlight >= this.window(next.request.qos)) break;
      this.send(this.outbox.shift() as Item<T>);
    }
    this.refreshCounts();
  }

  /**
   * Refills the window once per turn of the event loop, not once per acknowledgement: acknowledgements come in a
   * few at a time, and refilling after each made about twice the socket writes (and TLS records) for the same
   * messages. Queued messages wait for the same turn; one that finds the queue empty and the window open goes at once.
   */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  get queued(): number {
    return this.outbox.size;
  }

  /**
   * Stops sending. Queued messages stay in the spool (when on) for the next start;
   * the rest are returned so the caller can report them.
   */
  close(): { kept: number; discarded: Array<T | undefined> } {
    this.closed = true;
    const rest = this.outbox.drain();
    const kept = rest.filter((i) => i.spooled).length;
    this.spool?.close();
    this.refreshCounts();
    return { kept, discarded: rest.filter((i) => !i.spooled).map((i) => i.ctx) };
  }

  private send(item: Item<T>): void {
    this.inFlight++;
    this.transport.send(item.request, (err, outcome) => {
      this.inFlight--;
      if (err) this.onFailure(item, err);
      else {
        this.settle(item);
        this.stats.sent++;
        this.events.sent(item.ctx, outcome as PublishOutcome, item.request);
      }
      this.schedulePump();
    });
  }

  private onFailure(item: Item<T>, err: PublishError): void {
    if (err.code === 'CONNECTION_LOST' || err.code === 'NOT_CONNECTED' || (err.code === 'CLOSED' && item.spooled)) {
      if (this.closed) return; // stays in the spool, or is reported by close()
      this.outbox.giveBack(item); // sent again, in order, after the reconnect
      return;
    }
    this.settle(item);
    if (err.code === 'BROKER_DENIED') {
      this.stats.denied++;
      const error: NotSent = { code: 'BROKER_DENIED', message: err.message };
      if (err.reasonCode !== undefined) error.reasonCode = err.reasonCode;
      this.events.notSent(item.ctx, error, item.request);
      return;
    }
    this.stats.failed++;
    this.events.notSent(item.ctx, { code: err.code === 'CLOSED' ? 'CLOSED' : 'PUBLISH_FAILED', message: err.message }, item.request);
  }

  private drop(item: Item<T>, message: string): void {
    this.settle(item);
    this.stats.dropped++;
    this.events.notSent(item.ctx, { code: 'QUEUE_FULL', message }, item.request);
  }

  private settle(item: Item<T>): void {
    if (item.spooled) this.spool?.settle(item.seq);
  }

  private refreshCounts(): void {
    // After close() the node's status belongs to whatever replaced it on redeploy.
    if (this.closed) return;
    const queued = this.outbox.size;
    if (queued !== this.stats.queued || this.inFlight !== this.stats.inFlight || this.stats.sent !== this.sentReported) {
      this.stats.queued = queued;
      this.stats.inFlight = this.inFlight;
      this.sentReported = this.stats.sent;
      this.events.changed();
    }
  }
}
