// Time as the hardware layer sees it: injectable so tests drive debounce, polling and waits with a manual clock.

/** Opaque: real timers hand out Node's Timeout, test clocks their own tokens. */
export type TimerHandle = unknown;

export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const realTimers: Timers = {
  // Wall-clock time: the nodes stamp their messages with it. Waits computed from it are clamped by their users (an NTP
  // step on a Pi without a clock must not stretch them).
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export type Sleep = (ms: number) => Promise<void>;

export function sleeper(timers: Timers): Sleep {
  return (ms) => new Promise((resolve) => void timers.setTimeout(resolve, ms));
}
