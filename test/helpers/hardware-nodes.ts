// Helpers for the hardware node tests: record what a node reports, wait for conditions, hold a backend's
// openings until the test is listening.
import type { HardwareBackend } from '../../src/lib/hardware/backend';
import type { NodeMessage, NodeStatus } from '../../src/nodes/shared/node-red';
import { helper, sleep, type TestNode } from './node-red';

export interface Recorded {
  status: NodeStatus[];
  errors: Array<{ err: unknown; msg: unknown }>;
  sent: NodeMessage[];
}

interface SpyCall {
  args: unknown[];
}

/** Records statuses and errors of `node` and the messages `sink` (a helper node wired to it) receives. */
export function record(node: TestNode, sink?: TestNode): Recorded {
  const r: Recorded = { status: [], errors: [], sent: [] };
  node.on('call:status', (c: SpyCall) => r.status.push(c.args[0] as NodeStatus));
  node.on('call:error', (c: SpyCall) => r.errors.push({ err: c.args[0], msg: c.args[1] }));
  sink?.on('input', (m: NodeMessage) => r.sent.push(m));
  return r;
}

export async function until<T>(fn: () => T | undefined | false, what: string, timeoutMs = 10000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Lets pending callbacks, next ticks and the helper's spy events run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
}

export function errorText(e: { err: unknown }): string {
  return e.err instanceof Error ? e.err.message : String(e.err);
}

/** A backend whose GPIO openings wait until `release()`, so a test can listen before the node starts. */
export function gateGpio(backend: HardwareBackend): { backend: HardwareBackend; release(): void } {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  return {
    backend: { ...backend, openGpio: async (pin, opts) => gate.then(() => backend.openGpio(pin, opts)) },
    release: () => open(),
  };
}

/** Logged lines containing `needle`; Error objects are matched by their message. */
export function logged(needle: string): string[] {
  return helper
    .log()
    .args.map(([e]) => (e.msg instanceof Error ? e.msg.message : typeof e.msg === 'string' ? e.msg : String(JSON.stringify(e.msg))))
    .filter((m) => m.includes(needle));
}
