#!/usr/bin/env node
// Builds the pack: TypeScript to CommonJS in dist/, then each node's editor HTML (with its shared helpers put in),
// locales/ and icons/ copied beside its built .js, where Node-RED looks for them.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'src', 'nodes');
const dist = path.join(root, 'dist');

fs.rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], {
  stdio: 'inherit',
});

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const declared = new Set(Object.values(pkg['node-red'].nodes).map((p) => path.normalize(p)));
const problems = [];

/**
 * The dialogs' shared helpers (src/nodes/shared/editor) go into each HTML where a line `// @include <path>` asks for
 * them, so the built file needs nothing else: Node-RED waits for a `<script src>` before it shows any node of the
 * module, and one that failed to load would leave the editor without the pack.
 */
function withIncludes(file) {
  return fs.readFileSync(file, 'utf8').replace(/^([ \t]*)\/\/ @include (\S+)[ \t]*$/gm, (line, indent, rel) => {
    const included = path.join(src, rel);
    if (!fs.existsSync(included)) {
      problems.push(`${path.relative(root, file)}: ${line.trim()}: no such file`);
      return line;
    }
    return fs.readFileSync(included, 'utf8').trimEnd().split('\n').map((l) => (l ? indent + l : l)).join('\n');
  });
}

for (const name of fs.readdirSync(src)) {
  const dir = path.join(src, name);
  const html = path.join(dir, `${name}.html`);
  if (!fs.existsSync(html)) continue; // shared code, not a node
  const out = path.join(dist, 'nodes', name);
  fs.writeFileSync(path.join(out, `${name}.html`), withIncludes(html));
  for (const sub of ['locales', 'icons']) {
    if (fs.existsSync(path.join(dir, sub))) fs.cpSync(path.join(dir, sub), path.join(out, sub), { recursive: true });
  }
  const js = path.normalize(path.join('dist', 'nodes', name, `${name}.js`));
  if (!declared.has(js)) problems.push(`package.json node-red.nodes does not list ${js}`);
  declared.delete(js);
}
for (const missing of declared) problems.push(`package.json node-red.nodes lists ${missing}, which the build did not produce`);
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
