// Flows and collectors for tests of the publish node.
import { helper, type FlowNode, type TestNode } from './node-red';
import { waitFor } from './broker';

export interface Collected {
  ok: Array<Record<string, unknown>>;
  notSent: Array<Record<string, unknown>>;
  caught: Array<Record<string, unknown>>;
  completed: Array<Record<string, unknown>>;
}

export function publishFlow(port: number, out: Record<string, unknown> = {}, brokerFields: Record<string, unknown> = {}): FlowNode[] {
  return [
    { id: 'b1', type: 'secure-mqtt-broker', host: '127.0.0.1', port, reconnectMin: '0.1', reconnectMax: '0.5', ...brokerFields },
    { id: 'p1', type: 'secure-mqtt-out', broker: 'b1', wires: [['okSink'], ['errSink']], ...out },
    { id: 'okSink', type: 'helper' },
    { id: 'errSink', type: 'helper' },
    { id: 'c1', type: 'catch', scope: ['p1'], uncaught: false, wires: [['catchSink']] },
    { id: 'catchSink', type: 'helper' },
    { id: 'done1', type: 'complete', scope: ['p1'], uncaught: false, wires: [['completeSink']] },
    { id: 'completeSink', type: 'helper' },
  ];
}

export function collect(): Collected {
  const c: Collected = { ok: [], notSent: [], caught: [], completed: [] };
  helper.getNode('okSink').on('input', (m: Record<string, unknown>) => c.ok.push(m));
  helper.getNode('errSink').on('input', (m: Record<string, unknown>) => c.notSent.push(m));
  helper.getNode('catchSink').on('input', (m: Record<string, unknown>) => c.caught.push(m));
  helper.getNode('completeSink').on('input', (m: Record<string, unknown>) => c.completed.push(m));
  return c;
}

/** True while the config node `b1` has its connection up. */
export function brokerUp(id = 'b1'): boolean {
  return (helper.getNode(id) as unknown as { connection?: { connected: boolean } }).connection?.connected === true;
}

/** Waits for the connection, then returns the publish node. */
export async function connected(id = 'p1'): Promise<TestNode> {
  await waitFor(() => brokerUp(), 5000, 'connected');
  return helper.getNode(id);
}
