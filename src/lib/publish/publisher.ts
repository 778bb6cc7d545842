// Sends accepted messages in order through a window of in-flight publishes, queues them while the
// broker is away, gives back the ones a lost connection interrupted, and settles each exactly once.
import type { PublishCallback, PublishError, PublishOutcome, PublishRequest, QoS } from '../mqtt/connection';
import { Outbox, type OutboxLimits } from '../queue/outbox';
import type { DiskSpool } from '../queue/spool';
import { agedRequest, withoutExpiry } from './expiry';
import { publishPacketSize } from './packet-size';
import { BirthHolds } from './birth-holds';
import { SparkplugWire } from './sparkplug-wire';
import type { NotSent } from './types';

export interface PublishTransport {
  readonly connected: boolean;
  /** MQTT 5: the broker's Maximum Packet Size from its CONNACK; it closes the connection on a larger packet. */
  readonly maximumPacketSize?: number;
  /** How packets are encoded (for their size); 5 when absent. */
  readonly protocolVersion?: 4 | 5;
  /** Sparkplug B numbering and births on this connection; without it, Sparkplug topics are sent as they are. */
  readonly sparkplug?: SparkplugWire;
  /** The Will the connection has now (for Sparkplug, the edge node's NDEATH). */
  readonly will?: { readonly topic: string };
  /** Calls back once, when the broker has the message or it cannot be sent; may call back before returning. */
  send(req: PublishRequest, settle: PublishCallback): void;
}

interface Item<T> {
  seq: number;
  request: PublishRequest;
  bytes: number;
  ctx: T | undefined;
  spooled: boolean;
  /** Connections lost at once after it was sent while it was the only publish in flight (see giveUpAfterLosses). */
  losses: number;
  /** When it was last handed to the transport (Date.now()). */
  sentAt?: number;
  /** A message with a Message Expiry: when it was accepted, wall clock (Date.now()), what the spool keeps for a restart. */
  at?: number;
  /**
   * The same, monotonic (performance.now()), for aging it: a Pi without a clock boots on an old time and NTP steps it
   * forward, which on the wall clock would expire every message queued before. 0 without a Message Expiry.
   */
  mono: number;
  /** Sparkplug: it belongs to a session that ended (it waited for a birth, or comes from the spool). */
  historical?: boolean;
  /** A birth of the connection's edge node: never dropped for room or lifetime (see Queued). */
  pinned?: boolean;
  /** While held for a birth: when it began to wait (performance.now()). */
  heldAt?: number;
}

export interface PublisherEvents<T> {
  /** The broker has the message (QoS 0: written; QoS 1/2: acknowledged). */
  sent(ctx: T | undefined, outcome: PublishOutcome, request: PublishRequest): void;
  /** The message will not be sent. */
  notSent(ctx: T | undefined, error: NotSent, request: PublishRequest): void;
  /** After close(): a message in flight at the close came back unacknowledged and stays in the disk spool. */
  kept?(ctx: T | undefined, request: PublishRequest): void;
  /** Counters changed (for the status). */
  changed(): void;
  /** Sparkplug: messages of this edge node (or device) wait for its birth on the connection; once per wait. */
  waiting?(key: string): void;
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

/**
 * A message the broker will not take can make it close the connection instead of answering (Mosquitto with
 * max_packet_size, MQTT 3.1.1, where the broker announces no limit). Sent again after each reconnect, it would block
 * everything behind it forever. With `giveUpAfterLosses` set, the publisher finds it: after a lost connection it
 * resends one message at a time and opens the window again as acknowledgements come (one more per acknowledgement),
 * so a message that is alone in flight when the connection drops is the likely cause; alone at that many losses in a
 * row, it is refused and the rest go on in order. 0 turns this off (and the window stays full after a reconnect).
 */
export interface PublisherOptions {
  giveUpAfterLosses?: number;
  /** Sparkplug: how long messages wait for their edge node's (or device's) birth before they are refused. */
  birthWaitMs?: number;
}

/** Long enough for a format node that births at its first reading after a restart, as sensors read every few minutes. */
export const BIRTH_WAIT_MS = 10 * 60_000;

/** A connection lost within this time after a message went out may be the broker refusing that message. */
const REFUSAL_LOSS_MS = 3000;

export class Publisher<T> {
  private readonly outbox: Outbox<Item<T>>;
  private inFlight = 0;
  private nextSeq = 1;
  private closed = false;
  private pumpScheduled = false;
  private sentReported = 0;
  private readonly giveUpAfterLosses: number;
  /** After a lost connection (giveUpAfterLosses on): the window, grown by one per acknowledgement. */
  private recovery: number | undefined;
  /** The current lost connection has been looked at (its first failed publish); cleared by the next send. */
  private lossNoted = false;
  private lossAlone = false;
  /** After close(): the spool is closed (no publish was left in flight, or settled() stopped waiting). */
  private spoolClosed = false;
  private readonly whenSpoolClosed: Array<() => void> = [];
  /** Whether any message with a Message Expiry was queued: only then is a full queue worth searching for lapsed ones. */
  private expiring = false;
  private lastPurge = -Infinity;
  /** Sparkplug messages waiting for their edge node's (or device's) birth on the connection, or freed by it. */
  private readonly held = new BirthHolds<Item<T>>();
  private readonly birthWaitMs: number;
  private birthTimer: NodeJS.Timeout | undefined;
  /** Births pinned (see pin()): the latest session's, queued or sent. */
  private readonly pinnedBirths = new Set<Item<T>>();
  private readonly onBirth = (key: string): void => this.release(key);
  private readonly onConnection = (): void => this.held.restartWaits(performance.now());
  readonly stats: PublisherStats = { sent: 0, queued: 0, inFlight: 0, dropped: 0, denied: 0, failed: 0 };

  constructor(
    private readonly transport: PublishTransport,
    limits: OutboxLimits,
    private readonly events: PublisherEvents<T>,
    private readonly spool?: DiskSpool,
    /** Largest number of unsettled publishes before one of this QoS may be sent. */
    private window: (qos: QoS) => number = () => 256,
    options: PublisherOptions = {},
  ) {
    this.giveUpAfterLosses = Math.max(0, Math.floor(options.giveUpAfterLosses ?? 0));
    this.birthWaitMs = Math.max(0, options.birthWaitMs ?? BIRTH_WAIT_MS);
    // Held messages were accepted through the outbox and still count against its limits.
    this.outbox = new Outbox(limits, this.held);
    const loadedAt = Date.now();
    const loadedMono = performance.now();
    const restored = (spool?.load() ?? []).map((m): Item<T> => {
      if (!m.request.properties?.messageExpiryInterval) return { ...m, mono: 0, ctx: undefined, spooled: true, losses: 0 };
      this.expiring = true;
      // Across a restart only the wall clock tells how long a message has waited.
      const at = m.at ?? loadedAt;
      return { ...m, at, mono: loadedMono - Math.max(0, loadedAt - at), ctx: undefined, spooled: true, losses: 0 };
    });
    // From a run that ended: a Sparkplug message among them belongs to a session that ended too.
    for (const m of restored) if (m.request.topic.startsWith('spBv1.0/')) m.historical = true;
    this.outbox.giveBackAll(restored);
    for (const m of restored) this.nextSeq = Math.max(this.nextSeq, m.seq + 1);
    this.stats.queued = this.outbox.size; // no 'changed' event: the owner is still being built
    transport.sparkplug?.on('birth', this.onBirth).on('connection', this.onConnection);
  }

  /** Accepts a valid request; it is sent now or queued. */
  submit(request: PublishRequest, bytes: number, ctx: T): void {
    if (this.closed) {
      this.events.notSent(ctx, { code: 'CLOSED', message: 'publisher is closing' }, request);
      return;
    }
    const item: Item<T> = { seq: this.nextSeq++, request, bytes, ctx, spooled: false, losses: 0, mono: 0 };
    // Clocks are read only for a message that can expire: the hot path of the others stays as it was.
    if (request.properties?.messageExpiryInterval) {
      item.at = Date.now();
      item.mono = performance.now();
      this.expiring = true; // sent at once, it may still come back to the queue after a lost connection
    }
    // When the disk fails, the message is kept in memory only (the spool reports the failure to its owner).
    if (this.spool && request.qos > 0) item.spooled = this.spool.append(item);
    // Sent at once too: a birth lost in flight comes back to the queue, and it is the latest.
    if (request.topic.startsWith('spBv1.0/') && SparkplugWire.isBirthOf(request, this.transport.will?.topic)) this.pin(item);
    if (this.outbox.size === 0 && this.held.size === 0 && this.transport.connected && this.inFlight < this.limit(request.qos)) {
      this.send(item);
      return;
    }
    let { accepted, evicted } = this.outbox.push(item, item.pinned);
    // A queue full of messages whose lifetime has passed must not turn fresh ones away.
    if (!accepted && this.purgeExpired()) ({ accepted, evicted } = this.outbox.push(item));
    for (const old of evicted) this.drop(old, 'queue full: oldest message dropped');
    if (!accepted) this.drop(item, 'queue full: message dropped');
    this.refreshCounts();
    this.schedulePump();
  }

  /** Sends queued messages while the connection and the window allow; call on every (re)connect. */
  pump(): void {
    while (!this.closed && this.transport.connected) {
      const next = this.held.peekFreed() ?? this.outbox.peek();
      if (!next || this.inFlight >= this.limit(next.request.qos)) break;
      this.send((this.held.nextFreed() ?? this.outbox.shift()) as Item<T>);
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
    return this.outbox.size + this.held.size;
  }

  /**
   * Stops sending. Queued messages stay in the spool (when on) for the next start (`kept`); the rest are returned
   * (`discarded`) so the caller can report them. Messages still in flight settle later through the events: sent,
   * notSent (CLOSED) or, spooled, kept.
   *
   * The spool stays open while publishes are in flight, so that their acknowledgements are still recorded: a node
   * replaced on redeploy shares the connection, and its successor loads the spool as soon as this one is closed; a
   * message acknowledged after the spool was closed would be sent again by it. See settled().
   */
  close(): { kept: Array<T | undefined>; discarded: Array<T | undefined> } {
    this.closed = true;
    clearTimeout(this.birthTimer);
    this.transport.sparkplug?.off('birth', this.onBirth).off('connection', this.onConnection);
    const held = this.held.takeAll();
    const rest = held.length === 0 ? this.outbox.drain() : [...held, ...this.outbox.drain()].sort((a, b) => a.seq - b.seq);
    if (this.inFlight === 0) this.closeSpool();
    this.refreshCounts();
    return { kept: rest.filter((i) => i.spooled).map((i) => i.ctx), discarded: rest.filter((i) => !i.spooled).map((i) => i.ctx) };
  }

  /**
   * After close(): resolves once the publishes in flight have all settled, or after `waitMs`, with how many are still
   * in flight. The spool is closed by then; one still unsettled stays in it, to be sent again at the next start (a
   * possible duplicate, which QoS 1 allows), and ends later as before: sent, kept, or CLOSED. Never rejects.
   */
  settled(waitMs: number): Promise<number> {
    if (this.spoolClosed) return Promise.resolve(this.inFlight);
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.closeSpool(), Math.max(0, waitMs));
      this.whenSpoolClosed.push(() => {
        clearTimeout(timer);
        resolve(this.inFlight);
      });
    });
  }

  private closeSpool(): void {
    if (this.spoolClosed) return;
    this.spoolClosed = true;
    this.spool?.close();
    for (const resolve of this.whenSpoolClosed.splice(0)) resolve();
  }

  /** How many publishes may be unsettled before one of this QoS goes: the window, or less while recovering. */
  private limit(qos: QoS): number {
    const w = this.window(qos);
    return this.recovery === undefined ? w : Math.min(w, this.recovery);
  }

  private send(item: Item<T>): void {
    let request = this.expiring ? agedRequest(item.request, item.mono, performance.now()) : item.request;
    if (!request && item.pinned) request = withoutExpiry(item.request); // a birth late is still the session's birth
    if (!request) {
      this.expire(item);
      return;
    }
    const wire = this.transport.sparkplug?.decide(request, item.historical === true);
    if (wire?.kind === 'hold') {
      this.hold(wire.key, item);
      return;
    }
    if (wire) request = wire.request;
    const max = this.transport.maximumPacketSize;
    if (max !== undefined) {
      const size = publishPacketSize(request, this.transport.protocolVersion ?? 5);
      if (size > max) {
        // Sent, it would make the broker close the connection; sent again after every reconnect, for ever.
        this.settle(item);
        this.stats.failed++;
        this.events.notSent(item.ctx, { code: 'TOO_LARGE', message: `the message is a packet of ${size} bytes; the broker accepts at most ${max}` }, item.request);
        return;
      }
    }
    wire?.commit(); // numbered and, for a birth, what waited for it released: only now that it goes
    this.inFlight++;
    item.sentAt = Date.now();
    this.lossNoted = false; // only sent on a live connection: a later loss is a new one
    this.transport.send(request, (err, outcome) => {
      this.inFlight--;
      if (err) this.onFailure(item, err);
      else {
        this.settle(item);
        this.stats.sent++;
        if (this.recovery !== undefined) {
          this.recovery++;
          if (this.recovery >= Math.max(this.window(0), this.window(1))) this.recovery = undefined;
        }
        this.events.sent(item.ctx, outcome as PublishOutcome, item.request);
      }
      if (this.closed && this.inFlight === 0) this.closeSpool(); // its outcome is on disk: nothing more to wait for
      else this.schedulePump();
    });
  }

  private onFailure(item: Item<T>, err: PublishError): void {
    if (err.code === 'CONNECTION_LOST' || err.code === 'NOT_CONNECTED' || (err.code === 'CLOSED' && item.spooled)) {
      if (this.closed) {
        // Every message must end (Complete and Catch nodes wait for it). One on disk is sent at the next start: it
        // is kept, not failed. One only in memory is gone with this publisher: it failed, as CLOSED.
        if (item.spooled) this.events.kept?.(item.ctx, item.request);
        else {
          this.stats.failed++;
          this.events.notSent(item.ctx, { code: 'CLOSED', message: 'the node closed before the broker acknowledged the message' }, item.request);
        }
        return;
      }
      if (err.code === 'CONNECTION_LOST' && this.giveUpAfterLosses > 0 && this.blamed(item) && item.losses >= this.giveUpAfterLosses) {
        this.settle(item);
        this.stats.failed++;
        const message =
          `the connection was lost ${item.losses} times in a row while this message was the only one being sent: ` +
          'the broker seems to refuse it (larger than its max_packet_size?); given up so the messages behind it can go';
        this.events.notSent(item.ctx, { code: 'PUBLISH_FAILED', message }, item.request);
        return;
      }
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

  /**
   * Counts a lost connection against a message sent alone. A broker that refuses a packet closes the connection as
   * soon as it reads it; a link that died while the message was out (the usual loss of a low-rate sensor, which is
   * always alone in flight) is noticed later, by the keepalive, and clears the count: only refusals in a row add up.
   */
  private blamed(item: Item<T>): boolean {
    if (!this.noteLoss()) return false;
    const atOnce = Date.now() - (item.sentAt ?? 0) < REFUSAL_LOSS_MS;
    item.losses = atOnce ? item.losses + 1 : 0;
    return atOnce;
  }

  /**
   * Called for each publish a lost connection interrupted (all of them before the next send); the first one decides
   * for the loss: true when it was alone in flight. Then the window restarts at one.
   */
  private noteLoss(): boolean {
    if (!this.lossNoted) {
      this.lossNoted = true;
      this.lossAlone = this.inFlight === 0; // this one's callback has already counted itself out
      this.recovery = 1;
    }
    return this.lossAlone;
  }

  /**
   * Pins a birth of the connection's edge node. Only the latest session's: a new NBIRTH unpins the births before it,
   * a new DBIRTH the one before it for the same device, so the pinned ones are a session's births at most.
   */
  private pin(item: Item<T>): void {
    const nbirth = item.request.topic.includes('/NBIRTH/');
    for (const older of this.pinnedBirths) {
      if (!nbirth && older.request.topic !== item.request.topic) continue;
      this.outbox.unpin(older);
      this.pinnedBirths.delete(older);
    }
    item.pinned = true;
    this.pinnedBirths.add(item);
  }

  /** Moving from the outbox to the hold changes no count: the limits were met when it was accepted. */
  private hold(key: string, item: Item<T>): void {
    item.historical = true;
    // A birth that waits is an ended session's: data now, dropped like data.
    this.outbox.unpin(item);
    this.pinnedBirths.delete(item);
    if (this.held.add(key, item, performance.now())) this.events.waiting?.(key);
    if (!this.birthTimer) this.scheduleBirthCheck(this.birthWaitMs);
    this.refreshCounts();
  }

  /** A birth went (through any publisher on the connection): what waited for it goes first now, in order. */
  private release(key: string): void {
    if (this.closed) return;
    if (this.held.free(key) > 0) this.schedulePump();
  }

  /** Refuses the messages that waited too long for a birth: nothing will send them, and they hold no one else up. */
  private scheduleBirthCheck(delay: number): void {
    this.birthTimer = setTimeout(() => {
      this.birthTimer = undefined;
      if (this.closed || this.held.earliest() === undefined) return;
      // Births come only on a connection: while there is none, nothing is late (the waits start again on the next).
      if (!this.transport.connected) {
        this.scheduleBirthCheck(this.birthWaitMs);
        return;
      }
      const now = performance.now();
      const late = this.held.takeWhere((item) => now - (item.heldAt ?? now) >= this.birthWaitMs);
      const message = `no Sparkplug birth for it on this connection within ${Math.round(this.birthWaitMs / 1000)} s (hosts ignore an edge node's data before its NBIRTH, a device's before its DBIRTH)`;
      for (const item of late) {
        this.settle(item);
        this.stats.failed++;
        this.events.notSent(item.ctx, { code: 'SPARKPLUG_UNBORN', message }, item.request);
      }
      const first = this.held.earliest();
      if (first !== undefined) this.scheduleBirthCheck(Math.max(0, first + this.birthWaitMs - now));
      this.refreshCounts();
    }, delay);
    this.birthTimer.unref();
  }

  /** Removes the queued messages whose Message Expiry has passed; at most once a second (it reads the whole queue). */
  private purgeExpired(): boolean {
    const now = performance.now();
    if (!this.expiring || now - this.lastPurge < 1000) return false;
    this.lastPurge = now;
    const gone = (i: Item<T>): boolean => !i.pinned && agedRequest(i.request, i.mono, now) === undefined;
    const lapsed = [...this.outbox.removeWhere(gone), ...this.held.takeWhere(gone)];
    for (const item of lapsed) this.expire(item);
    return lapsed.length > 0;
  }

  private expire(item: Item<T>): void {
    this.settle(item);
    this.stats.dropped++;
    const interval = item.request.properties?.messageExpiryInterval ?? 0;
    this.events.notSent(item.ctx, { code: 'EXPIRED', message: `its message expiry interval (${interval} s) passed while it waited to be sent` }, item.request);
  }

  private drop(item: Item<T>, message: string): void {
    if (this.expiring && agedRequest(item.request, item.mono, performance.now()) === undefined) {
      this.expire(item);
      return;
    }
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
    const queued = this.outbox.size + this.held.size;
    if (queued !== this.stats.queued || this.inFlight !== this.stats.inFlight || this.stats.sent !== this.sentReported) {
      this.stats.queued = queued;
      this.stats.inFlight = this.inFlight;
      this.sentReported = this.stats.sent;
      this.events.changed();
    }
  }
}
