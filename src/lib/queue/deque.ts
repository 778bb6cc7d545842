// A FIFO over an array with a moving head. Array.prototype.shift() copies the whole array on large arrays, so a
// queue of a million messages drained with it takes minutes; here taking the head is O(1) and the slots it leaves
// behind are given back in one copy once they are the larger part of the array.

/** Consumed slots tolerated at the front before the array is copied down (below this, copying costs more than it saves). */
export const DEQUE_COMPACT_MIN = 1024;

export class Deque<T> {
  private items: Array<T | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** Consumed slots still held at the front of the array (for tests: the head moves instead of the array). */
  get slack(): number {
    return this.head;
  }

  /** Slots the array holds, consumed or not (for tests: slack is given back). */
  get capacity(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The item at `index` from the front, or undefined. */
  at(index: number): T | undefined {
    return index >= 0 && index < this.length ? this.items[this.head + index] : undefined;
  }

  peek(): T | undefined {
    return this.at(0);
  }

  last(): T | undefined {
    return this.at(this.length - 1);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined; // let the GC have it
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > DEQUE_COMPACT_MIN && this.head * 2 > this.items.length) {
      // Copying only once the consumed part is the larger one keeps each item copied O(1) times overall.
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Inserts so that it is at `index` from the front; O(distance from the back), for the rare out-of-order item. */
  insert(index: number, item: T): void {
    const i = Math.max(0, Math.min(index, this.length));
    if (i === this.length) this.items.push(item);
    else this.items.splice(this.head + i, 0, item);
  }
}
