// The log counter the broker and runtime helpers use: tests wait on its counts, so a miscount hangs or passes them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logCounter } from './log-count';

test('counts matches in whole lines only, each line once, per pattern', () => {
  let log = 'New client connected as a\nNew client connected as b\nNew cli';
  const count = logCounter(() => log);
  assert.equal(count(/New client connected/), 2, 'the half-written line waits');
  assert.equal(count(/New client connected/g), 2, 'with or without the g flag');
  log += 'ent connected as c\n';
  assert.equal(count(/New client connected/), 3, 'the finished line is counted');
  assert.equal(count(/New client connected/), 3, 'and not again');
  assert.equal(count(/as [ab]\n?/), 2, 'a new pattern reads the log from the start');
  log += 'as a, as b\n';
  assert.equal(count(/as [ab]/), 4, 'several matches in one line');
  assert.equal(count(/AS A/i), 2, 'flags are kept');
});
