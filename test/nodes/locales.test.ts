// Every node's message catalogues: both languages complete with the same placeholders, help in both starting with
// the tooltip paragraph, and every key the runtime code names present in the en-US catalogue.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { NOT_SENT_CODES } from '../../src/lib/publish/types';
import { flatCatalogue, helpFile, LANGS, NODES, nodesDir, placeholders } from '../helpers/catalogues';

test('the pack has its nine nodes', () => {
  assert.equal(NODES.length, 9, NODES.join(', '));
});

for (const node of NODES) {
  test(`${node}: en-US and zh-CN catalogues have the same keys and placeholders; help in both`, () => {
    const en = flatCatalogue(node, 'en-US');
    const zh = flatCatalogue(node, 'zh-CN');
    assert.deepEqual([...zh.keys()].sort(), [...en.keys()].sort());
    for (const [k, v] of en) {
      assert.deepEqual(placeholders(zh.get(k) ?? ''), placeholders(v), k);
      assert.ok((zh.get(k) ?? '').trim() !== '', `zh-CN ${k} is empty`);
    }
    for (const lang of LANGS) {
      // The palette's tooltip is the help's first paragraph.
      assert.match(helpFile(node, lang), new RegExp(`data-help-name="${node}">\\s*<p>`), `${lang} help starts with the tooltip paragraph`);
    }
  });

  test(`${node}: every message key the runtime code names exists in en-US`, () => {
    const en = flatCatalogue(node, 'en-US');
    const code = readFileSync(path.join(nodesDir, node, `${node}.ts`), 'utf8');
    const used = [...code.matchAll(/(?:\bt|RED\._|translate\(RED,)\s*\(?\s*'([a-z0-9-]+\.[A-Za-z0-9_.]+)'/g)].map((m) => m[1]);
    for (const key of used) assert.ok(en.has(key), `${key} is used but not in the en-US catalogue`);
  });
}

test('secure-mqtt-out: a refusal text for every code the publisher can give', () => {
  const en = flatCatalogue('secure-mqtt-out', 'en-US');
  for (const c of NOT_SENT_CODES) assert.ok(en.has(`secure-mqtt-out.refusal.${c}`), c);
});
