// The queue structure under the outbox: taking from the front moves a head index instead of copying the array
// (Array.prototype.shift() does, which made draining a restored spool quadratic), and the consumed slots are given
// back once they are the larger part. No timing here: the structure itself is checked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Deque, DEQUE_COMPACT_MIN } from '../../src/lib/queue/deque';
import { Outbox } from '../../src/lib/queue/outbox';

test('deque: FIFO order through pushes and shifts; peek, at and last look without taking', () => {
  const d = new Deque<number>();
  assert.equal(d.shift(), undefined);
  assert.equal(d.peek(), undefined);
  for (let i = 0; i < 5; i++) d.push(i);
  assert.equal(d.shift(), 0);
  assert.equal(d.peek(), 1);
  assert.equal(d.at(1), 2);
  assert.equal(d.at(4), undefined, 'past the end');
  assert.equal(d.at(-1), undefined);
  assert.equal(d.last(), 4);
  d.push(5);
  assert.deepEqual([d.shift(), d.shift(), d.shift(), d.shift(), d.shift(), d.shift()], [1, 2, 3, 4, 5, undefined]);
  assert.equal(d.length, 0);
});

test('deque: shift moves the head instead of copying the array, until the consumed part is the larger one', () => {
  const d = new Deque<number>();
  const n = 3 * DEQUE_COMPACT_MIN;
  for (let i = 0; i < n; i++) d.push(i);
  for (let i = 0; i < DEQUE_COMPACT_MIN; i++) assert.equal(d.shift(), i);
  assert.equal(d.slack, DEQUE_COMPACT_MIN, 'the head advanced by one per shift');
  assert.equal(d.capacity, n, 'nothing was copied');
  // Shifted past half of the array (and past the minimum), the rest is copied down once.
  let taken = DEQUE_COMPACT_MIN;
  while (d.slack > 0) {
    assert.equal(d.shift(), taken++);
    assert.ok(taken <= n / 2 + 1, `compacted by the time half is consumed (${taken})`);
  }
  assert.equal(d.capacity, d.length, 'the consumed slots are gone');
  assert.equal(d.length, n - taken);
  for (let i = taken; i < n; i++) assert.equal(d.shift(), i);
  assert.equal(d.capacity, 0, 'emptied: the array starts afresh');
});

test('deque: consumed slots stay bounded under a steady stream, and order holds', () => {
  const d = new Deque<number>();
  let next = 0;
  let out = 0;
  for (let round = 0; round < 50_000; round++) {
    d.push(next++);
    d.push(next++);
    assert.equal(d.shift(), out++);
    assert.ok(d.slack <= Math.max(DEQUE_COMPACT_MIN + 1, d.capacity / 2), `slack ${d.slack} of ${d.capacity}`);
  }
  assert.equal(d.length, next - out);
  assert.equal(d.peek(), out);
});

test('deque: insert at the front, middle and back after the head has moved', () => {
  const d = new Deque<number>();
  for (const v of [0, 10, 20, 30, 40]) d.push(v);
  d.shift();
  d.insert(0, 5);
  d.insert(2, 15);
  d.insert(d.length, 50);
  d.insert(99, 60);
  const all: Array<number | undefined> = [];
  while (d.length > 0) all.push(d.shift());
  assert.deepEqual(all, [5, 10, 15, 20, 30, 40, 50, 60]);
});

test('outbox: 200,000 items given back (a restored spool) drain in seq order, before newer ones', () => {
  const box = new Outbox<{ seq: number; bytes: number }>({ maxCount: 1e7, maxBytes: 1e12, policy: 'drop-oldest' });
  const n = 200_000;
  box.push({ seq: n + 1, bytes: 1 });
  box.giveBackAll(Array.from({ length: n }, (_, i) => ({ seq: i + 1, bytes: 1 })));
  assert.equal(box.size, n + 1);
  assert.equal(box.bytes, n + 1);
  const seqs = box.drain().map((i) => i.seq);
  assert.equal(seqs.length, n + 1);
  for (let i = 0; i < seqs.length; i++) if (seqs[i] !== i + 1) assert.fail(`position ${i}: seq ${seqs[i]}`);
  assert.equal(box.bytes, 0);
});

test('outbox: items given back all at once out of order, and one by one among them, still leave in seq order', () => {
  const box = new Outbox<{ seq: number; bytes: number }>({ maxCount: 100, maxBytes: 1e9, policy: 'drop-oldest' });
  box.giveBackAll([5, 1, 3].map((seq) => ({ seq, bytes: 1 })));
  box.giveBack({ seq: 2, bytes: 1 });
  box.giveBack({ seq: 9, bytes: 1 });
  box.push({ seq: 10, bytes: 1 });
  assert.equal(box.shift()?.seq, 1);
  box.giveBack({ seq: 4, bytes: 1 });
  assert.deepEqual(box.drain().map((i) => i.seq), [2, 3, 4, 5, 9, 10]);
});
