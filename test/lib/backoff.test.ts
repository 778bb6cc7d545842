import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '../../src/lib/mqtt/backoff';

test('delays double from the initial value up to the cap, within the jitter band', () => {
  const b = new Backoff({ initialMs: 1000, maxMs: 60000, stableMs: 30000, jitter: 0.3 }, () => 0.5);
  const delays = Array.from({ length: 9 }, () => b.next());
  assert.deepEqual(delays, [850, 1700, 3400, 6800, 13600, 27200, 51000, 51000, 51000]);
});

test('jitter keeps every delay between 70% and 100% of the base', () => {
  for (const r of [0, 0.999999]) {
    const b = new Backoff({ initialMs: 1000, maxMs: 8000, stableMs: 1000, jitter: 0.3 }, () => r);
    const first = b.next();
    assert.ok(first >= 700 && first <= 1000, String(first));
  }
});

test('a stable connection resets the sequence; a short one does not', () => {
  let now = 0;
  const b = new Backoff({ initialMs: 100, maxMs: 10000, stableMs: 5000, jitter: 0 }, () => 0, () => now);
  b.next();
  b.next();
  b.connected();
  now += 1000;
  b.disconnected();
  assert.equal(b.next(), 400, 'short-lived connection keeps growing');
  b.connected();
  now += 5000;
  b.disconnected();
  assert.equal(b.next(), 100, 'stable connection starts again at the initial delay');
});
