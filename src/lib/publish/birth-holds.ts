// Sparkplug messages waiting for a birth on the connection (see SparkplugWire), by what they wait for: an edge node
// ("group/edge") or a device ("group/edge/device"). Outside the outbox, so they never keep a birth out of it, but
// bounded by the same limits: the oldest go first under drop-oldest, the newest are refused otherwise.
import type { OutboxLimits, Queued } from '../queue/outbox';

export interface Held extends Queued {
  /** When it began to wait (performance.now()). */
  heldAt?: number;
}

export interface HoldResult<I> {
  /** False when the item itself was not held (no room under drop-newest or reject). */
  accepted: boolean;
  /** Older held items dropped to make room (drop-oldest). */
  evicted: I[];
  /** Whether this key had nothing waiting before. */
  firstOfKey: boolean;
}

export class BirthHolds<I extends Held> {
  private readonly lists = new Map<string, I[]>();
  private count = 0;
  private bytes = 0;

  constructor(private readonly limits: OutboxLimits) {}

  get size(): number {
    return this.count;
  }

  add(key: string, item: I, now: number): HoldResult<I> {
    const evicted: I[] = [];
    while (this.count >= this.limits.maxCount || this.bytes + item.bytes > this.limits.maxBytes) {
      const oldest = this.limits.policy === 'drop-oldest' ? this.takeOldest() : undefined;
      if (!oldest) return { accepted: false, evicted, firstOfKey: false };
      evicted.push(oldest);
    }
    item.heldAt = now;
    const list = this.lists.get(key);
    if (list) list.push(item);
    else this.lists.set(key, [item]);
    this.count++;
    this.bytes += item.bytes;
    return { accepted: true, evicted, firstOfKey: !list };
  }

  /** Everything waiting for this key, oldest first. */
  take(key: string): I[] {
    const list = this.lists.get(key) ?? [];
    this.lists.delete(key);
    for (const item of list) this.forget(item);
    return list;
  }

  /** The held items `pred` picks, in seq order. */
  takeWhere(pred: (item: I) => boolean): I[] {
    const out: I[] = [];
    for (const [key, list] of this.lists) {
      const keep: I[] = [];
      for (const item of list) {
        if (!pred(item)) keep.push(item);
        else {
          this.forget(item);
          out.push(item);
        }
      }
      if (keep.length > 0) this.lists.set(key, keep);
      else this.lists.delete(key);
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** When the longest wait began, or undefined with nothing held. */
  earliest(): number | undefined {
    let first: number | undefined;
    for (const list of this.lists.values()) {
      for (const item of list) if (item.heldAt !== undefined && (first === undefined || item.heldAt < first)) first = item.heldAt;
    }
    return first;
  }

  private takeOldest(): I | undefined {
    let oldestKey: string | undefined;
    let oldest: I | undefined;
    for (const [key, list] of this.lists) {
      if (!oldest || list[0].seq < oldest.seq) {
        oldest = list[0];
        oldestKey = key;
      }
    }
    if (!oldest || oldestKey === undefined) return undefined;
    const list = this.lists.get(oldestKey) as I[];
    list.shift();
    if (list.length === 0) this.lists.delete(oldestKey);
    this.forget(oldest);
    return oldest;
  }

  private forget(item: I): void {
    this.count--;
    this.bytes -= item.bytes;
  }
}
