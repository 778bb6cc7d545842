// Readings one at a time: polls on an interval and reads asked for by messages share one queue, so a slow
// reading (a DS18B20 takes 750 ms) never overlaps the next; the next poll is due an interval after the previous
// one started, or right after it finished when it took longer than that.
import type { TimerHandle, Timers } from '../hardware/timers';

export class ReadScheduler {
  private tail: Promise<void> = Promise.resolve();
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly timers: Timers,
    private readonly poll: () => Promise<void>,
  ) {}

  /** Runs `job` after everything queued before it; jobs should not throw, but a throw does not stop the queue. */
  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Polls after `firstDelayMs` and then every `intervalMs`; 0 disables polling. */
  start(intervalMs: number, firstDelayMs = 0): void {
    if (intervalMs <= 0) return;
    const tick = (): void => {
      this.timer = undefined;
      if (this.stopped) return;
      const started = this.timers.now();
      // A poll that throws must not become an unhandled rejection (that would end Node-RED).
      void this.run(this.poll).catch(() => undefined).then(() => {
        if (this.stopped) return;
        // At most one interval: a clock that stepped back during the poll must not hold polling up by the step.
        const wait = Math.min(intervalMs, Math.max(0, started + intervalMs - this.timers.now()));
        this.timer = this.timers.setTimeout(tick, wait);
      });
    };
    this.timer = this.timers.setTimeout(tick, firstDelayMs);
  }

  /** Stops polling; resolves once the reading in progress (if any) has finished. */
  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    return this.tail;
  }
}
