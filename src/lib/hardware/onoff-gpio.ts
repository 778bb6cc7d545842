// GpioLine on real hardware through onoff (sysfs), with BCM numbers translated to the kernel's numbering.
import { describeFault } from './describe-fault';
import { loadOptional, type RequireFn } from './optional-module';
import type { Bit, Edge, GpioLine, GpioOptions, WatchCallback } from './types';

/** What this pack uses of onoff 6 (its own typings are not imported so the pack compiles without it). */
interface OnoffGpio {
  read(): Promise<Bit>;
  write(value: Bit): Promise<void>;
  watch(cb: WatchCallback): void;
  unwatchAll(): void;
  unexport(): void;
}
interface OnoffModule {
  Gpio: new (
    gpio: number,
    direction: 'in' | 'out' | 'high' | 'low',
    edge: Edge,
    options: { debounceTimeout?: number; activeLow?: boolean; reconfigureDirection?: boolean },
  ) => OnoffGpio;
}

function isOnoff(m: unknown): m is OnoffModule {
  return !!m && typeof (m as { Gpio?: unknown }).Gpio === 'function';
}

export function loadOnoff(load?: RequireFn): OnoffModule {
  return loadOptional('onoff', 'GPIO', isOnoff, load);
}

/** Opens `pin` (BCM) as kernel line `line` (BCM + the SoC gpiochip base). */
export function openOnoffLine(pin: number, line: number, opts: GpioOptions, load?: RequireFn): GpioLine {
  const { Gpio } = loadOnoff(load);
  const ctx = { kind: 'gpio', pin, line } as const;
  let gpio: OnoffGpio;
  try {
    gpio = new Gpio(line, opts.direction, opts.direction === 'in' ? (opts.edge ?? 'none') : 'none', {
      debounceTimeout: opts.debounceMs ?? 0,
      activeLow: opts.activeLow ?? false,
      reconfigureDirection: opts.reconfigureDirection ?? true,
    });
  } catch (err) {
    throw describeFault(err, ctx);
  }
  let released = false;
  return {
    pin,
    read: () => gpio.read().catch((err: unknown) => Promise.reject(describeFault(err, ctx))),
    write: (value) => gpio.write(value).catch((err: unknown) => Promise.reject(describeFault(err, ctx))),
    watch: (cb) => gpio.watch((err, value) => cb(err ? describeFault(err, ctx) : err, value)),
    release: () => {
      if (released) return;
      released = true;
      gpio.unwatchAll();
      gpio.unexport();
    },
  };
}
