// Window aggregation per device/sensor and measurement: mean, min, max, count, last over a time window
// (aligned to multiples of its length on the clock) or a window of N readings.
import type { MetadataValue, Reading, ReadingValue } from '../formats/reading';
import type { Clock, TimerHandle } from './clock';
import { groupKey } from './group-key';
import { LruMap } from './lru';

export const AGGREGATES = ['mean', 'min', 'max', 'count', 'last'] as const;
export type Aggregate = (typeof AGGREGATES)[number];

export interface WindowOptions {
  kind: 'time' | 'count';
  /** Milliseconds for a time window, readings for a count window. */
  size: number;
  functions: readonly Aggregate[];
  /** Open windows (device/sensor pairs) at most; beyond it the least recently fed one is sent early (partial). */
  maxGroups?: number;
  /** Called once, the first time a window is sent early for lack of room. */
  onLimit?: (limit: number) => void;
}

export const DEFAULT_MAX_GROUPS = 10000;

export interface WindowResult {
  reading: Reading;
  window: { start: number; end: number; readings: number; partial: boolean };
  /** The topic last offered with a reading of this window. */
  topic?: string;
}

interface Acc {
  count: number;
  mean: number;
  min: number;
  max: number;
  last: ReadingValue;
  unit?: string;
}

interface Group {
  device?: string;
  sensor?: string;
  metadata: ReadonlyMap<string, MetadataValue>;
  accs: Map<string, Acc>;
  readings: number;
  start: number;
  end: number;
  lastTimestamp: number;
  topic?: string;
  timer?: TimerHandle;
}

function add(acc: Acc | undefined, value: ReadingValue): Acc {
  const x = typeof value === 'boolean' ? (value ? 1 : 0) : value;
  if (!acc) return { count: 1, mean: x, min: x, max: x, last: value };
  acc.count++;
  // Running mean: a sum of large finite values could overflow to Infinity, and so could x - mean when the two have
  // opposite signs near Number.MAX_VALUE; dividing each term first cannot.
  acc.mean += x / acc.count - acc.mean / acc.count;
  if (x < acc.min) acc.min = x;
  if (x > acc.max) acc.max = x;
  acc.last = value;
  return acc;
}

export class WindowAggregator {
  private readonly groups: LruMap<string, Group>;
  /**
   * Per group, where the last time window it sent ended. A window is never opened before it: a timer that fires a
   * little early by the wall clock, or the wall clock stepped back (NTP), would otherwise reopen the window just sent
   * and send a second result with the same start and end. Bounded like the groups; an entry only matters until the
   * clock passes it.
   */
  private readonly closedUntil: LruMap<string, number>;

  constructor(
    private readonly o: WindowOptions,
    private readonly clock: Clock,
    private readonly emit: (result: WindowResult) => void,
  ) {
    const max = o.maxGroups ?? DEFAULT_MAX_GROUPS;
    this.groups = new LruMap<string, Group>(max, (key, old) => this.close(key, old, true), (limit) => o.onLimit?.(limit));
    this.closedUntil = new LruMap<string, number>(max);
  }

  /** `topic` travels with the window to its result, so it is forgotten only with the window. */
  offer(r: Reading, topic?: string): void {
    const key = groupKey(r);
    const now = this.clock.now();
    let g = this.groups.get(key);
    if (g && this.o.kind === 'time' && now >= g.end) {
      // The timer has not fired yet (busy event loop): close the old window before this reading.
      this.close(key, g, false);
      g = undefined;
    }
    if (!g) g = this.open(key, now);
    g.metadata = r.metadata;
    g.lastTimestamp = r.timestamp;
    if (topic !== undefined) g.topic = topic;
    g.readings++;
    for (const [name, value] of r.values) {
      const acc = add(g.accs.get(name), value);
      const unit = r.units.get(name);
      if (unit !== undefined) acc.unit = unit;
      g.accs.set(name, acc);
    }
    if (this.o.kind === 'count' && g.readings >= this.o.size) this.close(key, g, false);
  }

  private open(key: string, now: number): Group {
    let start = now;
    let end = now;
    if (this.o.kind === 'time') {
      start = Math.floor(now / this.o.size) * this.o.size;
      const sent = this.closedUntil.peek(key);
      if (sent !== undefined && sent > start) {
        // The aligned window (or part of it) was already sent: the reading counts in the rest of the window that
        // follows, never in a second result for a window already reported.
        start = sent;
      } else if (sent !== undefined) this.closedUntil.delete(key);
      end = Math.floor(start / this.o.size) * this.o.size + this.o.size;
    }
    const g: Group = { metadata: new Map(), accs: new Map(), readings: 0, start, end, lastTimestamp: now };
    const [device, sensor] = key.split('\u0000');
    if (device) g.device = device;
    if (sensor) g.sensor = sensor;
    if (this.o.kind === 'time') g.timer = this.clock.setTimeout(() => this.expire(key, g), g.end - now);
    this.groups.set(key, g);
    return g;
  }

  private expire(key: string, g: Group): void {
    if (this.groups.peek(key) !== g) return;
    const now = this.clock.now();
    if (now < g.end) {
      // Timers run on a monotonic clock and may fire before the wall clock reaches the end (early by a millisecond,
      // or the wall clock was stepped back): wait for the rest, or a reading arriving now would open a new window
      // that starts before this one ends.
      g.timer = this.clock.setTimeout(() => this.expire(key, g), g.end - now);
      return;
    }
    this.close(key, g, false);
  }

  private close(key: string, g: Group, partial: boolean): void {
    if (g.timer) this.clock.clearTimeout(g.timer);
    g.timer = undefined;
    this.groups.delete(key);
    const end = this.o.kind === 'time' && !partial ? g.end : Math.max(this.clock.now(), g.start);
    if (this.o.kind === 'time') this.closedUntil.set(key, end);
    if (g.readings === 0) return;
    const single = this.o.functions.length === 1;
    const values = new Map<string, ReadingValue>();
    const units = new Map<string, string>();
    for (const [name, acc] of g.accs) {
      for (const fn of this.o.functions) {
        const out = single ? name : `${name}_${fn}`;
        values.set(out, fn === 'count' ? acc.count : fn === 'last' ? acc.last : acc[fn]);
        if (fn !== 'count' && acc.unit !== undefined) units.set(out, acc.unit);
      }
    }
    const reading: Reading = { values, units, timestamp: this.o.kind === 'time' && !partial ? g.end : g.lastTimestamp, metadata: g.metadata };
    if (g.device !== undefined) reading.device = g.device;
    if (g.sensor !== undefined) reading.sensor = g.sensor;
    const result: WindowResult = { reading, window: { start: g.start, end, readings: g.readings, partial } };
    if (g.topic !== undefined) result.topic = g.topic;
    this.emit(result);
  }

  /** Emits every open window now (marked partial), e.g. when the node closes. */
  flush(): void {
    for (const [key, g] of [...this.groups.entries()]) this.close(key, g, true);
  }

  /** Drops open windows without emitting them. */
  discard(): void {
    for (const g of this.groups.values()) if (g.timer) this.clock.clearTimeout(g.timer);
    this.groups.clear();
    this.closedUntil.clear();
  }
}

/** `"mean,max"` → ['mean', 'max']; unknown names are ignored, nothing valid means mean. */
export function parseFunctions(v: string | undefined): Aggregate[] {
  const list = (v ?? '').split(',').map((s) => s.trim()).filter((s): s is Aggregate => (AGGREGATES as readonly string[]).includes(s));
  return list.length > 0 ? [...new Set(list)] : ['mean'];
}
