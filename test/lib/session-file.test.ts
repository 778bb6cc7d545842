import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readSessionFile, SessionFile, sessionFilePath } from '../../src/lib/mqtt/session-file';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'nrst-session-'));

test('a session file: written once per turn of changes, read back for the same session only, private to the user', async () => {
  const dir = tmp();
  const file = sessionFilePath(path.join(dir, 'sessions'), 'mqtt://h:1883#c');
  const memory = new SessionFile(file, 'mqtt://h:1883#c', readSessionFile(file, 'mqtt://h:1883#c'));
  assert.equal(memory.size, 0, 'no file yet: nothing known');
  memory.set('a/#', { qos: 1, nl: true });
  memory.set('b/#', { qos: 0 });
  memory.delete('b/#');
  assert.equal(fs.existsSync(file), false, 'not before the turn ends');
  await turn();
  assert.deepEqual(readSessionFile(file, 'mqtt://h:1883#c'), [['a/#', { qos: 1, nl: true }]]);
  assert.deepEqual(readSessionFile(file, 'mqtt://h:1883#other'), [], "another session's file says nothing");
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  const again = new SessionFile(file, 'mqtt://h:1883#c', readSessionFile(file, 'mqtt://h:1883#c'));
  assert.deepEqual([...again], [['a/#', { qos: 1, nl: true }]], 'a restart finds what the session holds');
  again.clear();
  await turn();
  assert.deepEqual(readSessionFile(file, 'mqtt://h:1883#c'), []);
});

test('a damaged or hand-edited session file gives what it can and never throws', () => {
  const dir = tmp();
  const file = path.join(dir, 'x.json');
  for (const text of ['', '{', 'null', '[]', '{"key":"k"}', '{"key":"k","filters":null}']) {
    fs.writeFileSync(file, text);
    assert.deepEqual(readSessionFile(file, 'k'), [], text);
  }
  fs.writeFileSync(file, JSON.stringify({ key: 'k', filters: { good: { qos: 2, rh: 1 }, bad: { qos: 3 }, worse: 'x', nl: { qos: 0, nl: 'yes' } } }));
  assert.deepEqual(readSessionFile(file, 'k'), [['good', { qos: 2, rh: 1 }]]);
  assert.deepEqual(readSessionFile(path.join(dir, 'missing.json'), 'k'), []);
});

test('a session file that cannot be written: reported once, nothing thrown, the memory still works', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'blocked'), 'a file where the folder should be');
  const errors: Error[] = [];
  const memory = new SessionFile(path.join(dir, 'blocked', 's.json'), 'k', [], (e) => errors.push(e));
  memory.set('a', { qos: 1 });
  await turn();
  memory.set('b', { qos: 1 });
  await turn();
  assert.equal(errors.length, 1);
  assert.match(errors[0].message, /EEXIST|ENOTDIR/);
  assert.deepEqual([...memory.keys()], ['a', 'b']);
  const throwing = new SessionFile(path.join(dir, 'blocked', 't.json'), 'k', [], () => {
    throw new Error('a reporter that throws');
  });
  throwing.set('a', { qos: 1 });
  await turn(); // an exception here would be uncaught in setImmediate and end the process
});
