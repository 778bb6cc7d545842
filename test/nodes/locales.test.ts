// Every node's message catalogues: both languages complete with the same placeholders, help in both, and every
// key the runtime code names present in the en-US catalogue.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { NOT_SENT_CODES } from '../../src/lib/publish/types';

const root = path.resolve(__dirname, '..', '..', '..');
const nodesDir = path.join(root, 'src', 'nodes');
const NODES = readdirSync(nodesDir).filter((d) => existsSync(path.join(nodesDir, d, `${d}.html`)));

type Tree = { [k: string]: string | Tree };

function flatten(o: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'string') out.set(`${prefix}${k}`, v);
    else for (const [kk, vv] of flatten(v, `${prefix}${k}.`)) out.set(kk, vv);
  }
  return out;
}

function catalogue(node: string, lang: string): Map<string, string> {
  return flatten(JSON.parse(readFileSync(path.join(nodesDir, node, 'locales', lang, `${node}.json`), 'utf8')) as Tree);
}

const placeholders = (s: string): string[] => (s.match(/__\w+__/g) ?? []).sort();

test('the pack has its nine nodes', () => {
  assert.equal(NODES.length, 9, NODES.join(', '));
});

for (const node of NODES) {
  test(`${node}: en-US and zh-CN catalogues have the same keys and placeholders; help in both`, () => {
    const en = catalogue(node, 'en-US');
    const zh = catalogue(node, 'zh-CN');
    assert.deepEqual([...zh.keys()].sort(), [...en.keys()].sort());
    for (const [k, v] of en) {
      assert.deepEqual(placeholders(zh.get(k) ?? ''), placeholders(v), k);
      assert.ok((zh.get(k) ?? '').trim() !== '', `zh-CN ${k} is empty`);
    }
    for (const lang of ['en-US', 'zh-CN']) {
      const help = readFileSync(path.join(nodesDir, node, 'locales', lang, `${node}.html`), 'utf8');
      assert.match(help, new RegExp(`data-help-name="${node}"`), `${lang} help`);
    }
  });

  test(`${node}: every message key the runtime code names exists in en-US`, () => {
    const en = catalogue(node, 'en-US');
    const code = readFileSync(path.join(nodesDir, node, `${node}.ts`), 'utf8');
    const used = [...code.matchAll(/(?:\bt|RED\._|translate\(RED,)\s*\(?\s*'([a-z0-9-]+\.[A-Za-z0-9_.]+)'/g)].map((m) => m[1]);
    for (const key of used) assert.ok(en.has(key), `${key} is used but not in the en-US catalogue`);
  });
}

test('secure-mqtt-out: a refusal text for every code the publisher can give', () => {
  const en = catalogue('secure-mqtt-out', 'en-US');
  for (const c of NOT_SENT_CODES) assert.ok(en.has(`secure-mqtt-out.refusal.${c}`), c);
});
