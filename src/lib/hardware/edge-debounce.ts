// Debounce and edge selection for a watched GPIO line, one implementation for the real pins and the simulation so
// both report the same messages. The pack owns the timer (onoff is told debounceTimeout 0): onoff's own debounce
// timer outlives unexport() and then reads the closed value file, and that EBADF, thrown from a timer, would take
// Node-RED down. Here release() stops the timer.
import type { TimerHandle, Timers } from './timers';
import type { Bit, Edge } from './types';

export interface EdgeDebounceOptions {
  /** The edges to report; 'none' reports nothing. */
  edge: Edge;
  /** Quiet time before a level counts as settled; 0 settles at once. */
  debounceMs: number;
  timers: Timers;
  /** The line's logical level now (throws if it cannot be read). */
  sample(): Bit;
  /** A settled level that differs from the last known one and is an edge this line reports. */
  report(value: Bit): void;
  /** sample() threw. */
  fail(err: unknown): void;
}

export function wantsEdge(edge: Edge, value: Bit): boolean {
  return edge === 'both' || (edge === 'rising' && value === 1) || (edge === 'falling' && value === 0);
}

export class EdgeDebouncer {
  /** The last settled level, reported or not (a falling edge on a rising-only line still moves it). */
  private known: Bit | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly o: EdgeDebounceOptions) {
    // Primed with the level at watch time: a glitch that returns to it is no edge.
    this.known = this.read();
  }

  /** The pin changed (or raised an interrupt): with a debounce the quiet time starts again. */
  changed(): void {
    if (this.stopped) return;
    if (this.o.debounceMs <= 0) {
      this.settle();
      return;
    }
    if (this.timer !== undefined) this.o.timers.clearTimeout(this.timer);
    this.timer = this.o.timers.setTimeout(() => {
      this.timer = undefined;
      this.settle();
    }, this.o.debounceMs);
  }

  /** No report after this, not even from a quiet time already running. Safe to call twice. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.o.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private read(): Bit | undefined {
    try {
      return this.o.sample();
    } catch (err) {
      this.o.fail(err);
      return undefined;
    }
  }

  private settle(): void {
    if (this.stopped) return;
    const value = this.read();
    // Unchanged: a glitch shorter than the debounce, or a second interrupt for one edge. Reporting it would give
    // a second "rising" in a row.
    if (value === undefined || value === this.known) return;
    this.known = value;
    if (wantsEdge(this.o.edge, value)) this.o.report(value);
  }
}
