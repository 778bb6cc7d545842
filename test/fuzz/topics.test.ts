// Properties of the MQTT topic rules and the subscription trie: random and hostile topics never crash them, a topic
// accepted for publishing really is valid, and the trie agrees with filterMatches on every filter and topic.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { checkPublishTopic, checkSubscriptionFilter, filterMatches, parseSharedFilter } from '../../src/lib/mqtt/topic-rules';
import { TopicTrie } from '../../src/lib/mqtt/topic-trie';
import { assertNoPollution, count, hostileString, hostileValue, report } from './arbitraries';

const RUNS = 500;

/** An independent statement of what Mosquitto accepts as a publish topic. */
function validPublishTopic(t: string): boolean {
  if (t.length === 0 || t.includes('+') || t.includes('#')) return false;
  for (const ch of t) {
    const cp = ch.codePointAt(0) as number;
    if (cp >= 0xd800 && cp <= 0xdfff) return false;
    if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return false;
  }
  return Buffer.byteLength(t, 'utf8') <= 65535 && t.split('/').length <= 200;
}

const level = fc.constantFrom('a', 'b', 'c', '', '+', '#', '$SYS', 'x+y', 'a#', '\u00e9');
const filterArb = fc.array(level, { minLength: 1, maxLength: 5 }).map((l) => l.join('/'));
const topicArb = fc.array(fc.constantFrom('a', 'b', 'c', '', '$SYS', '\u00e9'), { minLength: 1, maxLength: 5 }).map((l) => l.join('/'));

describe('fuzz: topic rules and trie', () => {
  after(() => report('topics'));

  test('checkPublishTopic never throws, and accepts exactly the valid topics', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString, hostileValue, topicArb), (t) => {
        count('checkPublishTopic');
        const problem = checkPublishTopic(t);
        if (typeof t !== 'string') return problem !== undefined;
        assert.equal(problem === undefined, validPublishTopic(t), `for ${JSON.stringify(t.slice(0, 100))}: ${problem?.message}`);
        if (problem) assert.ok(problem.code === 'INVALID_TOPIC' && problem.message.length > 0 && problem.message.length < 300);
        return true;
      }),
      { numRuns: RUNS },
    );
    assertNoPollution();
  });

  test('checkSubscriptionFilter never throws; a valid publish topic (not $share) is a valid filter that matches itself', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString, hostileValue, filterArb, topicArb), (f) => {
        count('checkSubscriptionFilter');
        const problem = checkSubscriptionFilter(f);
        if (typeof f !== 'string') return problem !== undefined;
        if (problem) assert.ok(problem.message.length > 0);
        if (checkPublishTopic(f) === undefined && !f.startsWith('$share/')) {
          assert.equal(problem, undefined, `valid topic refused as a filter: ${problem?.message}`);
          assert.ok(filterMatches(f, f));
        }
        if (problem === undefined) {
          // Wildcards are whole levels, '#' only last.
          const inner = (parseSharedFilter(f) as { filter: string } | undefined)?.filter ?? f;
          const levels = inner.split('/');
          levels.forEach((l, i) => {
            if (l.includes('#')) assert.ok(l === '#' && i === levels.length - 1);
            if (l.includes('+')) assert.equal(l, '+');
          });
        }
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  test('the trie and filterMatches agree for every filter and topic, and removing filters empties the trie', () => {
    fc.assert(
      fc.property(fc.uniqueArray(filterArb, { maxLength: 12 }), fc.array(topicArb, { minLength: 1, maxLength: 8 }), (filters, topics) => {
        count('trie vs filterMatches');
        const valid = filters.filter((f) => checkSubscriptionFilter(f) === undefined && !f.startsWith('$share/'));
        const trie = new TopicTrie<string>();
        for (const f of valid) trie.add(f, f);
        assert.equal(trie.size, valid.length);
        for (const t of topics) {
          if (checkPublishTopic(t)) continue;
          const fromTrie = trie.match(t).sort();
          const expected = valid.filter((f) => filterMatches(f, t)).sort();
          assert.deepEqual(fromTrie, expected, `topic ${JSON.stringify(t)}`);
        }
        for (const f of valid) assert.ok(trie.remove(f, f));
        assert.equal(trie.size, 0);
        for (const t of topics) assert.deepEqual(trie.match(t), []);
        return true;
      }),
      { numRuns: RUNS },
    );
  });

  test('filterMatches matches by the MQTT rules: + one level, # the rest (and its parent), $ topics not by a leading wildcard', () => {
    fc.assert(
      fc.property(filterArb, topicArb, (f, t) => {
        count('filterMatches vs regex');
        if (checkSubscriptionFilter(f) !== undefined || checkPublishTopic(t) !== undefined || f.startsWith('$share/')) return true;
        const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        let re = f.split('/').map((l) => (l === '+' ? '[^/]*' : l === '#' ? '\u0000' : esc(l))).join('/');
        re = re.replace(/\/\u0000$/, '(/.*)?').replace(/^\u0000$/, '.*');
        let expected = new RegExp(`^${re}$`, 's').test(t);
        if (t.startsWith('$') && (f.startsWith('+') || f.startsWith('#'))) expected = false;
        assert.equal(filterMatches(f, t), expected, `${f} vs ${t}`);
        return true;
      }),
      { numRuns: RUNS },
    );
  });
});
