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
  /** The request whose retained messages this entry takes; undefined: none (yet). */
  retainedKey: number | undefined;
  /** Whether a SUBSCRIBE sent on this connection included this entry. */
  sent: boolean;
  readonly noticed: Set<string>;
}

export interface FilterGroup {
  readonly filter: string;
  /** The filter messages are matched against: without the `$share/<group>/` prefix. */
  readonly dispatch: string;
  readonly shared: boolean;
  readonly entries: Set<SubscriptionEntry>;
  /** Options of the last SUBSCRIBE the broker granted; undefined while not subscribed at the broker. */
  brokerOptions: SubscribeOptions | undefined;
  /** The QoS the broker granted with them. */
  granted: number | undefined;
  /** Options of the last SUBSCRIBE sent, granted or not yet answered. */
  requested: SubscribeOptions | undefined;
  /** Why the last SUBSCRIBE was refused, for a node joining before the next attempt. */
  refusal: Error | undefined;
  id: number | undefined;
  /** Identifiers this filter had, newest last: messages the broker queued under an older one still reach it. */
  readonly ids: number[];
  /** Without identifiers: the request whose retained messages arrive now, and one still waiting for its SUBACK. */
  activeKey: number | undefined;
  pendingKey: number | undefined;
  seq: number;
  /** SUBSCRIBEs of one filter go one after the other, so each one's retained messages are told apart. */
  queue: Promise<void>;
}

/** One SUBSCRIBE to send: 'connect' after (re)connecting, 'join' when a node is added, 'change' when one leaves. */
export interface SubscribeRequest {
  readonly group: FilterGroup;
  readonly options: SubscribeOptions;
  readonly id: number | undefined;
  readonly key: number;
  /**
   * Unsubscribe first: Mosquitto (2.0.11 at least) takes only the QoS and identifier from a SUBSCRIBE for a filter
   * the client has, not no local or retain-as-published, although MQTT 5 says the new one replaces it.
   */
  readonly replace: boolean;
}

export type RequestKind = 'connect' | 'join' | 'change';

/** Identifiers kept per filter for messages still on their way; an older one falls back to the topic. */
const IDS_KEPT = 8;
const MAX_SUBSCRIPTION_ID = 268435455;

export class SubscriptionTable {
  private readonly groups = new Map<string, FilterGroup>();
  private readonly byId = new Map<number, FilterGroup>();
  private readonly trie = new TopicTrie<SubscriptionEntry>();
  private nextId = 1;
  private v5: boolean;
  private idsAvailable = true;
  private sessionPresent = false;

  constructor(protocolVersion: 4 | 5) {
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
        refusal: undefined,
        id: undefined,
        ids: [],
        activeKey: undefined,
        pendingKey: undefined,
        seq: 0,
        queue: Promise.resolve(),
      };
      this.groups.set(filter, group);
    }
    const entry: SubscriptionEntry = { filter, options, handler, onNotice, group, retainedKey: undefined, sent: false, noticed: new Set() };
    group.entries.add(entry);
    this.trie.add(group.dispatch, entry);
    return entry;
  }

  /** Removes an entry; returns whether its filter has no entry left (the broker subscription should go). */
  remove(entry: SubscriptionEntry): boolean {
    const group = entry.group;
    if (!group.entries.delete(entry)) return false;
    this.trie.remove(group.dispatch, entry);
    if (group.entries.size > 0) return false;
    this.groups.delete(group.filter);
    for (const id of group.ids) if (this.byId.get(id) === group) this.byId.delete(id);
    return true;
  }

  /** A new connection: nothing is subscribed at the broker until the SUBSCRIBEs are answered. */
  connected(sessionPresent: boolean, idsAvailable: boolean): void {
    this.sessionPresent = sessionPresent;
    this.idsAvailable = idsAvailable;
    this.disconnected();
  }

  disconnected(): void {
    for (const group of this.groups.values()) {
      group.brokerOptions = undefined;
      group.granted = undefined;
      group.requested = undefined;
      group.pendingKey = undefined;
      for (const e of group.entries) e.sent = false;
    }
  }

  /**
   * What to send for a filter now, or undefined when the broker subscription already serves every entry. Marks the
   * entries whose retained messages this request brings.
   */
  plan(group: FilterGroup, kind: RequestKind): SubscribeRequest | undefined {
    if (group.entries.size === 0 || this.groups.get(group.filter) !== group) return undefined;
    const entries = [...group.entries];
    const merged = mergeOptions(entries.map((e) => e.options));
    const wanting = entries.filter((e) => this.wantsRetained(e, kind));
    const unchanged = group.brokerOptions !== undefined && sameOptions(group.brokerOptions, merged);
    const newcomers = entries.some((e) => !e.sent);
    this.notices(group, merged);
    if (kind === 'change') {
      // A 3.1.1 SUBSCRIBE always brings the retained messages again; a lower QoS is not worth that.
      if (!group.brokerOptions || unchanged || !this.v5) return undefined;
    } else if (kind === 'join') {
      // Already in a request sent since (several nodes deployed together share one): its answer is theirs.
      if (!newcomers) return undefined;
      if (unchanged && wanting.length === 0) {
        for (const e of entries) e.sent = true;
        return undefined;
      }
    }
    const options: SubscribeOptions = { ...merged };
    if (this.v5) options.rh = wanting.length > 0 ? 0 : 2;
    let id: number | undefined;
    let key: number;
    if (this.identifiers) {
      // A join that brings retained messages takes a new identifier: they then reach only the newcomers.
      if (group.id === undefined || (kind === 'join' && wanting.length > 0)) this.assignId(group);
      id = group.id as number;
      key = id;
    } else {
      key = ++group.seq;
      group.pendingKey = key;
    }
    if (kind === 'connect') for (const e of entries) e.retainedKey = undefined;
    for (const e of wanting) e.retainedKey = key;
    for (const e of entries) e.sent = true;
    group.requested = options;
    const old = group.brokerOptions;
    const replace = kind !== 'connect' && !!old && (!!old.nl !== !!options.nl || !!old.rap !== !!options.rap);
    return { group, options, id, key, replace };
  }

  granted(req: SubscribeRequest, qos: number): void {
    const group = req.group;
    group.brokerOptions = req.options;
    group.granted = qos;
    group.refusal = undefined;
    if (group.pendingKey === req.key) {
      group.activeKey = req.key;
      group.pendingKey = undefined;
    }
  }

  refused(req: SubscribeRequest, err: Error): void {
    const group = req.group;
    group.brokerOptions = undefined;
    group.granted = undefined;
    group.refusal = err;
    if (group.pendingKey === req.key) group.pendingKey = undefined;
  }

  /** The entries a message goes to. */
  match(topic: string, packet: IPublishPacket): SubscriptionEntry[] {
    const out: SubscriptionEntry[] = [];
    const ids = packet.properties?.subscriptionIdentifier;
    if (ids !== undefined) {
      let stale = false;
      for (const id of Array.isArray(ids) ? ids : [ids]) {
        // With a persistent session the broker keeps the identifiers of an earlier connection, whose numbers may
        // now name another filter or none: an identifier counts only when its filter matches the topic.
        const group = this.byId.get(id);
        if (group && filterMatches(group.dispatch, topic)) {
          for (const e of group.entries) if (this.takes(e, packet.retain, id)) out.push(e);
        } else {
          stale = true;
        }
      }
      // Only stale identifiers (messages queued while offline come before our SUBSCRIBEs): the topic decides.
      if (out.length > 0 || !stale) return out;
    }
    for (const e of this.trie.match(topic)) if (this.takes(e, packet.retain, undefined)) out.push(e);
    return out;
  }

  private takes(e: SubscriptionEntry, retain: boolean, id: number | undefined): boolean {
    const group = e.group;
    // With retain-as-published, a live message keeps its flag too: retained ones can no longer be told apart.
    if (!retain || !group.requested || group.requested.rap) return true;
    if (id !== undefined) return e.retainedKey === id;
    if (this.identifiers) return true; // a stale identifier: no way to tell which request this answers
    return e.retainedKey !== undefined && (e.retainedKey === group.activeKey || e.retainedKey === group.pendingKey);
  }

  private wantsRetained(e: SubscriptionEntry, kind: RequestKind): boolean {
    const rh = this.v5 ? (e.options.rh ?? 0) : 0;
    if (rh === 2) return false;
    if (kind === 'connect') return rh === 0 || !this.sessionPresent;
    return !e.sent;
  }

  private assignId(group: FilterGroup): void {
    const id = this.nextId;
    this.nextId = this.nextId >= MAX_SUBSCRIPTION_ID ? 1 : this.nextId + 1;
    const previous = this.byId.get(id);
    if (previous) previous.ids.splice(previous.ids.indexOf(id), 1);
    group.id = id;
    group.ids.push(id);
    this.byId.set(id, group);
    while (group.ids.length > IDS_KEPT) this.byId.delete(group.ids.shift() as number);
  }

  private notices(group: FilterGroup, merged: SubscribeOptions): void {
    const say = (e: SubscriptionEntry, code: SubscriptionNotice['code'], other: string): void => {
      if (e.noticed.has(code) || !e.onNotice) return;
      e.noticed.add(code);
      e.onNotice({ code, other });
    };
    const others = (e: SubscriptionEntry, wrong: (o: SubscriptionEntry) => boolean): string | undefined => [...group.entries].find((o) => o !== e && wrong(o))?.filter;
    for (const e of group.entries) {
      if (e.options.nl && !merged.nl && others(e, (o) => !o.options.nl)) say(e, 'NO_LOCAL_LOST', group.filter);
      if (!e.options.rap && merged.rap && others(e, (o) => !!o.options.rap)) say(e, 'RETAIN_FLAG_AS_PUBLISHED', group.filter);
    }
    if (this.identifiers) return;
    // Without identifiers a copy cannot be told apart: a shared subscription overlapping another filter of this
    // connection gets what the broker sent for the other one too (and Mosquitto sends one copy for both).
    for (const other of this.groups.values()) {
      if (other === group || !(group.shared || other.shared) || !filtersOverlap(group.dispatch, other.dispatch)) continue;
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

function sameOptions(a: SubscribeOptions, b: SubscribeOptions): boolean {
  return a.qos >= b.qos && !!a.nl === !!b.nl && !!a.rap === !!b.rap;
}
