import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { helper, nodeModule } from '../helpers/node-red';
import { attachUser, waitFor } from '../helpers/broker';
import type { BrokerNode } from '../../src/nodes/shared/broker-node';
import { runtimeWithBroker } from '../helpers/runtime-with-broker';

describe('secure-mqtt-broker: reconnect with backoff', () => {
  const rig = runtimeWithBroker();

  test('broker stopped and started again: status tells the truth, delays grow, then it reconnects', async () => {
    await helper.load(nodeModule('secure-mqtt-broker'), [
      { id: 'b1', type: 'secure-mqtt-broker', host: '127.0.0.1', port: rig.mosq.port, reconnectMin: '0.1', reconnectMax: '5', clientId: 'rc-1' },
    ]);
    const node = helper.getNode('b1') as unknown as BrokerNode;
    const connection = node.connection;
    assert.ok(connection);
    // One ordered list: a refused attempt and the retry it schedules can fall in the same millisecond.
    const events: Array<{ kind: 'retry' | 'attempt'; at: number; delayMs: number }> = [];
    const retries = (): Array<{ at: number; delayMs: number }> => events.filter((e) => e.kind === 'retry');
    connection.on('retry', (r) => events.push({ kind: 'retry', at: Date.now(), delayMs: r.delayMs }));
    connection.on('state', (c) => c.state === 'connecting' && events.push({ kind: 'attempt', at: Date.now(), delayMs: 0 }));
    const seen = attachUser(node);
    await waitFor(() => seen.find((s) => s.text === 'connected'), 5000, 'first connect');

    await rig.mosq.stop();
    await waitFor(() => seen.find((s) => s.fill === 'red'), 5000, 'disconnected status');
    await waitFor(() => retries().length >= 5, 10000, 'five retries');
    await rig.mosq.start();
    await waitFor(() => seen.filter((s) => s.text === 'connected').length >= 2, 10000, 'reconnected');

    const delays = retries().slice(0, 5).map((r) => r.delayMs);
    for (let i = 1; i < delays.length; i++) assert.ok(delays[i] > delays[i - 1], `delays grow: ${delays.join(', ')}`);
    assert.ok(delays[0] >= 70 && delays[0] <= 100, `first delay near the minimum: ${delays[0]}`);
    // Every real attempt waited at least the delay chosen before it (a lower bound, so load cannot make it flaky).
    const retryIndexes = events.flatMap((e, i) => (e.kind === 'retry' ? [i] : []));
    for (let i = 0; i < 4; i++) {
      const retry = events[retryIndexes[i]];
      const next = events.slice(retryIndexes[i] + 1).find((e) => e.kind === 'attempt');
      assert.ok(next !== undefined && next.at - retry.at >= retry.delayMs - 5, `attempt ${i} waited its delay: ${JSON.stringify(events.slice(0, 12))}`);
    }
    const reasons = seen.filter((s) => s.fill === 'red').map((s) => s.text);
    assert.ok(reasons.every((r) => /connection refused|closed by broker|reset/.test(r ?? '')), reasons.join(' | '));
    assert.ok(!seen.slice(seen.findIndex((s) => s.fill === 'red')).slice(0, -1).some((s) => s.text === 'connected'),
      'never "connected" while the broker is gone');
  });
});
