// A simulated GPIO controller with sysfs-like behaviour: export/unexport, direction, active low, edges,
// debounce (on the injectable clock), EBUSY and EINVAL. Tests and the simulated mode drive its inputs.
import { describeFault } from './describe-fault';
import { realTimers, type TimerHandle, type Timers } from './timers';
import type { Bit, GpioLine, GpioOptions, WatchCallback } from './types';

function errno(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

interface Watcher {
  activeLow: boolean;
  edge: GpioOptions['edge'];
  debounceMs: number;
  timer?: TimerHandle;
  callbacks: WatchCallback[];
}

export class SimGpioChip {
  private readonly levels = new Map<number, Bit>();
  private readonly directions = new Map<number, 'in' | 'out'>();
  private readonly exported = new Set<number>();
  private readonly busy = new Set<number>();
  private readonly watchers = new Map<number, Set<Watcher>>();
  private readonly probes: Array<(pin: number, level: Bit) => void> = [];
  private linesOpen = 0;

  constructor(
    private readonly timers: Timers = realTimers,
    /** BCM 0..27 are the header's GPIOs. */
    readonly pinCount = 28,
  ) {}

  /** A pin claimed by a kernel driver: opening it fails with EBUSY. */
  markBusy(pin: number): void {
    this.busy.add(pin);
  }

  /** The kernel driver lets the pin go again. */
  markFree(pin: number): void {
    this.busy.delete(pin);
  }

  /** The physical level on the pin. */
  level(pin: number): Bit {
    return this.levels.get(pin) ?? 0;
  }

  direction(pin: number): 'in' | 'out' | undefined {
    return this.directions.get(pin);
  }

  isExported(pin: number): boolean {
    return this.exported.has(pin);
  }

  /** Number of lines with watch callbacks still registered on `pin`. */
  watcherCount(pin: number): number {
    return [...(this.watchers.get(pin) ?? [])].filter((w) => w.callbacks.length > 0).length;
  }

  /** Lines opened and not yet released (a leak check: a closed node must leave none). */
  openLines(): number {
    return this.linesOpen;
  }

  /** A logic analyser on the pins: sees every physical level change without touching direction or export. */
  probe(cb: (pin: number, level: Bit) => void): void {
    this.probes.push(cb);
  }

  /** Something outside drives an input pin (a button, a sensor's output). */
  drive(pin: number, level: Bit): void {
    this.setPhysical(pin, level);
  }

  open(pin: number, opts: GpioOptions): GpioLine {
    const ctx = { kind: 'gpio', pin } as const;
    if (!Number.isInteger(pin) || pin < 0 || pin >= this.pinCount) throw describeFault(errno('EINVAL', 'invalid argument'), ctx);
    if (this.busy.has(pin)) throw describeFault(errno('EBUSY', 'device or resource busy'), ctx);
    this.exported.add(pin);
    const activeLow = opts.activeLow ?? false;
    const wantOut = opts.direction !== 'in';
    // As onoff does: without reconfigureDirection the direction is written only when it differs, and the kernel
    // keeps a pin's direction across unexport/export, so an output keeps its level across redeploys.
    const keep = opts.reconfigureDirection === false && this.directions.get(pin) === (wantOut ? 'out' : 'in');
    if (!keep) {
      this.directions.set(pin, wantOut ? 'out' : 'in');
      // Like the kernel's sysfs: "high" sets the raw level 1, "out" and "low" the raw level 0.
      if (wantOut) this.setPhysical(pin, opts.direction === 'high' ? 1 : 0);
    }
    // An input nothing has driven yet idles at its inactive level, as a button wired with a pull-up (active low) or
    // pull-down does: a simulated flow does not see a press at every deploy.
    if (!wantOut && !this.levels.has(pin)) this.levels.set(pin, activeLow ? 1 : 0);
    const watcher: Watcher = { activeLow, edge: opts.edge ?? 'none', debounceMs: opts.debounceMs ?? 0, callbacks: [] };
    let released = false;
    this.linesOpen++;
    const toLogical = (physical: Bit): Bit => (activeLow ? ((physical ^ 1) as Bit) : physical);
    return {
      pin,
      read: async () => {
        if (released) throw describeFault(errno('EINVAL', 'line released'), ctx);
        return toLogical(this.level(pin));
      },
      write: async (value) => {
        if (released) throw describeFault(errno('EINVAL', 'line released'), ctx);
        if (this.directions.get(pin) !== 'out') throw describeFault(errno('EPERM', 'operation not permitted'), ctx);
        this.setPhysical(pin, toLogical(value));
      },
      watch: (cb) => {
        watcher.callbacks.push(cb);
        let set = this.watchers.get(pin);
        if (!set) this.watchers.set(pin, (set = new Set()));
        set.add(watcher);
      },
      release: () => {
        if (released) return;
        released = true;
        this.linesOpen--;
        watcher.callbacks = [];
        if (watcher.timer !== undefined) this.timers.clearTimeout(watcher.timer);
        this.watchers.get(pin)?.delete(watcher);
        this.exported.delete(pin);
      },
    };
  }

  private setPhysical(pin: number, level: Bit): void {
    const before = this.level(pin);
    this.levels.set(pin, level); // recorded even when unchanged: a driven pin no longer idles (see open)
    if (before === level) return;
    for (const p of this.probes) p(pin, level);
    for (const w of this.watchers.get(pin) ?? []) {
      if (w.edge === 'none' || w.callbacks.length === 0) continue;
      if (w.debounceMs > 0) {
        // As onoff does: restart the timer on every change, then report the level that has settled.
        if (w.timer !== undefined) this.timers.clearTimeout(w.timer);
        w.timer = this.timers.setTimeout(() => {
          w.timer = undefined;
          this.notify(pin, w);
        }, w.debounceMs);
      } else {
        this.notify(pin, w);
      }
    }
  }

  private notify(pin: number, w: Watcher): void {
    const physical = this.level(pin);
    const value: Bit = w.activeLow ? ((physical ^ 1) as Bit) : physical;
    const wanted = w.edge === 'both' || (w.edge === 'rising' && value === 1) || (w.edge === 'falling' && value === 0);
    if (!wanted) return;
    for (const cb of w.callbacks.slice()) cb(null, value);
  }
}
