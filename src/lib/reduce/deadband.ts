// Report by exception: a measurement passes only when it moved by at least the deadband since the value last
// sent (absolute, or percent of that value), or when the heartbeat says it has been silent too long.
import type { Reading, ReadingValue } from '../formats/reading';
import type { Clock, TimerHandle } from './clock';
import { groupKey } from './group-key';
import { LruMap } from './lru';

export interface DeadbandOptions {
  mode: 'absolute' | 'percent';
  /** Band width: a value in the measurement's unit, or a percentage. 0 means "any change". */
  band: number;
  /** Re-send the latest value after this much silence (0 or absent: never). */
  heartbeatMs?: number;
  /** Measurements tracked at most; beyond this the least recently seen is forgotten (its next value passes). */
  maxTracked?: number;
  /** Called once, the first time a measurement is forgotten for lack of room. */
  onLimit?: (limit: number) => void;
}

export const DEFAULT_MAX_TRACKED = 10000;

/**
 * Slack for the float error in `next - last`: 21.4 - 21.3 is 0.0999999999999979, which must pass a band of 0.1.
 * Values parsed from decimal text are off by at most half a unit in the last place (about 1e-16 of the value), so
 * 1e-12 of the largest magnitude involved covers that thousands of times over. A looser 1e-9 would be felt: an energy
 * counter at 1.2e9 Wh would see a band of 10 Wh shrink to under 9.
 */
const RELATIVE_TOLERANCE = 1e-12;

interface Tracked {
  group: Pick<Reading, 'device' | 'sensor' | 'metadata'>;
  name: string;
  sent: ReadingValue;
  sentAt: number;
  latest: ReadingValue;
  latestAt: number;
  /** When a reading last came (clock time): heartbeats stop once the measurement has been silent two periods. */
  offeredAt: number;
  unit?: string;
  /** The output topic its heartbeats go to: kept with the measurement, so it is forgotten only with it. */
  topic?: string;
  timer?: TimerHandle;
}

export function exceedsBand(last: ReadingValue, next: ReadingValue, o: Pick<DeadbandOptions, 'mode' | 'band'>): boolean {
  if (typeof last !== typeof next) return true;
  if (typeof last === 'boolean' || typeof next === 'boolean') return last !== next;
  const diff = Math.abs(next - last);
  if (diff === 0) return false;
  if (o.band <= 0) return true;
  if (o.mode === 'percent' && last === 0) return true;
  // Percent becomes a band in the measurement's unit, so both modes share one tolerance.
  const band = o.mode === 'percent' ? (o.band / 100) * Math.abs(last) : o.band;
  // Near Number.MAX_VALUE that product can overflow; the ratio cannot, and float slack is irrelevant at that size.
  if (!Number.isFinite(band)) return (diff / Math.abs(last)) * 100 >= o.band;
  return diff >= band - RELATIVE_TOLERANCE * Math.max(band, Math.abs(last), Math.abs(next));
}

export class Deadband {
  private readonly tracked: LruMap<string, Tracked>;

  /**
   * `heartbeat` receives a one-measurement reading when a measurement has been silent for heartbeatMs, with the topic
   * last offered with it.
   */
  constructor(
    private readonly o: DeadbandOptions,
    private readonly clock: Clock,
    private readonly heartbeat: (r: Reading, topic: string | undefined) => void,
  ) {
    this.tracked = new LruMap<string, Tracked>(
      o.maxTracked ?? DEFAULT_MAX_TRACKED,
      (_key, old) => {
        if (old.timer) this.clock.clearTimeout(old.timer);
      },
      (limit) => o.onLimit?.(limit),
    );
  }

  /** The part of the reading that passes the deadband, or undefined when nothing does. */
  offer(r: Reading, topic?: string): Reading | undefined {
    const now = this.clock.now();
    const passed = new Map<string, ReadingValue>();
    const g = groupKey(r);
    for (const [name, value] of r.values) {
      const key = `${g}\u0000${name}`;
      const t = this.tracked.get(key);
      const unit = r.units.get(name);
      if (!t) {
        const fresh: Tracked = { group: { device: r.device, sensor: r.sensor, metadata: r.metadata }, name, sent: value, sentAt: now, latest: value, latestAt: r.timestamp, offeredAt: now };
        if (unit !== undefined) fresh.unit = unit;
        if (topic !== undefined) fresh.topic = topic;
        this.track(key, fresh);
        passed.set(name, value);
        continue;
      }
      t.latest = value;
      t.latestAt = r.timestamp;
      t.offeredAt = now;
      t.group = { device: r.device, sensor: r.sensor, metadata: r.metadata };
      if (unit !== undefined) t.unit = unit;
      if (topic !== undefined) t.topic = topic;
      const silentTooLong = !!this.o.heartbeatMs && now - t.sentAt >= this.o.heartbeatMs;
      if (exceedsBand(t.sent, value, this.o) || silentTooLong) {
        t.sent = value;
        t.sentAt = now;
        this.schedule(key, t);
        passed.set(name, value);
      }
    }
    if (passed.size === 0) return undefined;
    const units = new Map<string, string>();
    for (const name of passed.keys()) {
      const u = r.units.get(name);
      if (u !== undefined) units.set(name, u);
    }
    return { ...r, values: passed, units };
  }

  private track(key: string, t: Tracked): void {
    this.tracked.set(key, t);
    this.schedule(key, t);
  }

  private schedule(key: string, t: Tracked): void {
    if (t.timer) this.clock.clearTimeout(t.timer);
    t.timer = undefined;
    if (!this.o.heartbeatMs || this.o.heartbeatMs <= 0) return;
    t.timer = this.clock.setTimeout(() => this.beat(key), this.o.heartbeatMs);
  }

  private beat(key: string): void {
    // A heartbeat is not a sign of use: only readings keep a measurement from being forgotten.
    const t = this.tracked.peek(key);
    if (!t) return;
    const heartbeatMs = this.o.heartbeatMs ?? 0;
    if (this.clock.now() - t.offeredAt >= 2 * heartbeatMs) {
      // No reading for two periods (one of slack for a sensor that reads about as often as the heartbeat): the sensor
      // may be gone, and repeating its last value would hide that. Its next reading passes at once (silent too long)
      // and starts the heartbeats again.
      t.timer = undefined;
      return;
    }
    t.sent = t.latest;
    t.sentAt = this.clock.now();
    this.schedule(key, t);
    const r: Reading = { values: new Map([[t.name, t.latest]]), units: t.unit === undefined ? new Map() : new Map([[t.name, t.unit]]), timestamp: t.latestAt, metadata: t.group.metadata };
    if (t.group.device !== undefined) r.device = t.group.device;
    if (t.group.sensor !== undefined) r.sensor = t.group.sensor;
    this.heartbeat(r, t.topic);
  }

  close(): void {
    for (const t of this.tracked.values()) if (t.timer) this.clock.clearTimeout(t.timer);
    this.tracked.clear();
  }
}
