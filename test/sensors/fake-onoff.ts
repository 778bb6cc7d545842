// A stand-in for onoff 6.0.3 on a model of the kernel's sysfs GPIO, faithful where the pack depends on it (read
// from onoff.js): export on first use and unexport for every user; active_low written whenever the option is a
// boolean; the direction written unless reconfigureDirection is false and it already matches; the edge file
// written only when an edge is given for an input; an interrupt for each change the pin's edge setting selects;
// onoff's trailing debounce (lodash, on real timers, never cancelled by unwatch or unexport); and a value file
// that fails with EBADF once this object closed it, and with ENODEV once the pin was unexported by anyone.
import type { Bit, Edge } from '../../src/lib/hardware/types';

type Direction = 'in' | 'out' | 'high' | 'low';
type Listener = (err: Error | null | undefined, value: Bit) => void;

export interface OnoffOptions {
  debounceTimeout?: number;
  activeLow?: boolean;
  reconfigureDirection?: boolean;
}

interface KernelPin {
  direction: 'in' | 'out';
  edge: Edge;
  activeLow: boolean;
}

const errno = (code: string, what: string): Error => Object.assign(new Error(`${code}: ${what}`), { code });

export class FakeGpioKernel {
  readonly exported = new Map<number, KernelPin>();
  /** Every sysfs write, in order: "export 17", "gpio17/edge both", "unexport 17". */
  readonly writes: string[] = [];
  /** Constructor arguments of every onoff object made. */
  readonly constructed: Array<[number, Direction, Edge | undefined, OnoffOptions]> = [];
  readonly objects = new Set<FakeOnoffGpio>();
  private readonly raw = new Map<number, Bit>();
  /** Directions survive unexport, as in the kernel. */
  private readonly directions = new Map<number, 'in' | 'out'>();

  /** The physical level of `line`. */
  level(line: number): Bit {
    return this.raw.get(line) ?? 0;
  }

  /** Something outside drives the pin; the kernel raises an interrupt when its edge setting selects the change. */
  drive(line: number, level: Bit): void {
    const before = this.level(line);
    this.raw.set(line, level);
    const pin = this.exported.get(line);
    if (before === level || !pin || pin.direction !== 'in') return;
    const logical = (level ^ (pin.activeLow ? 1 : 0)) as Bit;
    const selected = pin.edge === 'both' || (pin.edge === 'rising' && logical === 1) || (pin.edge === 'falling' && logical === 0);
    if (!selected) return;
    for (const g of [...this.objects]) if (g.line === line) g.interrupt();
  }

  pin(line: number): KernelPin {
    const p = this.exported.get(line);
    if (!p) throw errno('ENOENT', `/sys/class/gpio/gpio${line} does not exist`);
    return p;
  }

  export(line: number): void {
    this.writes.push(`export ${line}`);
    this.exported.set(line, { direction: this.directions.get(line) ?? 'in', edge: 'none', activeLow: false });
  }

  unexport(line: number): void {
    this.writes.push(`unexport ${line}`);
    this.exported.delete(line);
  }

  setDirection(line: number, direction: Direction): void {
    this.writes.push(`gpio${line}/direction ${direction}`);
    const d = direction === 'in' ? 'in' : 'out';
    this.pin(line).direction = d;
    this.directions.set(line, d);
    // As sysfs: "high" drives the raw level 1, "out" and "low" the raw level 0.
    if (d === 'out') this.raw.set(line, direction === 'high' ? 1 : 0);
  }

  setRaw(line: number, level: Bit): void {
    this.raw.set(line, level);
  }

  /** The module as `require('onoff')` gives it. */
  module(): { Gpio: new (gpio: number, direction: Direction, edge?: Edge, options?: OnoffOptions) => FakeOnoffGpio } {
    const kernel = this;
    return {
      Gpio: class extends FakeOnoffGpio {
        constructor(gpio: number, direction: Direction, edge?: Edge, options: OnoffOptions = {}) {
          super(kernel, gpio, direction, edge, options);
        }
      },
    };
  }
}

export class FakeOnoffGpio {
  private open = true;
  private listeners: Listener[] = [];
  private risingEnabled = false;
  private fallingEnabled = false;
  private readonly debounceTimeout: number;
  private debounceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly kernel: FakeGpioKernel,
    readonly line: number,
    direction: Direction,
    edge: Edge | undefined,
    options: OnoffOptions,
  ) {
    kernel.constructed.push([line, direction, edge, { ...options }]);
    if (!kernel.exported.has(line)) kernel.export(line);
    if (typeof options.activeLow === 'boolean') this.setActiveLow(options.activeLow);
    const requested = direction === 'high' || direction === 'low' ? 'out' : direction;
    if ((options.reconfigureDirection ?? true) || this.direction() !== requested) kernel.setDirection(line, direction);
    if (edge && direction === 'in') this.setEdge(edge);
    this.debounceTimeout = options.debounceTimeout ?? 0;
    kernel.objects.add(this);
    this.readSync();
  }

  /** The epoll callback: only for an object still polling (its fd is removed from epoll when nobody watches). */
  interrupt(): void {
    if (!this.open || this.listeners.length === 0) return;
    if (this.debounceTimeout > 0) {
      this.readSync();
      // lodash.debounce, trailing: restarted on each interrupt, and nothing cancels it.
      if (this.debounceTimer !== undefined) clearTimeout(this.debounceTimer);
      this.debounceTimer = setTimeout(() => this.handle(), this.debounceTimeout);
    } else {
      this.handle();
    }
  }

  private handle(): void {
    const value = this.readSync();
    if ((value === 0 && this.fallingEnabled) || (value === 1 && this.risingEnabled)) {
      for (const cb of this.listeners.slice()) cb(null, value);
    }
  }

  readSync(): Bit {
    if (!this.open) throw errno('EBADF', 'bad file descriptor, read');
    const pin = this.kernel.exported.get(this.line);
    if (!pin) throw errno('ENODEV', 'no such device, read');
    return (this.kernel.level(this.line) ^ (pin.activeLow ? 1 : 0)) as Bit;
  }

  async read(): Promise<Bit> {
    return this.readSync();
  }

  async write(value: Bit): Promise<void> {
    if (!this.open) throw errno('EBADF', 'bad file descriptor, write');
    const pin = this.kernel.exported.get(this.line);
    if (!pin) throw errno('ENODEV', 'no such device, write');
    if (pin.direction !== 'out') throw errno('EPERM', 'operation not permitted, write');
    this.kernel.setRaw(this.line, (value ^ (pin.activeLow ? 1 : 0)) as Bit);
  }

  watch(cb: Listener): void {
    this.listeners.push(cb);
  }

  unwatch(cb?: Listener): void {
    this.listeners = cb ? this.listeners.filter((l) => l !== cb) : [];
  }

  unwatchAll(): void {
    this.unwatch();
  }

  direction(): 'in' | 'out' {
    return this.kernel.pin(this.line).direction;
  }

  setDirection(direction: Direction): void {
    this.kernel.setDirection(this.line, direction);
  }

  edge(): Edge {
    return this.kernel.pin(this.line).edge;
  }

  setEdge(edge: Edge): void {
    this.kernel.writes.push(`gpio${this.line}/edge ${edge}`);
    this.kernel.pin(this.line).edge = edge;
    this.risingEnabled = edge === 'both' || edge === 'rising';
    this.fallingEnabled = edge === 'both' || edge === 'falling';
  }

  setActiveLow(invert: boolean): void {
    this.kernel.writes.push(`gpio${this.line}/active_low ${invert ? 1 : 0}`);
    this.kernel.pin(this.line).activeLow = invert;
  }

  unexport(): void {
    this.unwatchAll();
    this.open = false;
    this.kernel.objects.delete(this);
    this.kernel.unexport(this.line);
  }
}
