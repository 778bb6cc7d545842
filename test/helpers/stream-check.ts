import assert from 'node:assert/strict';
import type { Watcher } from './mqtt-watch';

/** The numbers a watcher received as payloads, in arrival order (repeats included). */
export const numbersOf = (w: Watcher): number[] => w.received.map((r) => Number(r.payload.toString()));

/** How many different payloads a watcher has received. */
export const distinctCount = (w: Watcher): number => new Set(w.received.map((r) => r.payload.toString())).size;

/** Each value once, in the order it was first seen. */
export function firstSeen(values: number[]): number[] {
  const seen = new Set<number>();
  return values.filter((n) => !seen.has(n) && seen.add(n));
}

/**
 * Checks an at-least-once stream of the numbers 0..total-1: every number arrived and, when `ordered`, in first-seen
 * order. Returns how many repeats there were.
 */
export function checkStream(received: number[], total: number, { ordered }: { ordered: boolean }): { duplicates: number } {
  const firsts = firstSeen(received);
  const seen = new Set(firsts);
  const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !seen.has(i));
  assert.deepEqual(missing.slice(0, 20), [], `all ${total} arrived: ${missing.length} missing`);
  if (ordered) for (let i = 0; i < firsts.length; i++) if (firsts[i] !== i) assert.fail(`out of order at position ${i}: ${firsts[i]}`);
  return { duplicates: received.length - firsts.length };
}
