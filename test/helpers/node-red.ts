// node-red-node-test-helper with the types our tests use; the real Node-RED runtime underneath.
import type { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LogEntry {
  level: number;
  msg: unknown;
  type?: string;
  id?: string;
}

export interface TestNode extends EventEmitter {
  id: string;
  type: string;
  receive(msg: object): void;
  credentials?: Record<string, unknown>;
}

interface SpyCall {
  args: unknown[];
}

interface LogSpy {
  args: Array<[LogEntry]>;
  WARN: number;
  ERROR: number;
  INFO: number;
}

export type FlowNode = { id: string; type: string; [key: string]: unknown };
export type NodeModule = (red: unknown) => void;

export interface Helper {
  init(runtimePath: string, settings?: object): void;
  settings(s: object): object;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  load(nodes: NodeModule | NodeModule[], flow: FlowNode[], credentials?: Record<string, object>): Promise<void>;
  unload(): Promise<void>;
  /** Deploys a changed flow the way the editor does: 'nodes' restarts only the nodes that changed (and their users). */
  setFlows(flow: FlowNode[], type: 'full' | 'flows' | 'nodes', credentials?: Record<string, object>): Promise<void>;
  getNode(id: string): TestNode;
  log(): LogSpy;
  request(): { get(path: string): SuperRequest; post(path: string): SuperRequest };
}

export interface SuperRequest extends PromiseLike<{ status: number; body: unknown; text: string }> {
  set(name: string, value: string): SuperRequest;
  send(body: unknown): SuperRequest;
}


export const helper = require('node-red-node-test-helper') as Helper;
helper.init(require.resolve('node-red'));
// Nodes write under the user directory (the disk spool, a kept session's subscriptions). The helper has none, and
// the nodes would fall back to the working directory, the checkout: every test process gets a directory of its own,
// also after a test's helper.settings({}).
const defaultUserDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nrst-helper-userdir-'));
const setSettings = helper.settings.bind(helper);
helper.settings = (s: object): object => setSettings({ userDir: defaultUserDir, ...s });
helper.settings({});

export const root = path.resolve(__dirname, '..', '..');

/** The compiled node modules (loaded from the test build, which mirrors src/). */
export function nodeModule(name: string): NodeModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(root, 'src', 'nodes', name, `${name}.js`)) as NodeModule;
}

/** Node-RED's own tls-config node, as users configure TLS. */
export function tlsConfigModule(): NodeModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('@node-red/nodes/core/network/05-tls.js') as NodeModule;
}

/** Log lines (any level) whose text contains `needle`. */
export function logLines(needle: string): string[] {
  return helper
    .log()
    .args.map(([e]) => (typeof e.msg === 'string' ? e.msg : String(JSON.stringify(e.msg))))
    .filter((m) => m.includes(needle));
}

/** Every status text the node reports from now on, in order. */
export function statuses(id: string): string[] {
  const seen: string[] = [];
  helper.getNode(id).on('call:status', (c: { args: Array<{ text?: string }> }) => seen.push(c.args[0]?.text ?? ''));
  return seen;
}

/** Resolves with the first status a node reports that satisfies the predicate. */
export function waitForStatus(
  node: TestNode,
  pred: (s: { fill?: string; shape?: string; text?: string }) => boolean,
  timeoutMs = 10000,
): Promise<{ fill?: string; shape?: string; text?: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      node.removeListener('call:status', on);
      reject(new Error(`status not seen within ${timeoutMs} ms`));
    }, timeoutMs);
    function on(call: SpyCall): void {
      const s = call.args[0] as { fill?: string; text?: string };
      if (pred(s)) {
        clearTimeout(timer);
        node.removeListener('call:status', on);
        resolve(s);
      }
    }
    node.on('call:status', on);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
