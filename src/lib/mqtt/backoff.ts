// Reconnect delays: exponential growth with jitter so a fleet does not reconnect in lock-step after a broker restart.

export interface BackoffOptions {
  /** First delay in ms (before jitter). */
  initialMs: number;
  /** Upper bound of any delay in ms. */
  maxMs: number;
  /** A connection that lasted this long resets the sequence. */
  stableMs: number;
  /** Fraction of each delay that is randomised, 0..1. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 60000, stableMs: 30000, jitter: 0.3 };

export class Backoff {
  private attempt = 0;
  private connectedAt: number | undefined;

  constructor(
    private readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {}

  /** Delay before the next attempt; each call grows the following one. */
  next(): number {
    const { initialMs, maxMs, jitter } = this.options;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    // Equal-jitter: keep (1 - jitter) of the delay, randomise the rest, never exceed the cap.
    return Math.round(base * (1 - jitter) + base * jitter * this.random());
  }

  connected(): void {
    this.connectedAt = this.now();
  }

  /** Called when a connection ends; a long-lived connection starts the sequence again. */
  disconnected(): void {
    if (this.connectedAt !== undefined && this.now() - this.connectedAt >= this.options.stableMs) this.attempt = 0;
    this.connectedAt = undefined;
  }

  get attempts(): number {
    return this.attempt;
  }
}
