// GpioLine on real hardware through onoff (sysfs), with BCM numbers translated to the kernel's numbering.
// One onoff object per kernel line, shared by every node of this process that opens the pin (pin-claims.ts);
// active low, edge selection and debounce are done per line in the pack, the same way as in the simulation.
import { describeFault } from './describe-fault';
import { EdgeDebouncer } from './edge-debounce';
import { loadOptional, type RequireFn } from './optional-module';
import { PinClaims, roleOf } from './pin-claims';
import type { Timers } from './timers';
import type { Bit, Edge, GpioLine, GpioOptions, WatchCallback } from './types';

/** What this pack uses of onoff 6 (its own typings are not imported so the pack compiles without it). */
export interface OnoffGpio {
  read(): Promise<Bit>;
  readSync(): Bit;
  write(value: Bit): Promise<void>;
  watch(cb: WatchCallback): void;
  unwatch(cb: WatchCallback): void;
  setEdge(edge: Edge): void;
  unexport(): void;
}
export interface OnoffModule {
  Gpio: new (
    gpio: number,
    direction: 'in' | 'out' | 'high' | 'low',
    /** undefined: onoff leaves the kernel's edge file alone. */
    edge: Edge | undefined,
    options: { debounceTimeout?: number; activeLow?: boolean; reconfigureDirection?: boolean },
  ) => OnoffGpio;
}

function isOnoff(m: unknown): m is OnoffModule {
  return !!m && typeof (m as { Gpio?: unknown }).Gpio === 'function';
}

export function loadOnoff(load?: RequireFn): OnoffModule {
  return loadOptional('onoff', 'GPIO', isOnoff, load);
}

interface SharedPin {
  gpio: OnoffGpio;
  /** The kernel reports both edges on it (set by this pack for the first line that watches). */
  edgeBoth: boolean;
}

export interface OnoffPins {
  /** Opens `pin` (BCM) as kernel line `line` (BCM + the SoC gpiochip base). */
  open(pin: number, line: number, opts: GpioOptions): GpioLine;
}

const flip = (v: Bit): Bit => (v ^ 1) as Bit;

export function createOnoffPins(timers: Timers, load?: RequireFn): OnoffPins {
  const claims = new PinClaims<SharedPin>();

  function claim(pin: number, line: number, opts: GpioOptions, watches: boolean): SharedPin {
    const { Gpio } = loadOnoff(load);
    const { shared } = claims.take(line, pin, roleOf(opts.direction), () => ({
      // The kernel's active_low is one setting per pin and the lines sharing it may differ: it stays 0 and each
      // line inverts for itself. Edges: the debounce must see every change, so 'both' and the pack selects; no
      // edge for a plain read, where writing 'none' would cut the interrupts of a line watching the same pin.
      gpio: new Gpio(line, opts.direction, watches ? 'both' : undefined, {
        debounceTimeout: 0,
        activeLow: false,
        reconfigureDirection: opts.reconfigureDirection ?? true,
      }),
      edgeBoth: watches,
    }));
    if (watches && !shared.edgeBoth) {
      try {
        shared.gpio.setEdge('both');
      } catch (err) {
        if (claims.drop(line)) shared.gpio.unexport();
        throw err;
      }
      shared.edgeBoth = true;
    }
    return shared;
  }

  return {
    open(pin, line, opts) {
      const ctx = { kind: 'gpio', pin, line } as const;
      const edge = opts.direction === 'in' ? (opts.edge ?? 'none') : 'none';
      let shared: SharedPin;
      try {
        shared = claim(pin, line, opts, edge !== 'none');
      } catch (err) {
        throw describeFault(err, ctx);
      }
      const { gpio } = shared;
      const activeLow = opts.activeLow ?? false;
      const logical = (raw: Bit): Bit => (activeLow ? flip(raw) : raw);
      const callbacks: WatchCallback[] = [];
      const tell = (err: Error | null, value: Bit): void => {
        for (const cb of callbacks.slice()) cb(err, value);
      };
      let debouncer: EdgeDebouncer | undefined;
      let listener: WatchCallback | undefined;
      let released = false;
      return {
        pin,
        read: () => gpio.read().then(logical, (err: unknown) => Promise.reject(describeFault(err, ctx))),
        write: (value) => gpio.write(logical(value)).catch((err: unknown) => Promise.reject(describeFault(err, ctx))),
        watch: (cb) => {
          if (released) return;
          callbacks.push(cb);
          if (listener || edge === 'none') return;
          const d = new EdgeDebouncer({
            edge,
            debounceMs: opts.debounceMs ?? 0,
            timers,
            sample: () => logical(gpio.readSync()),
            report: (value) => tell(null, value),
            fail: (err) => tell(describeFault(err, ctx), 0),
          });
          debouncer = d;
          listener = (err) => (err ? tell(describeFault(err, ctx), 0) : d.changed());
          gpio.watch(listener);
        },
        release: () => {
          if (released) return;
          released = true;
          debouncer?.stop();
          if (listener) gpio.unwatch(listener);
          callbacks.length = 0;
          // Another node still holding the pin keeps it exported (its value file open, its interrupts on).
          if (claims.drop(line)) gpio.unexport();
        },
      };
    },
  };
}
