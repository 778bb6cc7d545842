// Several nodes on one connection share one broker subscription per filter. This table decides what each SUBSCRIBE
// asks for (options merged toward delivering more) and which node gets which message: MQTT 5 subscription
// identifiers where the broker offers them, the topic otherwise, and retained messages only for the nodes whose
// SUBSCRIBE asked for them (a second node on a filter must not replay the retained set to the first).
import type { IPublishPacket } from 'mqtt';
import { TopicTrie } from './topic-trie';
import { filterMatches, filtersOverlap, parseSharedFilter } from './topic-rules';

export type QoS = 0 | 1 | 2;

export interface SubscribeOptions {
  qos: QoS;
  nl?: boolean;
  rap?: boolean;
  rh?: 0 | 1 | 2;
}

export type MessageHandler = (topic: string, payload: Buffer, packet: IPublishPacket) => void;

/**
 * What a node asked for that the shared broker subscription cannot give it, because of another node on the same
 * connection (`other` names that node's filter).
 */
export interface SubscriptionNotice {
  code: 'NO_LOCAL_LOST' | 'RETAIN_FLAG_AS_PUBLISHED' | 'SHARED_OVERLAP';
  other: string;
}

export type NoticeHandler = (notice: SubscriptionNotice) => void;

export interface SubscriptionEntry {
  readonly filter: string;
  readonly options: SubscribeOptions;
  readonly handler: MessageHandler;
  readonly onNotice: NoticeHandler | undefined;
  readonly group: FilterGroup;
  /**
   * The request whose retained messages this entry takes (its subscription identifier, or without identifiers a
   * number per filter); undefined: none.
   */
  retainedKey: number | undefined;
  /**
   * Without identifiers: the topics of the retained messages this entry has had since its last request that brings
   * them (undefined: it takes none). Timing cannot tell whose SUBSCRIBE a retained message answers (Mosquitto sends
   * 20 QoS 1 messages at a time and the next SUBACK overtakes the rest), but each entry needs each topic once. The
   * set is dropped once the filter's retained messages have stopped coming (RETAINED_QUIET_MS) or it grows past
   * RETAINED_SEEN_MAX; then the entry takes the copies only while its request is the filter's latest.
   */
  retainedSeen: Set<string> | undefined;
  /** Whether a SUBSCRIBE sent on this connection included this entry. */
  sent: boolean;
  /** Whether a SUBSCRIBE into the current session included it (a kept session outlives connections). */
  inSession: boolean;
  readonly noticed: Set<string>;
}

export interface FilterGroup {
  readonly filter: string;
  /** The filter messages are matched against: without the `$share/<group>/` prefix. */
  readonly dispatch: string;
  readonly shared: boolean;
  readonly entries: Set<SubscriptionEntry>;
  /** Options of the last SUBSCRIBE the broker granted on this connection; undefined while not subscribed. */
  brokerOptions: SubscribeOptions | undefined;
  /** The QoS the broker granted with them. */
  granted: number | undefined;
  /** Options of the last SUBSCRIBE sent on this connection, granted or not yet answered. */
  requested: SubscribeOptions | undefined;
  /** When the last SUBACK or retained message for this filter came (performance.now()). */
  retainedAt: number;
  /** Without identifiers: the number of the latest request sent, as in SubscriptionEntry.retainedKey. */
  lastKey: number;
  /** Why the last SUBSCRIBE was refused, for a node joining before the next attempt. */
  refusal: Error | undefined;
  id: number | undefined;
  /** Identifiers this filter had, newest last: messages the broker queued under an older one still reach it. */
  readonly ids: number[];
  /** Other filters of this connection with topics in common, where one of the two is shared. */
  readonly overlaps: Set<FilterGroup>;
  /** SUBSCRIBEs of one filter go one after the other. */
  queue: Promise<void>;
}

/** One SUBSCRIBE to send: 'connect' after (re)connecting, 'join' when a node is added. */
export interface SubscribeRequest {
  readonly group: FilterGroup;
  readonly options: SubscribeOptions;
  readonly id: number | undefined;
  /**
   * Unsubscribe first: Mosquitto (2.0.11 at least) takes only the QoS and identifier from a SUBSCRIBE for a filter
   * the session has, not no local or retain-as-published, although MQTT 5 says the new one replaces it. Only done to
   * widen (a node that wants its own messages or the retain flag): the instant between the two can miss a message.
   */
  readonly replace: boolean;
}

export type RequestKind = 'connect' | 'join';

/** Identifiers kept per filter for messages still on their way; an older one falls back to the topic. */
const IDS_KEPT = 8;
/** Identifiers of removed filters remembered, so their late messages reach nobody rather than a newer filter. */
const RETIRED_KEPT = 1024;
const MAX_SUBSCRIPTION_ID = 268435455;
/** Retained messages come back to back after a SUBACK: this long without one, a request's set is over. */
const RETAINED_QUIET_MS = 5000;
/** A node's set of retained topics stops here (about 1 MB): past it, a later join may replay what it had. */
const RETAINED_SEEN_MAX = 10000;

/**
 * What a client id's session holds at the broker, as far as this process knows: filter → the options last sent.
 * Kept by the connection across reconnects and redeploys (a new connection object with the same client id finds the
 * session of the old one), so a kept session's options can be widened and its unused filters unsubscribed.
 */
export type SessionMemory = Map<string, SubscribeOptions>;

export class SubscriptionTable {
  private readonly groups = new Map<string, FilterGroup>();
  private readonly byId = new Map<number, FilterGroup>();
  private readonly retired = new Set<number>();
  private readonly trie = new TopicTrie<SubscriptionEntry>();
  // Each process starts somewhere else: a kept session may still carry another process's identifiers.
  private nextId = 1 + Math.floor(Math.random() * (MAX_SUBSCRIPTION_ID - 1));
  private readonly v5: boolean;
  private idsAvailable = true;
  private sessionPresent = false;
  /** Whether FilterGroup.overlaps are kept up to date (only needed without identifiers). */
  private overlapsKnown = false;

  private readonly shared = new Set<FilterGroup>();

  constructor(
    protocolVersion: 4 | 5,
    private readonly session: SessionMemory = new Map<string, SubscribeOptions>(),
  ) {
    this.v5 = protocolVersion === 5;
  }

  /** Whether messages carry subscription identifiers. */
  get identifiers(): boolean {
    return this.v5 && this.idsAvailable;
  }

  filters(): FilterGroup[] {
    return [...this.groups.values()];
  }

  add(filter: string, options: SubscribeOptions, handler: MessageHandler, onNotice?: NoticeHandler): SubscriptionEntry {
    let group = this.groups.get(filter);
    if (!group) {
      const shared = parseSharedFilter(filter);
      const isShared = !!shared && !('code' in shared);
      group = {
        filter,
        dispatch: isShared ? shared.filter : filter,
        shared: isShared,
        entries: new Set(),
        brokerOptions: undefined,
        granted: undefined,
        requested: undefined,
        retainedAt: 0,
        lastKey: 0,
        refusal: undefined,
        id: undefined,
        ids: [],
        overlaps: new Set(),
        queue: Promise.resolve(),
      };
      this.groups.set(filter, group);
      if (this.overlapsKnown) this.findOverlaps(group);
      if (isShared) this.shared.add(group);
    }
    const entry: SubscriptionEntry = { filter, options, handler, onNotice, group, retainedKey: undefined, retainedSeen: undefined, sent: false, inSession: false, noticed: new Set() };
    group.entries.add(entry);
    this.trie.add(group.dispatch, entry);
    return entry;
  }

  /**
   * Removes an entry; returns whether its filter has no entry left (the broker subscription should go). A filter
   * that keeps entries keeps its broker subscription as it is: narrower options wait for the next connection.
   */
  remove(entry: SubscriptionEntry): boolean {
    const group = entry.group;
    if (!group.entries.delete(entry)) return false;
    this.trie.remove(group.dispatch, entry);
    if (group.entries.size > 0) return false;
    this.groups.delete(group.filter);
    this.shared.delete(group);
    for (const other of group.overlaps) other.overlaps.delete(group);
    for (const id of group.ids) {
      if (this.byId.get(id) !== group) continue;
      this.byId.delete(id);
      this.retired.add(id);
    }
    for (const id of this.retired) {
      if (this.retired.size <= RETIRED_KEPT) break;
      this.retired.delete(id);
    }
    return true;
  }

  /** A new connection: nothing is subscribed at the broker until the SUBSCRIBEs are answered. */
  connected(sessionPresent: boolean, idsAvailable: boolean): void {
    this.sessionPresent = sessionPresent;
    this.idsAvailable = idsAvailable;
    this.disconnected();
    if (!sessionPresent) {
      this.session.clear();
      for (const group of this.groups.values()) for (const e of group.entries) e.inSession = false;
    }
    if (!this.identifiers && !this.overlapsKnown) {
      this.overlapsKnown = true;
      for (const group of this.groups.values()) this.findOverlaps(group);
    }
  }

  /** Filters the kept session holds that no node wants any more: to unsubscribe after connecting. */
  leftovers(): string[] {
    return [...this.session.keys()].filter((f) => !this.groups.has(f));
  }

  /** The broker was asked to drop this filter (UNSUBSCRIBE sent). */
  forget(filter: string): void {
    this.session.delete(filter);
  }

  disconnected(): void {
    for (const group of this.groups.values()) {
      group.brokerOptions = undefined;
      group.granted = undefined;
      group.requested = undefined;
      for (const e of group.entries) e.sent = false;
    }
  }

  /**
   * What to send for a filter now, or undefined when the broker subscription already serves every entry. Marks the
   * entries whose retained messages this request brings.
   */
  plan(group: FilterGroup, asked: RequestKind): SubscribeRequest | undefined {
    if (group.entries.size === 0 || this.groups.get(group.filter) !== group) return undefined;
    // A node that joins before the connect's SUBSCRIBE of its filter went out makes that SUBSCRIBE itself.
    const kind = asked === 'join' && group.requested === undefined ? 'connect' : asked;
    if (kind === 'connect' && group.requested !== undefined) return undefined;
    const entries = [...group.entries];
    const merged = mergeOptions(entries.map((e) => e.options));
    const { wanting, rh } = this.retainedFor(group, entries, kind);
    this.notices(group, merged);
    if (kind === 'join') {
      // Already in a request sent since (several nodes deployed together share one): its answer is theirs.
      if (!entries.some((e) => !e.sent)) return undefined;
      if (group.brokerOptions && covers(group.brokerOptions, merged) && wanting.length === 0) {
        for (const e of entries) e.sent = true;
        return undefined;
      }
    }
    const options: SubscribeOptions = { ...merged };
    if (this.v5) options.rh = rh;
    let id: number | undefined;
    let key: number;
    if (this.identifiers) {
      // A request that brings retained messages to some nodes takes a new identifier: they reach only those nodes,
      // not the others on a join, and not the rest of an earlier set still queued in a kept session.
      if (group.id === undefined || (wanting.length > 0 && (kind === 'join' || this.sessionPresent))) this.assignId(group);
      id = group.id as number;
      key = id;
      for (const e of entries) e.retainedSeen = undefined; // sets of an earlier connection without identifiers
    } else {
      key = ++group.lastKey;
      // A set whose retained messages stopped coming is over; one still filling (a join during the first node's
      // set) stays, and its topics keep that node from taking them twice.
      const over = kind === 'connect' || performance.now() - group.retainedAt > RETAINED_QUIET_MS;
      if (over) for (const e of entries) e.retainedSeen = undefined;
      for (const e of wanting) e.retainedSeen = new Set();
    }
    if (kind === 'connect') for (const e of entries) e.retainedKey = undefined;
    for (const e of wanting) e.retainedKey = key;
    for (const e of entries) {
      e.sent = true;
      e.inSession = true;
    }
    // What the broker holds: the subscription made on this connection, or after a reconnect into a kept session,
    // what was sent before.
    const held = kind === 'join' ? group.brokerOptions : this.sessionPresent ? this.session.get(group.filter) : undefined;
    const replace = !!held && ((!!held.nl && !options.nl) || (!held.rap && !!options.rap));
    group.requested = options;
    group.retainedAt = performance.now();
    this.session.set(group.filter, options);
    return { group, options, id, replace };
  }

  granted(req: SubscribeRequest, qos: number): void {
    const group = req.group;
    group.brokerOptions = req.options;
    group.granted = qos;
    group.refusal = undefined;
    group.retainedAt = performance.now();
  }

  refused(req: SubscribeRequest, err: Error): void {
    const group = req.group;
    group.brokerOptions = undefined;
    group.granted = undefined;
    group.refusal = err;
  }

  /** The entries a message goes to. */
  match(topic: string, packet: IPublishPacket): SubscriptionEntry[] {
    const out: SubscriptionEntry[] = [];
    // Only the sets of topics (no identifiers) need the time: a message with identifiers reads no clock.
    const now = this.identifiers ? 0 : performance.now();
    const ids = packet.properties?.subscriptionIdentifier;
    if (ids !== undefined) {
      let stale = false;
      for (const id of Array.isArray(ids) ? ids : [ids]) {
        // With a persistent session the broker keeps the identifiers of an earlier connection, whose numbers may
        // now name another filter or none: an identifier counts only when its filter matches the topic.
        const group = this.byId.get(id);
        if (group && filterMatches(group.dispatch, topic)) {
          for (const e of group.entries) if (this.takes(e, topic, packet.retain, id, now)) out.push(e);
        } else if (!this.retired.has(id)) {
          stale = true;
        }
      }
      // Only stale identifiers (messages queued while offline come before our SUBSCRIBEs): the topic decides.
      if (out.length > 0 || !stale) return out;
    }
    const matched = this.trie.match(topic);
    for (const e of matched) if (this.takes(e, topic, packet.retain, undefined, now)) out.push(e);
    if (packet.retain && !this.identifiers) for (const e of matched) e.group.retainedAt = now;
    return out;
  }

  private takes(e: SubscriptionEntry, topic: string, retain: boolean, id: number | undefined, now: number): boolean {
    // Without identifiers, an entry's set of retained topics lives while its retained messages come.
    if (e.retainedSeen && (now - e.group.retainedAt > RETAINED_QUIET_MS || e.retainedSeen.size >= RETAINED_SEEN_MAX)) e.retainedSeen = undefined;
    if (!retain) {
      // A topic first retained after this entry subscribed reaches it live; a join's copy must not bring it again.
      e.retainedSeen?.add(topic);
      return true;
    }
    // With retain-as-published, a live message keeps its flag too: retained ones can no longer be told apart.
    if (!e.group.requested || e.group.requested.rap) return true;
    if (id !== undefined) return e.retainedKey === id;
    if (this.identifiers) return true; // a stale identifier: no way to tell which request this answers
    const seen = e.retainedSeen;
    if (!seen) {
      // The set is over (a stall, or a set queued behind other filters' sets): while no later request was made on
      // the filter, every retained copy still answers this node's.
      return e.retainedKey !== undefined && e.retainedKey === e.group.lastKey;
    }
    if (seen.has(topic)) return false;
    seen.add(topic);
    return true;
  }

  /**
   * Which entries a SUBSCRIBE brings retained messages for, and the retain handling to send. A node's "only for a new
   * subscription" (1) is kept by the broker where it can be: into a kept session, with no node wanting them always,
   * 1 goes to the broker as it is.
   */
  private retainedFor(group: FilterGroup, entries: SubscriptionEntry[], kind: RequestKind): { wanting: SubscriptionEntry[]; rh: 0 | 1 | 2 } {
    const rhOf = (e: SubscriptionEntry): 0 | 1 | 2 => (this.v5 ? (e.options.rh ?? 0) : 0);
    if (kind === 'join') {
      const wanting = entries.filter((e) => !e.sent && rhOf(e) !== 2);
      return { wanting, rh: wanting.length > 0 ? 0 : 2 };
    }
    const always = entries.filter((e) => rhOf(e) === 0);
    const ifNew = entries.filter((e) => rhOf(e) === 1);
    if (!this.sessionPresent) return { wanting: [...always, ...ifNew], rh: always.length + ifNew.length > 0 ? 0 : 2 };
    if (!this.session.has(group.filter)) {
      // A filter this process never sent into the session: the broker knows whether the session holds it.
      if (always.length === 0) return { wanting: ifNew, rh: ifNew.length > 0 ? 1 : 2 };
      return { wanting: [...always, ...ifNew], rh: 0 };
    }
    // The session holds the filter; a node never in a SUBSCRIBE of this session is new to it all the same.
    const wanting = [...always, ...ifNew.filter((e) => !e.inSession)];
    return { wanting, rh: wanting.length > 0 ? 0 : 2 };
  }

  private assignId(group: FilterGroup): void {
    // After a wrap, skip numbers still naming a filter (or lately retired): each identifier names one filter.
    let id = this.nextId;
    while (this.byId.has(id) || this.retired.has(id)) id = id >= MAX_SUBSCRIPTION_ID ? 1 : id + 1;
    this.nextId = id >= MAX_SUBSCRIPTION_ID ? 1 : id + 1;
    group.id = id;
    group.ids.push(id);
    this.byId.set(id, group);
    while (group.ids.length > IDS_KEPT) this.byId.delete(group.ids.shift() as number);
  }

  /** Records the filters that share topics with `group`, where one of the two is shared. */
  private findOverlaps(group: FilterGroup): void {
    // Only pairs with a shared filter matter: a plain filter is compared with the shared ones alone.
    for (const other of group.shared ? this.groups.values() : this.shared) {
      if (other === group || !(group.shared || other.shared) || !filtersOverlap(group.dispatch, other.dispatch)) continue;
      group.overlaps.add(other);
      other.overlaps.add(group);
    }
  }

  private notices(group: FilterGroup, merged: SubscribeOptions): void {
    const say = (e: SubscriptionEntry, code: SubscriptionNotice['code'], other: string): void => {
      if (e.noticed.has(code) || !e.onNotice) return;
      e.noticed.add(code);
      e.onNotice({ code, other });
    };
    const others = (e: SubscriptionEntry, wrong: (o: SubscriptionEntry) => boolean): boolean => [...group.entries].some((o) => o !== e && wrong(o));
    for (const e of group.entries) {
      if (e.options.nl && !merged.nl && others(e, (o) => !o.options.nl)) say(e, 'NO_LOCAL_LOST', group.filter);
      if (!e.options.rap && merged.rap && others(e, (o) => !!o.options.rap)) say(e, 'RETAIN_FLAG_AS_PUBLISHED', group.filter);
    }
    if (this.identifiers) return;
    // Without identifiers a copy cannot be told apart: a shared subscription overlapping another filter of this
    // connection gets what the broker sent for the other one too (and Mosquitto sends one copy for both).
    for (const other of group.overlaps) {
      if (group.shared) for (const e of group.entries) say(e, 'SHARED_OVERLAP', other.filter);
      if (other.shared) for (const e of other.entries) say(e, 'SHARED_OVERLAP', group.filter);
    }
  }
}

/** Toward delivering more: the highest QoS, no local only when every node asks, retain-as-published when one does. */
export function mergeOptions(list: SubscribeOptions[]): SubscribeOptions {
  const merged: SubscribeOptions = { qos: 0 };
  let noLocal = list.length > 0;
  for (const o of list) {
    if (o.qos > merged.qos) merged.qos = o.qos;
    if (!o.nl) noLocal = false;
    if (o.rap) merged.rap = true;
  }
  if (noLocal) merged.nl = true;
  return merged;
}

/** Whether a subscription with options `held` delivers all that one with `wanted` would. */
function covers(held: SubscribeOptions, wanted: SubscribeOptions): boolean {
  return held.qos >= wanted.qos && (!held.nl || !!wanted.nl) && (!!held.rap || !wanted.rap);
}
