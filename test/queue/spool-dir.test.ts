import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { spoolDirFor } from '../../src/lib/queue/spool-dir';

test("a Node-RED id names the spool folder as it is (an earlier version's spool is found again)", () => {
  assert.equal(spoolDirFor('/home/pi/.node-red', 'a1b2c3d4.e5f6a7'), '/home/pi/.node-red/secure-telemetry-spool/a1b2c3d4.e5f6a7');
  assert.equal(spoolDirFor('/u', 'p1'), '/u/secure-telemetry-spool/p1');
});

test('an id from an imported flow cannot reach outside the spool folder, and two ids never share a folder', () => {
  const root = '/u/secure-telemetry-spool';
  const ids = ['../../escaped/pwn', '..', '.', '', 'a/b', 'a\\b', '.hidden', '/etc', 'x'.repeat(500), 'ü', '../p1'];
  const dirs = ids.map((id) => spoolDirFor('/u', id));
  for (const [i, dir] of dirs.entries()) {
    assert.equal(path.dirname(dir), root, `${JSON.stringify(ids[i])} -> ${dir}`);
    assert.match(path.basename(dir), /^id-[0-9a-f]{32}$/, ids[i]);
  }
  assert.equal(new Set(dirs).size, ids.length);
});
