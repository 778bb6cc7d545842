// A bounded map that forgets the least recently used entry. The reducers keep state per device, sensor and
// measurement; forgetting the oldest-inserted one instead would drop the busiest keys first once the limit is passed,
// and with more keys than the limit in rotation every key would be forgotten before it came back.

export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  private overflowed = false;

  /**
   * `evicted` runs for each entry forgotten to make room; `firstOverflow` once, the first time that happens, so the
   * owner can warn that its limit is too small without a warning per message.
   */
  constructor(
    readonly limit: number,
    private readonly evicted: (key: K, value: V) => void = () => undefined,
    private readonly firstOverflow: (limit: number) => void = () => undefined,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** The value, now marked as the most recently used. */
  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      // A Map iterates in insertion order: re-inserting moves the key to the end, so the first key is the LRU one.
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  /** The value without marking it used. */
  peek(key: K): V | undefined {
    return this.map.get(key);
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > Math.max(1, this.limit)) {
      const first = this.map.entries().next();
      if (first.done) break;
      const [oldKey, old] = first.value;
      this.map.delete(oldKey);
      if (!this.overflowed) {
        this.overflowed = true;
        this.firstOverflow(this.limit);
      }
      this.evicted(oldKey, old);
    }
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  clear(): void {
    this.map.clear();
  }
}
