// A real Node-RED runtime in its own process, with the pack installed in a fresh user directory,
// for tests that need what users meet: the admin HTTP API, the flows file, restarts, the editor.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { logCounter } from './log-count';
import { freePort } from './ports';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
const PACKAGE_NAME = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string }).name;

export interface NodeRedOptions {
  /** Reuse a user directory (to restart a runtime with its flows, credentials and spool). */
  userDir?: string;
  flows?: object[];
  /** Credentials by node id, written encrypted the way the editor's deploy would. */
  credentials?: Record<string, object>;
  /** Turns on adminAuth with one user (password "admin-pass"). */
  adminAuth?: boolean;
  /** Install the pack as a symlink to this checkout (default) or not at all (the caller installs it). */
  linkPack?: boolean;
  extraSettings?: Record<string, unknown>;
  /** Extra Node.js options for the runtime process (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Extra environment variables for the runtime process. */
  env?: Record<string, string>;
}

export interface NodeRedProcess {
  port: number;
  pid: number;
  url: string;
  userDir: string;
  log(): string;
  /** How many times a pattern occurs in the log so far (whole lines). */
  count(pattern: RegExp): number;
  /** Admin API request; `token` from login() when adminAuth is on. */
  api(method: string, p: string, body?: unknown, token?: string): Promise<{ status: number; json: unknown; text: string }>;
  login(): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

// bcrypt hash of "admin-pass" (cost 8), so tests need no bcrypt of their own.
const ADMIN_HASH = '$2b$08$3z3ZIPKmUcaPnvwlaKew9OAF5HPRu/pbG6ct66HUbG7tLgmQXdA0C';

// Runtimes still running when the test process exits (a failed test that skipped its cleanup) die with it.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export function makeUserDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nrst-userdir-'));
  return dir;
}

export function linkPack(userDir: string): void {
  const target = path.join(userDir, 'node_modules', ...PACKAGE_NAME.split('/'));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (!fs.existsSync(target)) fs.symlinkSync(repoRoot, target, 'dir');
}

export async function startNodeRed(opts: NodeRedOptions = {}): Promise<NodeRedProcess> {
  const userDir = opts.userDir ?? makeUserDir();
  const port = await freePort();
  if (opts.linkPack !== false) linkPack(userDir);
  const settings: Record<string, unknown> = {
    uiHost: '127.0.0.1',
    uiPort: port,
    flowFile: 'flows.json',
    credentialSecret: 'test-credential-secret',
    logging: { console: { level: 'debug', metrics: false, audit: false } },
    editorTheme: { tours: false, projects: { enabled: false } },
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    ...opts.extraSettings,
  };
  if (opts.adminAuth) {
    settings.adminAuth = { type: 'credentials', users: [{ username: 'admin', password: ADMIN_HASH, permissions: '*' }] };
  }
  fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  if (opts.flows) fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(opts.flows, null, 2));

  const red = require.resolve('node-red/red.js');
  let logText = '';
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), red, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false', ...opts.env },
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  // Whole lines only: a chunk of stderr (debug output, say) must not land in the middle of a stdout line.
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const end = text.lastIndexOf('\n') + 1;
      logText += text.slice(0, end);
      partial = text.slice(end);
    });
    stream?.on('end', () => (logText += partial));
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;

  const api: NodeRedProcess['api'] = async (method, p, body, token) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(url + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text) as unknown;
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  };

  const proc: NodeRedProcess = {
    port,
    pid: child.pid ?? 0,
    url,
    userDir,
    log: () => logText,
    count: logCounter(() => logText),
    api,
    login: async () => {
      const res = await fetch(`${url}/auth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'admin', password: 'admin-pass' }),
      });
      const json = (await res.json()) as { access_token?: string };
      if (!json.access_token) throw new Error(`login failed: ${res.status}`);
      return json.access_token;
    },
    stop: async (signal = 'SIGINT') => {
      if (child.exitCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      await exited;
      clearTimeout(timer);
    },
  };

  const deadline = Date.now() + 30000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited at start:\n${logText}`);
    // The runtime's own words, in en-US or zh-CN (settings.lang).
    if (/Started flows|Server now running|流程已启动|服务器现在/.test(logText) && /Started flows|Stopped flows|No flows found|流程已启动|流程已停止/.test(logText)) {
      try {
        if ((await fetch(`${url}/settings`)).status < 500) break;
      } catch {
        // not listening yet
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Node-RED did not start in 30 s:\n${logText}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (opts.credentials) {
    // Deploy through the admin API with credentials, exactly as the editor does.
    const token = opts.adminAuth ? await proc.login() : undefined;
    const flows = (opts.flows ?? []).map((n) => {
      const id = (n as { id: string }).id;
      const creds = opts.credentials?.[id];
      return creds ? { ...n, credentials: creds } : n;
    });
    const res = await api('POST', '/flows', { flows }, token);
    if (res.status >= 300) throw new Error(`deploy failed: ${res.status} ${res.text}`);
  }
  return proc;
}
