import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TopicTrie } from '../../src/lib/mqtt/topic-trie';
import { filterMatches } from '../../src/lib/mqtt/topic-rules';

const FILTERS = ['#', '+', 'a/#', 'a/+', 'a/b', 'a/+/c', '+/+', 'a/b/#', '$SYS/#', '$SYS/+/x', '+/b', 'x/#', '/+', '+/'];
const TOPICS = ['a', 'a/b', 'a/b/c', 'a/x/c', 'b', '$SYS/a/x', '$SYS', 'x', '/a', 'a/', '/', 'a/b/c/d'];

test('the trie matches exactly what MQTT filter rules match', () => {
  const trie = new TopicTrie<string>();
  for (const f of FILTERS) trie.add(f, f);
  for (const t of TOPICS) {
    const expected = FILTERS.filter((f) => filterMatches(f, t)).sort();
    assert.deepEqual(trie.match(t).sort(), expected, `topic ${t}`);
  }
});

test('known cases from the specification', () => {
  assert.ok(filterMatches('sport/tennis/player1/#', 'sport/tennis/player1'));
  assert.ok(filterMatches('sport/#', 'sport'));
  assert.ok(!filterMatches('sport/+', 'sport'));
  assert.ok(filterMatches('sport/+', 'sport/'));
  assert.ok(filterMatches('+/+', '/finance'));
  assert.ok(!filterMatches('#', '$SYS/broker'));
  assert.ok(!filterMatches('+/monitor/Clients', '$SYS/monitor/Clients'));
  assert.ok(filterMatches('$SYS/monitor/+', '$SYS/monitor/Clients'));
});

test('remove prunes and stops matching', () => {
  const trie = new TopicTrie<number>();
  trie.add('a/+/c', 1);
  trie.add('a/+/c', 2);
  assert.equal(trie.size, 2);
  assert.ok(trie.remove('a/+/c', 1));
  assert.deepEqual(trie.match('a/b/c'), [2]);
  assert.ok(!trie.remove('a/+/c', 1));
  assert.ok(trie.remove('a/+/c', 2));
  assert.deepEqual(trie.match('a/b/c'), []);
  assert.equal(trie.size, 0);
});
