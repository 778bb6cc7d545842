// The nodes' message catalogues and help files as the tests read them, each file parsed once per test process.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Catalogue } from '../../src/nodes/shared/messages';
import { repoRoot } from './node-red-process';

export const nodesDir = path.join(repoRoot, 'src', 'nodes');
/** Every node folder of the pack (one with an editor file of its own name). */
export const NODES = readdirSync(nodesDir).filter((d) => existsSync(path.join(nodesDir, d, `${d}.html`)));
export const LANGS = ['en-US', 'zh-CN'];

const cache = new Map<string, Catalogue>();

/** The node's catalogue file as it is: `{ "<type>": { ... } }`. */
export function catalogueFile(node: string, lang: string): Catalogue {
  const file = path.join(nodesDir, node, 'locales', lang, `${node}.json`);
  let cat = cache.get(file);
  if (!cat) {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    cat = parsed as Catalogue;
    cache.set(file, cat);
  }
  return cat;
}

/** The node's catalogue as "<type>.a.b" keys (as the runtime code names them) and their texts. */
export function flatCatalogue(node: string, lang: string): Map<string, string> {
  return flatten(catalogueFile(node, lang));
}

function flatten(o: Catalogue, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'string') out.set(`${prefix}${k}`, v);
    else for (const [kk, vv] of flatten(v, `${prefix}${k}.`)) out.set(kk, vv);
  }
  return out;
}

export function helpFile(node: string, lang: string): string {
  return readFileSync(path.join(nodesDir, node, 'locales', lang, `${node}.html`), 'utf8');
}

/** The `__name__` placeholders of a text, sorted. */
export const placeholders = (s: string): string[] => (s.match(/__\w+__/g) ?? []).sort();
