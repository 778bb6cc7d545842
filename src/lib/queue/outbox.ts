// The bounded queue of messages waiting for the broker: limited by count and bytes, with an overflow policy.
import { Deque } from './deque';

export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'reject';

export interface OutboxLimits {
  maxCount: number;
  maxBytes: number;
  policy: OverflowPolicy;
}

export interface Queued {
  seq: number;
  bytes: number;
  /** Never dropped for room (a Sparkplug birth: the messages waiting for it could never go). */
  pinned?: boolean;
}

/**
 * Accepted messages kept outside the outbox that share its limits (Sparkplug messages waiting for a birth): counted
 * when a new message asks for room, and under drop-oldest given up first (they are the oldest).
 */
export interface OutsideItems<T> {
  readonly size: number;
  readonly bytes: number;
  takeOldest(): T | undefined;
}

export interface PushResult<T> {
  /** False when the new item itself was not queued (drop-newest, reject, or larger than maxBytes). */
  accepted: boolean;
  /** Items removed to make room (drop-oldest). */
  evicted: T[];
}

/** FIFO ordered by seq, O(1) amortised at both ends; items given back after a lost connection go first, in order. */
export class Outbox<T extends Queued> {
  private readonly items = new Deque<T>();
  // A deque too: a restart can give back millions of spooled messages at once, and they leave from the front.
  private readonly retry = new Deque<T>();
  private totalBytes = 0;
  /** The pinned items inside: a set, so that one can be unpinned wherever it is. */
  private readonly pinnedItems = new Set<T>();
  private pinnedBytes = 0;

  constructor(
    private readonly limits: OutboxLimits,
    private readonly outside?: OutsideItems<T>,
  ) {}

  get size(): number {
    return this.items.length + this.retry.length;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  /** How many pinned items are queued. */
  get pinned(): number {
    return this.pinnedItems.size;
  }

  /** Unpins an item, queued or not (one queued stops counting as pinned at once). */
  unpin(item: T): void {
    if (this.pinnedItems.delete(item)) this.pinnedBytes -= item.bytes;
    item.pinned = false;
  }

  /** `force`: queued whatever the limits (a Sparkplug birth, which what waits for it cannot do without). */
  push(item: T, force = false): PushResult<T> {
    const evicted: T[] = [];
    if (!force) {
      if (item.bytes > this.limits.maxBytes) return { accepted: false, evicted };
      // What pinned items leave cannot be made room in: refused before anything is evicted for nothing.
      if (this.pinnedItems.size >= this.limits.maxCount || this.pinnedBytes + item.bytes > this.limits.maxBytes) return { accepted: false, evicted };
      // Pinned items met on the way are set aside and put back: they stay, whatever room they take.
      const pinned: T[] = [];
      let pinnedBytes = 0;
      while (this.limits.policy === 'drop-oldest' && this.full(item, pinned.length, pinnedBytes)) {
        const old = this.outside?.takeOldest() ?? this.shift();
        if (!old) break;
        if (!old.pinned) evicted.push(old);
        else {
          pinned.push(old);
          pinnedBytes += old.bytes;
        }
      }
      for (const p of pinned) this.giveBack(p);
      if (this.full(item)) return { accepted: false, evicted };
    }
    this.items.push(item);
    this.count(item, 1);
    return { accepted: true, evicted };
  }

  private count(item: T, sign: 1 | -1): void {
    this.totalBytes += sign * item.bytes;
    if (!item.pinned) return;
    if (sign > 0) this.pinnedItems.add(item);
    else this.pinnedItems.delete(item);
    this.pinnedBytes += sign * item.bytes;
  }

  /** Whether `item` finds no room, counting what waits outside and `count`/`bytes` more. */
  private full(item: T, count = 0, bytes = 0): boolean {
    const out = this.outside;
    return this.size + (out?.size ?? 0) + count >= this.limits.maxCount || this.totalBytes + (out?.bytes ?? 0) + bytes + item.bytes > this.limits.maxBytes;
  }

  /** Gives back an item that was taken but not delivered; it is sent again before anything newer. */
  giveBack(item: T): void {
    // Usually given back in ascending order (appended at once); keep the list sorted whatever order they come in.
    let i = this.retry.length;
    while (i > 0 && (this.retry.at(i - 1) as T).seq > item.seq) i--;
    this.retry.insert(i, item);
    this.count(item, 1);
  }

  /** Gives back many at once (the spool at start), in seq order whatever order they come in. */
  giveBackAll(items: readonly T[]): void {
    let sorted = true;
    for (let i = 1; i < items.length && sorted; i++) sorted = items[i - 1].seq < items[i].seq;
    const ordered = sorted ? items : [...items].sort((a, b) => a.seq - b.seq);
    for (const item of ordered) this.giveBack(item);
  }

  /** The item shift() would return, left in place. */
  peek(): T | undefined {
    return this.retry.length > 0 ? this.retry.peek() : this.items.peek();
  }

  shift(): T | undefined {
    const item = this.retry.length > 0 ? this.retry.shift() : this.items.shift();
    if (item) this.count(item, -1);
    return item;
  }

  /** Removes and returns the items `pred` picks, keeping the rest in order. */
  removeWhere(pred: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (const queue of [this.retry, this.items]) {
      for (let n = queue.length; n > 0; n--) {
        const item = queue.shift() as T;
        if (!pred(item)) {
          queue.push(item);
          continue;
        }
        removed.push(item);
        this.count(item, -1);
      }
    }
    return removed;
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item; item = this.shift()) out.push(item);
    return out;
  }
}
