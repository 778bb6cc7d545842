import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { once } from 'node:events';
import { RuleSource } from '../../src/lib/acl/rule-source';
import type { Identity } from '../../src/lib/acl/types';

const who: Identity = { username: 'alice', clientId: 'c1' };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'acl-source-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('RuleSource', () => {
  test('none allows everything and says so', () => {
    const src = new RuleSource({ type: 'none' });
    assert.deepEqual(src.check(who, 'a', 'write'), { allowed: true, reason: 'no ACL configured' });
    assert.equal(src.checker, undefined);
    src.close();
  });

  test('inline acl_file and inline dynamic-security', () => {
    const acl = new RuleSource({ type: 'acl-inline', text: 'user alice\ntopic write a\n' });
    assert.equal(acl.check(who, 'a', 'write').allowed, true);
    assert.equal(acl.checker?.kind, 'acl_file');
    const dyn = new RuleSource({ type: 'dynsec-inline', json: { defaultACLAccess: { publishClientSend: true }, clients: [{ username: 'alice' }] } });
    assert.equal(dyn.check(who, 'a', 'write').allowed, true);
    assert.equal(dyn.checker?.kind, 'dynamic-security');
  });

  test('a bad first load throws with the origin and line', () => {
    assert.throws(() => new RuleSource({ type: 'acl-inline', text: 'topic wrtie a\n' }), /inline acl_file: acl line 1/);
    const file = path.join(dir, 'bad.acl');
    fs.writeFileSync(file, '\n\nbogus\n');
    assert.throws(() => new RuleSource({ type: 'acl-file', path: file }), (e: unknown) => e instanceof Error && e.message.includes(file) && e.message.includes('acl line 3'));
    assert.throws(() => new RuleSource({ type: 'acl-file', path: path.join(dir, 'missing') }), /cannot read/);
  });

  test('an acl file is reloaded when it changes; a broken edit keeps the previous rules and reports the error', async () => {
    const file = path.join(dir, 'live.acl');
    fs.writeFileSync(file, 'user alice\ntopic write a\n');
    const src = new RuleSource({ type: 'acl-file', path: file }, { pollIntervalMs: 20 });
    try {
      assert.equal(src.check(who, 'b', 'write').allowed, false);
      const reloaded = once(src, 'reloaded');
      fs.writeFileSync(file, 'user alice\ntopic write b\n# changed\n');
      await reloaded;
      assert.equal(src.check(who, 'b', 'write').allowed, true);
      assert.equal(src.check(who, 'a', 'write').allowed, false);

      const failed = once(src, 'error');
      fs.writeFileSync(file, 'user alice\ntopic wirte c\n');
      const [err] = (await failed) as [Error];
      assert.match(err.message, /acl line 2: unknown access "wirte".*keeping the previous rules/);
      assert.equal(src.check(who, 'b', 'write').allowed, true, 'previous rules still in force');
      assert.equal(src.lastError, err);

      const fixed = once(src, 'reloaded');
      fs.writeFileSync(file, 'user alice\ntopic write c\n');
      await fixed;
      assert.equal(src.check(who, 'c', 'write').allowed, true);
      assert.equal(src.lastError, undefined);
    } finally {
      src.close();
    }
  });

  test('a dynamic-security file is reloaded too, and close() stops watching', async () => {
    const file = path.join(dir, 'dynsec.json');
    fs.writeFileSync(file, JSON.stringify({ defaultACLAccess: { publishClientSend: false }, clients: [{ username: 'alice' }] }));
    const src = new RuleSource({ type: 'dynsec-file', path: file }, { pollIntervalMs: 20 });
    assert.equal(src.check(who, 'a', 'write').allowed, false);
    const reloaded = once(src, 'reloaded');
    fs.writeFileSync(file, JSON.stringify({ defaultACLAccess: { publishClientSend: true }, clients: [{ username: 'alice' }] }) + '\n');
    await reloaded;
    assert.equal(src.check(who, 'a', 'write').allowed, true);
    src.close();
    fs.writeFileSync(file, JSON.stringify({ defaultACLAccess: { publishClientSend: false }, clients: [{ username: 'alice' }] }) + '\n\n');
    // After close nothing reloads; reload() on demand still works and is what proves the file changed.
    assert.equal(src.check(who, 'a', 'write').allowed, true);
    assert.equal(src.reload(), true);
    assert.equal(src.check(who, 'a', 'write').allowed, false);
  });
});
