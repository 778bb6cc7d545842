// Sparkplug messages waiting for a birth on the connection (see SparkplugWire), by what they wait for: the edge node
// ("group/edge") or a device of it ("group/edge/device"), each list in seq order; and those a birth has freed, to be
// sent before the outbox (the rest of the births, queued behind them, must not pass them). Outside the outbox, so
// they never keep a birth out of it, but counted against its limits (OutsideItems).
import { Deque } from '../queue/deque';
import type { OutsideItems, Queued } from '../queue/outbox';

export interface Held extends Queued {
  /** When it began to wait (performance.now()). */
  heldAt?: number;
}

export class BirthHolds<I extends Held> implements OutsideItems<I> {
  private readonly lists = new Map<string, I[]>();
  /** Lists given an item older than their last: sorted when next read (sorting on each add was quadratic). */
  private readonly unsorted = new Set<I[]>();
  private readonly freed = new Deque<I>();
  private count = 0;
  private byteCount = 0;

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return this.byteCount;
  }

  /** Holds `item`; returns whether this key had nothing waiting before. */
  add(key: string, item: I, now: number): boolean {
    item.heldAt = now;
    this.count++;
    this.byteCount += item.bytes;
    const list = this.lists.get(key);
    if (!list) {
      this.lists.set(key, [item]);
      return true;
    }
    // Usually the newest; one given back after a second lost connection may be older than what waits already.
    if (list[list.length - 1].seq > item.seq) this.unsorted.add(list);
    list.push(item);
    return false;
  }

  /** A birth came: what waited for it is freed, in order; returns how many. */
  free(key: string): number {
    const list = this.sorted(this.lists.get(key) ?? []);
    this.lists.delete(key);
    for (const item of list) this.freed.push(item);
    return list.length;
  }

  /** The next freed item, taken out. */
  nextFreed(): I | undefined {
    const item = this.freed.shift();
    if (item) this.forget(item);
    return item;
  }

  peekFreed(): I | undefined {
    return this.freed.peek();
  }

  /** The waiting items `pred` picks, in seq order (freed ones are about to go: not these). */
  takeWhere(pred: (item: I) => boolean): I[] {
    const out: I[] = [];
    for (const [key, list] of this.lists) {
      const keep: I[] = [];
      for (const item of this.sorted(list)) {
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

  /** Everything, waiting or freed, in seq order (a close). */
  takeAll(): I[] {
    const all = this.takeWhere(() => true);
    for (let item = this.nextFreed(); item; item = this.nextFreed()) all.push(item);
    return all.sort((a, b) => a.seq - b.seq);
  }

  /** The oldest item, freed ones first, taken out (to make room under drop-oldest). */
  takeOldest(): I | undefined {
    const freed = this.nextFreed();
    if (freed) return freed;
    let oldestKey: string | undefined;
    let oldestSeq = Infinity;
    for (const [key, list] of this.lists) {
      const first = this.sorted(list)[0].seq;
      if (first < oldestSeq) {
        oldestSeq = first;
        oldestKey = key;
      }
    }
    if (oldestKey === undefined) return undefined;
    const list = this.lists.get(oldestKey) as I[];
    const oldest = list.shift() as I;
    if (list.length === 0) this.lists.delete(oldestKey);
    this.forget(oldest);
    return oldest;
  }

  /** Every wait starts again (a new connection: the births it waits for can only come on it). */
  restartWaits(now: number): void {
    for (const list of this.lists.values()) for (const item of list) item.heldAt = now;
  }

  /** When the longest wait began, or undefined with nothing held. */
  earliest(): number | undefined {
    let first: number | undefined;
    for (const list of this.lists.values()) {
      for (const item of list) if (item.heldAt !== undefined && (first === undefined || item.heldAt < first)) first = item.heldAt;
    }
    return first;
  }

  private sorted(list: I[]): I[] {
    if (this.unsorted.delete(list)) list.sort((a, b) => a.seq - b.seq);
    return list;
  }

  private forget(item: I): void {
    this.count--;
    this.byteCount -= item.bytes;
  }
}
