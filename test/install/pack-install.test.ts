// Install as users do: `npm pack` the pack, check what the tarball holds, install it into a fresh Node-RED
// user directory with the palette manager's npm command, start Node-RED and ask its admin API whether every
// node type loaded and every example is offered.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeUserDir, repoRoot, startNodeRed, type NodeRedProcess } from '../helpers/node-red-process';

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  'node-red': { nodes: Record<string, string> };
}
const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
const TYPES = Object.keys(pkg['node-red'].nodes);

/** The arguments Node-RED's palette manager gives npm (@node-red/registry installer.js, installModule). */
const PALETTE_MANAGER_ARGS = ['--no-audit', '--no-update-notifier', '--no-fund', '--save', '--save-prefix=~', '--omit=dev', '--engine-strict'];

function run(cmd: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}${stderr}` });
    });
  });
}

function exampleFiles(): string[] {
  return fs
    .readdirSync(path.join(repoRoot, 'examples'))
    .filter((f) => f.endsWith('.json'))
    .sort();
}

interface NodeSet {
  id: string;
  name: string;
  module: string;
  version?: string;
  types: string[];
  enabled: boolean;
  /** Installed in the user directory (the palette manager can remove it). */
  local: boolean;
  err?: string;
}

describe('npm pack, then install the tarball as the palette manager does', () => {
  let workDir: string;
  let tarball: string;
  let entries: string[];
  const userDirs: string[] = [];
  const running: NodeRedProcess[] = [];

  before(async () => {
    for (const js of Object.values(pkg['node-red'].nodes)) {
      assert.ok(fs.existsSync(path.join(repoRoot, js)), `${js} is built (npm test runs scripts/build.js first)`);
    }
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nrst-pack-'));
    const packed = await run('npm', ['pack', '--json', '--pack-destination', workDir], repoRoot, 60000);
    assert.equal(packed.code, 0, `npm pack failed:\n${packed.out}`);
    // The JSON array, without what the prepack build and npm's notices print around it.
    const start = packed.out.search(/^\[/m);
    const end = packed.out.search(/^\]/m);
    const json = packed.out.slice(start, end + 1);
    const info = JSON.parse(json) as { filename: string }[];
    tarball = path.join(workDir, info[0].filename);
    assert.ok(fs.existsSync(tarball), `${tarball} written`);
    const listed = await run('tar', ['tzf', tarball], workDir, 30000);
    assert.equal(listed.code, 0, listed.out);
    entries = listed.out
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => l.replace(/^package\//, ''));
  });

  after(async () => {
    for (const proc of running) await proc.stop();
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    for (const dir of userDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the tarball holds every node (js, html, locales, icons), the examples, package.json, README.md and LICENSE', () => {
    const has = new Set(entries);
    const missing: string[] = [];
    const need = (p: string): void => {
      if (!has.has(p)) missing.push(p);
    };
    for (const f of ['package.json', 'README.md', 'LICENSE']) need(f);
    for (const f of exampleFiles()) need(`examples/${f}`);
    for (const [type, js] of Object.entries(pkg['node-red'].nodes)) {
      const dir = path.posix.dirname(js);
      const base = path.posix.basename(js, '.js');
      need(js);
      need(`${dir}/${base}.html`);
      need(`${dir}/locales/en-US/${base}.json`);
      // The icon the editor definition names is shipped beside the node.
      const html = fs.readFileSync(path.join(repoRoot, dir, `${base}.html`), 'utf8');
      const icon = /RED\.nodes\.registerType\(\s*['"][^'"]+['"][\s\S]*?\bicon:\s*['"]([^'"]+)['"]/.exec(html)?.[1];
      assert.ok(icon, `${type} names an icon`);
      if (!icon.startsWith('font-awesome/')) need(`${dir}/icons/${icon}`);
      // Help for the editor's help sidebar: in the locale folder or in the node's html.
      const helpInLocale = has.has(`${dir}/locales/en-US/${base}.html`);
      assert.ok(helpInLocale || /data-help-name=/.test(html), `${type} ships its help text`);
    }
    assert.deepEqual(missing, [], 'missing from the tarball');
    // The only code shipped is the build output.
    for (const e of entries.filter((x) => x.endsWith('.js'))) assert.ok(e.startsWith('dist/'), `${e} is built code`);
  });

  test('the tarball holds no tests, sources, secrets or build leftovers', () => {
    const forbidden: [RegExp, string][] = [
      [/^test\//, 'tests'],
      [/^\.test-build\//, 'the test build'],
      [/^src\//, 'TypeScript sources'],
      [/^bench\//, 'benchmarks'],
      [/^scripts\//, 'build scripts'],
      [/^\.ci\//, 'CI scripts'],
      [/^\.github\//, 'CI configuration'],
      [/(^|\/)node_modules\//, 'node_modules'],
      [/(^|\/)tsconfig[^/]*\.json$/, 'tsconfig'],
      [/\.map$/, 'source maps'],
      [/\.tgz$/, 'packed tarballs'],
      [/\.(key|pem|crt|p12|pfx|csr)$/i, 'keys or certificates'],
      [/(^|\/)flows_cred\.json$/, 'flow credentials'],
      [/(^|\/)\.start-userdir\//, 'the npm start user directory'],
      [/(^|\/)test-artifacts\//, 'test artifacts'],
      [/(^|\/)\.env(\.|$)/, 'environment files'],
      [/(^|\/)\.npmrc$/, 'npm configuration'],
      [/\.(log|tmp|tmp\.js)$/, 'logs or temporary files'],
    ];
    const bad = entries.flatMap((e) => forbidden.filter(([re]) => re.test(e)).map(([, why]) => `${e} (${why})`));
    assert.deepEqual(bad, [], 'the tarball must not hold these');
    const size = fs.statSync(tarball).size;
    assert.ok(size < 2 * 1024 * 1024, `the tarball is small (${size} bytes)`);
  });

  /** A fresh user directory with the package.json Node-RED writes, and the tarball installed by npm as the palette manager runs it. */
  async function installTarball(timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<{ dir: string; out: string }> {
    const dir = makeUserDir();
    userDirs.push(dir);
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true }, null, 4),
    );
    // --prefer-offline only lets npm use its cache for what it fetched before; the rest is the palette manager's.
    const installed = await run('npm', ['install', ...PALETTE_MANAGER_ARGS, '--prefer-offline', '--', tarball], dir, timeoutMs, env);
    assert.equal(installed.code, 0, `npm install of the tarball failed:\n${installed.out}`);
    const modDir = path.join(dir, 'node_modules', ...pkg.name.split('/'));
    assert.ok(fs.statSync(modDir).isDirectory() && !fs.lstatSync(modDir).isSymbolicLink(), 'installed as files, not a link');
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
    assert.ok(saved.dependencies?.[pkg.name], `the user directory's package.json lists ${pkg.name}`);
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      assert.ok(fs.existsSync(path.join(dir, 'node_modules', dep, 'package.json')), `dependency ${dep} installed`);
    }
    for (const dev of Object.keys(pkg.devDependencies ?? {})) {
      // @types/* may arrive through a dependency; the pack's own tool chain must not.
      if (dev.startsWith('@types/')) continue;
      assert.ok(!fs.existsSync(path.join(dir, 'node_modules', dev)), `dev dependency ${dev} not installed`);
    }
    return { dir, out: installed.out };
  }

  function optionalModules(dir: string): Record<string, boolean> {
    return Object.fromEntries(
      Object.keys(pkg.optionalDependencies ?? {}).map((dep) => [dep, fs.existsSync(path.join(dir, 'node_modules', dep, 'package.json'))]),
    );
  }

  /** Starts Node-RED on the user directory and checks through the admin API that every node type loaded. */
  async function checkNodesLoad(dir: string): Promise<{ red: NodeRedProcess; sets: NodeSet[] }> {
    const proc = await startNodeRed({ userDir: dir, linkPack: false });
    running.push(proc);
    const res = await fetch(`${proc.url}/nodes`, { headers: { Accept: 'application/json' } });
    assert.equal(res.status, 200);
    const sets = (await res.json()) as NodeSet[];
    const ours = sets.filter((s) => s.module === pkg.name);
    const problems: string[] = [];
    for (const type of TYPES) {
      const set = ours.find((s) => s.types.includes(type));
      if (!set) problems.push(`${type}: not registered`);
      else if (set.err) problems.push(`${type}: ${set.err}`);
      else if (!set.enabled || !set.local) problems.push(`${type}: enabled=${set.enabled} local=${set.local}`);
      else if (set.version !== pkg.version) problems.push(`${type}: version ${set.version}, expected ${pkg.version}`);
    }
    assert.deepEqual(problems, [], `node sets of ${pkg.name}:\n${JSON.stringify(ours, null, 2)}\n${proc.log()}`);
    assert.deepEqual(ours.flatMap((s) => s.types).sort(), [...TYPES].sort(), 'no other type registered');
    // Loaded from the user directory, not from this checkout.
    const installedAt = path.join(dir, 'node_modules', pkg.name);
    assert.ok(proc.log().includes(`Module: ${pkg.name} ${pkg.version} ${installedAt}`), `loaded from ${installedAt}:\n${proc.log()}`);
    assert.doesNotMatch(proc.log(), /\[(error|warn)\][^\n]*(secure-telemetry|secure-mqtt|telemetry-)/i, 'no load warning');
    return { red: proc, sets };
  }

  test('installed into a fresh user directory with the palette manager’s npm command, Node-RED loads every node and example', async (t) => {
    // The whole file must end within the runner's 180 s: the first install may fetch from the registry.
    const { dir } = await installTarball(110000);
    t.diagnostic(`optional dependencies installed: ${JSON.stringify(optionalModules(dir))}`);
    const { red, sets } = await checkNodesLoad(dir);

    // Examples: the library API the editor's Import > Examples reads.
    const base = `/library/examples/flows/${pkg.name}`;
    const list = await red.api('GET', base);
    assert.equal(list.status, 200, list.text);
    const offered = (list.json as { fn: string }[]).map((e) => e.fn).sort();
    assert.deepEqual(offered, exampleFiles().map((f) => path.basename(f, '.json')), 'every file of examples/ is offered');
    const known = new Set(sets.flatMap((s) => s.types));
    for (const fn of offered) {
      const ex = await red.api('GET', `${base}/${fn}`);
      assert.equal(ex.status, 200);
      assert.deepEqual(ex.json, JSON.parse(fs.readFileSync(path.join(repoRoot, 'examples', `${fn}.json`), 'utf8')) as unknown, `${fn} served intact`);
      // Every node type an example uses is one Node-RED now knows.
      const unknown = (ex.json as { type: string }[])
        .map((n) => n.type)
        .filter((type) => type !== 'tab' && type !== 'group' && !type.startsWith('subflow') && !known.has(type));
      assert.deepEqual([...new Set(unknown)], [], `${fn} uses only known node types`);
    }
  });

  test('with no working C compiler the optional hardware modules are skipped, the install succeeds and every node loads', async (t) => {
    // As on a device without build tools: i2c-bus and onoff (epoll) cannot compile their native parts.
    // npm's cache is warm from the install above.
    const { dir } = await installTarball(45000, { CC: '/bin/false', CXX: '/bin/false' });
    const usable = Object.fromEntries(
      Object.entries(optionalModules(dir)).map(([dep, present]) => {
        if (!present) return [dep, 'skipped by npm'];
        try {
          require(path.join(dir, 'node_modules', dep)) as unknown;
          return [dep, 'usable'];
        } catch {
          return [dep, 'installed but not built'];
        }
      }),
    );
    t.diagnostic(`optional dependencies: ${JSON.stringify(usable)}`);
    assert.ok(Object.values(usable).some((u) => u !== 'usable'), 'the scenario really left a hardware module unusable');
    await checkNodesLoad(dir);
  });
});
