import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FilterIndex, substitutePattern } from '../../src/lib/acl/acl-index';
import { filterCovers, filtersIntersect } from '../../src/lib/acl/filter-relations';
import { filterMatches } from '../../src/lib/mqtt/topic-rules';

const level = fc.constantFrom('a', 'b', '', '$x', 'c1');
const topicArb = fc.array(level, { minLength: 1, maxLength: 4 }).map((l) => l.join('/')).filter((t) => t !== '');
const filterArb = fc
  .tuple(fc.array(fc.oneof(level, fc.constant('+')), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([l, hash]) => (hash ? [...l, '#'] : l).join('/'))
  .filter((f) => f !== '');

test('the index returns exactly the filters that match, as a scan would', () => {
  fc.assert(
    fc.property(fc.array(filterArb, { maxLength: 30 }), topicArb, (filters, topic) => {
      const index = new FilterIndex<number>();
      filters.forEach((f, i) => index.add(f, i));
      const got = index.match(topic, []).sort((x, y) => x - y);
      const want = filters.map((f, i) => (filterMatches(f, topic) ? i : -1)).filter((i) => i >= 0);
      assert.deepEqual(got, want);
    }),
  );
});

test('templated levels are substituted at lookup like Mosquitto substitutes patterns', () => {
  const index = new FilterIndex<string>({ templates: true });
  for (const f of ['d/%c/#', 'u/%u', 'x-%c/%u-%c', '%c']) index.add(f, f);
  assert.deepEqual(index.match('d/dev1/t', [], 'dev1', 'bob'), ['d/%c/#']);
  assert.deepEqual(index.match('u/bob', [], 'dev1', 'bob'), ['u/%u']);
  assert.deepEqual(index.match('x-dev1/bob-dev1', [], 'dev1', 'bob'), ['x-%c/%u-%c']);
  assert.deepEqual(index.match('$c', [], '$c'), ['%c']);
  assert.deepEqual(index.match('u/%u', [], 'dev1'), ['u/%u']);
  assert.equal(substitutePattern('a/%%c/%u/%x', 'C', undefined), 'a/%C/%u/%x');
});

test('filterCovers and filtersIntersect agree with matching on concrete topics', () => {
  fc.assert(
    fc.property(filterArb, filterArb, fc.array(topicArb, { minLength: 20, maxLength: 40 }), (a, b, topics) => {
      if (filterCovers(a, b)) for (const t of topics) if (filterMatches(b, t)) assert.ok(filterMatches(a, t), `${a} covers ${b} but not ${t}`);
      if (!filtersIntersect(a, b)) for (const t of topics) assert.ok(!(filterMatches(a, t) && filterMatches(b, t)), `${a} and ${b} both match ${t}`);
    }),
  );
  assert.equal(filterCovers('a/#', 'a'), true);
  assert.equal(filterCovers('#', '$SYS/#'), false);
  assert.equal(filterCovers('+/+', 'a/b'), true);
  assert.equal(filtersIntersect('a/+', 'a/#'), true);
  assert.equal(filtersIntersect('+/x', '$SYS/x'), false);
  assert.equal(filtersIntersect('a/b', 'a/c'), false);
});
