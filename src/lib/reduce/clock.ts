// Time as the reducers see it: injectable so tests drive windows, heartbeats and batch ages by hand.

export type TimerHandle = object;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The longest delay a Node.js (and browser) timer honours: a longer one fires after 1 ms instead. */
export const MAX_TIMER_DELAY_MS = 2147483647;

/** The platform's one-shot timers, whatever their handle type. */
export interface TimerApi<H> {
  setTimeout(fn: () => void, ms: number): H;
  clearTimeout(handle: H): void;
}

interface Chain<H> {
  current?: H;
  cancelled: boolean;
}

/**
 * A clock whose timers accept any delay: above MAX_TIMER_DELAY_MS the wait is made of several platform timers, so a
 * 30-day heartbeat or batch age waits 30 days rather than the 1 ms Node.js would silently use.
 */
export function chainedClock<H>(api: TimerApi<H>, now: () => number): Clock {
  const chains = new WeakMap<TimerHandle, Chain<H>>();
  const arm = (chain: Chain<H>, fn: () => void, ms: number): H => {
    if (!(ms > MAX_TIMER_DELAY_MS)) return api.setTimeout(fn, ms);
    return api.setTimeout(() => {
      if (!chain.cancelled) chain.current = arm(chain, fn, ms - MAX_TIMER_DELAY_MS);
    }, MAX_TIMER_DELAY_MS);
  };
  return {
    now,
    setTimeout(fn, ms) {
      const handle = {};
      const chain: Chain<H> = { cancelled: false };
      chain.current = arm(chain, fn, ms);
      chains.set(handle, chain);
      return handle;
    },
    clearTimeout(handle) {
      const chain = chains.get(handle);
      if (!chain) return;
      chain.cancelled = true;
      if (chain.current !== undefined) api.clearTimeout(chain.current);
      chains.delete(handle);
    },
  };
}

export const systemClock: Clock = chainedClock<NodeJS.Timeout>(
  // Looked up at each call (not bound once) so a test can stand in for the platform's timers.
  { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h) },
  () => Date.now(),
);
