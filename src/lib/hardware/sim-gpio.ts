// A simulated GPIO controller with sysfs-like behaviour: export/unexport, direction, active low, edges,
// debounce (on the injectable clock, shared with the real backend: edge-debounce.ts), pins shared between lines
// (pin-claims.ts), EBUSY and EINVAL. Tests and the simulated mode drive its inputs.
import { describeFault } from './describe-fault';
import { EdgeDebouncer } from './edge-debounce';
import { PinClaims, roleOf } from './pin-claims';
import { realTimers, type Timers } from './timers';
import type { Bit, GpioLine, GpioOptions, WatchCallback } from './types';

function errno(code: string, message: string): Error {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

interface Watcher {
  /** Created at the first watch(), primed with the level then (as on real hardware). */
  debouncer?: EdgeDebouncer;
  callbacks: WatchCallback[];
}

export class SimGpioChip {
  private readonly levels = new Map<number, Bit>();
  private readonly directions = new Map<number, 'in' | 'out'>();
  private readonly exported = new Set<number>();
  private readonly busy = new Set<number>();
  private readonly watchers = new Map<number, Set<Watcher>>();
  private readonly probes: Array<(pin: number, level: Bit) => void> = [];
  private readonly claims = new PinClaims<true>();
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
    const wantOut = opts.direction !== 'in';
    // A pin another line of this process holds is shared as it is: neither its direction nor its level changes.
    const { first } = this.claims.take(pin, pin, roleOf(opts.direction), () => true);
    this.exported.add(pin);
    const activeLow = opts.activeLow ?? false;
    // As onoff does: without reconfigureDirection the direction is written only when it differs, and the kernel
    // keeps a pin's direction across unexport/export, so an output keeps its level across redeploys.
    const keep = !first || (opts.reconfigureDirection === false && this.directions.get(pin) === (wantOut ? 'out' : 'in'));
    if (!keep) {
      this.directions.set(pin, wantOut ? 'out' : 'in');
      // Like the kernel's sysfs: "high" sets the raw level 1, "out" and "low" the raw level 0.
      if (wantOut) this.setPhysical(pin, opts.direction === 'high' ? 1 : 0);
    }
    // An input nothing has driven yet idles at its inactive level, as a button wired with a pull-up (active low) or
    // pull-down does: a simulated flow does not see a press at every deploy.
    if (!wantOut && !this.levels.has(pin)) this.levels.set(pin, activeLow ? 1 : 0);
    const watcher: Watcher = { callbacks: [] };
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
        if (released) return;
        watcher.callbacks.push(cb);
        const edge = opts.edge ?? 'none';
        if (!watcher.debouncer && edge !== 'none') {
          watcher.debouncer = new EdgeDebouncer({
            edge,
            debounceMs: opts.debounceMs ?? 0,
            timers: this.timers,
            sample: () => toLogical(this.level(pin)),
            report: (value) => {
              for (const f of watcher.callbacks.slice()) f(null, value);
            },
            fail: () => undefined, // the simulated level is always readable
          });
        }
        let set = this.watchers.get(pin);
        if (!set) this.watchers.set(pin, (set = new Set()));
        set.add(watcher);
      },
      release: () => {
        if (released) return;
        released = true;
        this.linesOpen--;
        watcher.callbacks = [];
        watcher.debouncer?.stop();
        this.watchers.get(pin)?.delete(watcher);
        if (this.claims.drop(pin)) this.exported.delete(pin);
      },
    };
  }

  private setPhysical(pin: number, level: Bit): void {
    const before = this.level(pin);
    this.levels.set(pin, level); // recorded even when unchanged: a driven pin no longer idles (see open)
    if (before === level) return;
    for (const p of this.probes) p(pin, level);
    for (const w of this.watchers.get(pin) ?? []) w.debouncer?.changed();
  }
}
