// A runtime set to Chinese (settings.lang) tells connection failures in Chinese: the catalogues are found next to
// the built nodes and the failure reasons go through them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../helpers/broker';
import { startNodeRed } from '../helpers/node-red-process';
import { freePort } from '../helpers/ports';

test('settings.lang zh-CN: a refused connection is logged as 连接被拒绝', async () => {
  const port = await freePort(); // nothing listens there
  const red = await startNodeRed({
    extraSettings: { lang: 'zh-CN' },
    flows: [
      { id: 't1', type: 'tab', label: 'zh' },
      { id: 'b1', type: 'secure-mqtt-broker', host: '127.0.0.1', port: String(port), clientId: 'zh-1', reconnectMin: '0.2', reconnectMax: '0.5' },
      { id: 'p1', type: 'secure-mqtt-out', z: 't1', broker: 'b1', topic: 'a/b', wires: [[], []] },
    ],
  });
  try {
    const line = await waitFor(() => red.log().split('\n').find((l) => l.includes('[secure-mqtt-broker:b1]')), 10000, 'the broker node logs the failure');
    assert.match(line, new RegExp(`mqtt://127\\.0\\.0\\.1:${port}: 连接被拒绝 \\(端口上没有服务在监听\\)`));
  } finally {
    await red.stop();
  }
});
