// A clock the test moves by hand: timers fire in time order during advance(), never on their own.
import type { Clock, TimerHandle } from '../../src/lib/reduce/clock';

interface Pending {
  at: number;
  fn: () => void;
  handle: TimerHandle;
}

export class ManualClock implements Clock {
  private pending: Pending[] = [];
  constructor(private t = 0) {}

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = {};
    this.pending.push({ at: this.t + Math.max(0, ms), fn, handle });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending = this.pending.filter((p) => p.handle !== handle);
  }

  get timers(): number {
    return this.pending.length;
  }

  advance(ms: number): void {
    const target = this.t + ms;
    for (;;) {
      const due = this.pending.filter((p) => p.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = target;
  }
}
