// A controllable clock implementing the hardware layer's Timers: time moves only when a test advances it.
import type { TimerHandle, Timers } from '../../src/lib/hardware/timers';

interface Pending {
  id: number;
  at: number;
  fn: () => void;
}

export class ManualClock implements Timers {
  private t = 1_700_000_000_000;
  private nextId = 1;
  private pending: Pending[] = [];

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.pending.push({ id, at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending = this.pending.filter((p) => p.id !== handle);
  }

  /** Timers not yet fired. */
  get size(): number {
    return this.pending.length;
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promise callbacks run between them. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      const due = this.pending.filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
    await flush();
  }
}

/** Lets every queued promise callback (and I/O-free async chain) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Sleep that resolves at once: drivers' waits without waiting. */
export const noWait = async (): Promise<void> => undefined;
