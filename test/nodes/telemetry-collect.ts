// Collects what a node sends to wired `helper` nodes, and waits for a number of messages by event, not by sleeping.
import { helper, type FlowNode } from '../helpers/node-red';

export type Msg = Record<string, unknown>;

export interface Outputs {
  out: Msg[];
  bad: Msg[];
  /** Resolves when `out` has n messages and `bad` has m (rejects after a safety timeout). */
  until(n: number, m?: number): Promise<void>;
}

/** The node under test with id 'n1', wired to helper nodes 'out' (output 1) and 'bad' (output 2). */
export function flowWith(node: { type: string; [key: string]: unknown }): FlowNode[] {
  return [
    { id: 'n1', wires: [['out'], ['bad']], ...node },
    { id: 'out', type: 'helper' },
    { id: 'bad', type: 'helper' },
  ];
}

export function collect(): Outputs {
  const out: Msg[] = [];
  const bad: Msg[] = [];
  const waiters: Array<() => void> = [];
  const notify = (): void => {
    for (const w of waiters.splice(0)) w();
  };
  helper.getNode('out').on('input', (m: Msg) => {
    out.push(m);
    notify();
  });
  helper.getNode('bad').on('input', (m: Msg) => {
    bad.push(m);
    notify();
  });
  return {
    out,
    bad,
    until(n: number, m = 0): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${n}/${m} messages, got ${out.length}/${bad.length}`)), 5000);
        const check = (): void => {
          if (out.length >= n && bad.length >= m) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

/** Lets already-queued message deliveries run, to check that nothing more arrives. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
