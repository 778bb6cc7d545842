// The README's first command: `npm start` (its script, after the build the test run has done) brings up Node-RED
// with the demo flow and an embedded broker, and simulated readings reach that broker.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { waitFor } from '../helpers/broker';
import { watch } from '../helpers/mqtt-watch';
import { freePort, isPortOpen, waitForPort } from '../helpers/ports';

const root = path.resolve(__dirname, '..', '..', '..');

async function runStart(env: Record<string, string>): Promise<{ child: ChildProcess; out: () => string; uiPort: number; mqttPort: number; userDir: string }> {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nrst-start-'));
  const uiPort = await freePort();
  const mqttPort = await freePort();
  let out = '';
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'start.js')], {
    env: { ...process.env, NRST_USERDIR: userDir, PORT: String(uiPort), NRST_MQTT_PORT: String(mqttPort), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out, uiPort, mqttPort, userDir };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

describe('npm start', () => {
  for (const [label, env, broker] of [
    ['Mosquitto installed', {}, /embedded MQTT broker \(Mosquitto\)/],
    ['aedes fallback (MQTT 3.1.1)', { NRST_BROKER: 'aedes' }, /embedded MQTT broker \(aedes, MQTT 3\.1\.1 only\)/],
  ] as const) {
    test(`${label}: the editor answers, the demo flow runs, and readings reach the embedded broker`, async () => {
      const run = await runStart(env);
      try {
        await waitForPort(run.uiPort, 60000).catch((e: Error) => assert.fail(`${e.message}\n${run.out()}`));
        assert.match(run.out(), broker);
        const editor = await fetch(`http://127.0.0.1:${run.uiPort}/`);
        assert.equal(editor.status, 200);
        const sub = await watch(run.mqttPort, 'sensors/#', { protocolVersion: 4, reconnectPeriod: 0 });
        const reading = await waitFor(() => sub.received.find((m) => m.topic === 'sensors/demo-pi/senml'), 30000, `a SenML reading; output:\n${run.out()}`);
        const parsed: unknown = JSON.parse(reading.payload.toString());
        const senml = parsed as Array<{ n?: string; bn?: string; v?: number }>;
        assert.ok(Array.isArray(senml) && senml.some((r) => typeof r.v === 'number' && Number.isFinite(r.v)), reading.payload.toString());
        await sub.close();
      } finally {
        await stop(run.child);
        fs.rmSync(run.userDir, { recursive: true, force: true });
      }
      assert.equal(await isPortOpen(run.mqttPort), false, 'the embedded broker stopped with the script');
    });
  }
});
