// A bad GPIO out payload in an error message: short, and safe for whatever a flow sends.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describePayload, PREVIEW_CHARS } from '../../src/lib/hardware/describe-payload';

test('simple values are shown as written (strings quoted)', () => {
  assert.equal(describePayload('maybe'), '"maybe"');
  assert.equal(describePayload(2), '2');
  assert.equal(describePayload(-1), '-1');
  assert.equal(describePayload(null), 'null');
  assert.equal(describePayload(undefined), 'undefined');
  assert.equal(describePayload(''), '""');
  assert.equal(describePayload(5n), '5n');
  assert.equal(describePayload({ on: true }), 'object {"on":true}');
  assert.equal(describePayload([1, 'a']), 'array [1,"a"]');
  assert.equal(describePayload(Buffer.from('abc')), 'Buffer <3 bytes>');
});

test('circular references, BigInt and throwing getters do not throw', () => {
  const a: Record<string, unknown> = { x: 1 };
  a.self = a;
  assert.equal(describePayload(a), 'object {"x":1,"self":[Circular]}');
  const shared = { v: 1 };
  assert.equal(describePayload([shared, shared]), 'array [{"v":1},{"v":1}]', 'a repeated object is not circular');
  assert.equal(describePayload({ n: 2n ** 70n }), 'object {"n":1180591620717411303424n}');
  const trap = Object.defineProperty({}, 'boom', {
    enumerable: true,
    get() {
      throw new Error('no');
    },
  });
  assert.equal(describePayload(trap), 'object (unreadable)');
});

test('huge and deeply nested payloads: at most PREVIEW_CHARS characters of preview, then "…"', () => {
  const long = describePayload('y'.repeat(5_000_000));
  assert.equal(long, `"${'y'.repeat(PREVIEW_CHARS - 1)}…`);
  const wide = describePayload(Array.from({ length: 1_000_000 }, (_, i) => i));
  assert.ok(wide.startsWith('array [0,1,2,') && wide.endsWith('…'));
  assert.ok(wide.length <= PREVIEW_CHARS + 'array '.length + 1, wide);
  let deep: unknown = 1;
  for (let i = 0; i < 200_000; i++) deep = [deep];
  assert.equal(describePayload(deep), `array ${'['.repeat(PREVIEW_CHARS)}…`);
  const manyKeys = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]));
  assert.equal(describePayload(manyKeys), 'object {"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5"…');
});
