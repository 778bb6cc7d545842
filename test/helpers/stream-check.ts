import assert from 'node:assert/strict';

/**
 * Checks an at-least-once stream of the numbers 0..total-1: every number arrived and, when `ordered`, in first-seen
 * order. Returns how many repeats there were.
 */
export function checkStream(received: number[], total: number, { ordered }: { ordered: boolean }): { duplicates: number } {
  const seen = new Set<number>();
  const firsts: number[] = [];
  for (const n of received) {
    if (seen.has(n)) continue;
    seen.add(n);
    firsts.push(n);
  }
  const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !seen.has(i));
  assert.deepEqual(missing.slice(0, 20), [], `all ${total} arrived: ${missing.length} missing`);
  if (ordered) for (let i = 0; i < firsts.length; i++) if (firsts[i] !== i) assert.fail(`out of order at position ${i}: ${firsts[i]}`);
  return { duplicates: received.length - firsts.length };
}
