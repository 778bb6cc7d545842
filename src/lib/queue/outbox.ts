// The bounded queue of messages waiting for the broker: limited by count and bytes, with an overflow policy.

export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'reject';

export interface OutboxLimits {
  maxCount: number;
  maxBytes: number;
  policy: OverflowPolicy;
}

export interface Queued {
  seq: number;
  bytes: number;
}

export interface PushResult<T> {
  /** False when the new item itself was not queued (drop-newest, reject, or larger than maxBytes). */
  accepted: boolean;
  /** Items removed to make room (drop-oldest). */
  evicted: T[];
}

/** FIFO ordered by seq, O(1) amortised at both ends; items given back after a lost connection go first, in order. */
export class Outbox<T extends Queued> {
  private items: Array<T | undefined> = [];
  private head = 0;
  private retry: T[] = [];
  private totalBytes = 0;

  constructor(private readonly limits: OutboxLimits) {}

  get size(): number {
    return this.items.length - this.head + this.retry.length;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  push(item: T): PushResult<T> {
    const evicted: T[] = [];
    if (item.bytes > this.limits.maxBytes) return { accepted: false, evicted };
    while (this.size >= this.limits.maxCount || this.totalBytes + item.bytes > this.limits.maxBytes) {
      if (this.limits.policy !== 'drop-oldest') return { accepted: false, evicted };
      const old = this.shift();
      if (!old) break;
      evicted.push(old);
    }
    this.items.push(item);
    this.totalBytes += item.bytes;
    return { accepted: true, evicted };
  }

  /** Gives back an item that was taken but not delivered; it is sent again before anything newer. */
  giveBack(item: T): void {
    // Usually appended in ascending order; keep the list sorted whatever order they come back in.
    let i = this.retry.length;
    while (i > 0 && this.retry[i - 1].seq > item.seq) i--;
    this.retry.splice(i, 0, item);
    this.totalBytes += item.bytes;
  }

  /** The item shift() would return, left in place. */
  peek(): T | undefined {
    return this.retry.length > 0 ? this.retry[0] : this.items[this.head];
  }

  shift(): T | undefined {
    let item: T | undefined;
    if (this.retry.length > 0) item = this.retry.shift();
    else if (this.head < this.items.length) {
      item = this.items[this.head];
      this.items[this.head] = undefined; // let the GC have it
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
    }
    if (item) this.totalBytes -= item.bytes;
    return item;
  }

  /** Removes and returns everything, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item; item = this.shift()) out.push(item);
    return out;
  }
}
