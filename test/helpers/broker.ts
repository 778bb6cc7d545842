// Helpers for tests of nodes that use the broker config node.
import type { BrokerNode } from '../../src/nodes/shared/broker-node';
import type { NodeStatus } from '../../src/nodes/shared/node-red';
import { sleep } from './node-red';

/** Registers a stand-in user so the config node connects, and records every status it fans out. */
export function attachUser(node: BrokerNode): NodeStatus[] {
  const seen: NodeStatus[] = [];
  node.register({ status: (s) => seen.push(s) });
  return seen;
}

export async function waitFor<T>(fn: () => T | undefined | false, timeoutMs = 10000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
