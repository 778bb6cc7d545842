import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPublishTopic, checkSubscriptionFilter, parseSharedFilter } from '../../src/lib/mqtt/topic-rules';

test('valid publish topics pass', () => {
  for (const t of ['a', 'a/b', '/', 'a//b', 'sensors/温度', '$SYS/x', 'x'.repeat(1000)]) {
    assert.equal(checkPublishTopic(t), undefined, t);
  }
});

test('invalid publish topics are named with a reason', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['', /empty/],
    ['a/+/b', /wildcard/],
    ['a/#', /wildcard/],
    ['a\u0000b', /U\+0000/],
    ['a\u0001b', /U\+0001/],
    ['a\u007fb', /U\+007F/],
    ['a\u0085b', /U\+0085/],
    ['a\ufdd0b', /U\+FDD0/],
    ['a\uffffb', /U\+FFFF/],
    ['a\ud83d', /lone surrogate/],
    [Array(201).fill('x').join('/'), /200 levels/],
    ['x'.repeat(65536), /65535 bytes/],
    [42, /must be a string/],
    [undefined, /must be a string/],
  ];
  for (const [topic, re] of cases) {
    const p = checkPublishTopic(topic);
    assert.ok(p, `expected a problem for ${JSON.stringify(topic)?.slice(0, 30)}`);
    assert.equal(p.code, 'INVALID_TOPIC');
    assert.match(p.message, re);
  }
  assert.equal(checkPublishTopic(Array(200).fill('x').join('/')), undefined);
});

test('subscription filters follow the wildcard rules', () => {
  for (const f of ['#', '+', 'a/#', 'a/+/b', '+/+', '$share/g/a/#', '$share/g/#', '/#']) {
    assert.equal(checkSubscriptionFilter(f), undefined, f);
  }
  for (const f of ['a/#/b', 'a#', 'a/b#', 'a+/b', '+a', '$share/g', '$share//a', '$share/g+/a', '$share/g/', '']) {
    assert.ok(checkSubscriptionFilter(f), f);
  }
});

test('shared filters split into group and filter', () => {
  assert.deepEqual(parseSharedFilter('$share/workers/jobs/#'), { group: 'workers', filter: 'jobs/#' });
  assert.equal(parseSharedFilter('jobs/#'), undefined);
});
