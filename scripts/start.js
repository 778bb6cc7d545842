#!/usr/bin/env node
// `npm start`: Node-RED on 127.0.0.1:1880 with this pack and the demo flow deployed. Simulated sensors; when nothing
// listens on 127.0.0.1:1883, an embedded broker there: Mosquitto when it is installed, else aedes (MQTT 3.1.1 only).
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const userDir = process.env.NRST_USERDIR || path.join(root, '.start-userdir');
const DEMO = path.join(root, 'examples', '01-simulated-bme280-senml-publish.json');
const MQTT_PORT = Number(process.env.NRST_MQTT_PORT || 1883);
const UI_PORT = Number(process.env.PORT || 1880);

function listening(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitListening(port, ms) {
  const deadline = Date.now() + ms;
  while (!(await listening(port))) {
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function mosquittoInstalled() {
  return !spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error;
}

async function startMosquitto() {
  const conf = path.join(userDir, 'mosquitto.conf');
  fs.writeFileSync(conf, `listener ${MQTT_PORT} 127.0.0.1\nallow_anonymous true\n`);
  const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  try {
    await Promise.race([
      waitListening(MQTT_PORT, 5000),
      new Promise((_, reject) => proc.once('exit', (code) => reject(new Error(`mosquitto exited (${code}): ${stderr.trim()}`)))),
    ]);
  } catch (err) {
    // The fallback broker needs the port: a Mosquitto that is alive but not listening must not keep it.
    proc.kill('SIGKILL');
    throw err;
  }
  console.log(`[start] embedded MQTT broker (Mosquitto) listening on 127.0.0.1:${MQTT_PORT}`);
  const close = () =>
    new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  return { mqtt5: true, close };
}

async function startAedes() {
  const broker = require('aedes')();
  const server = net.createServer(broker.handle);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(MQTT_PORT, '127.0.0.1', resolve);
  });
  console.log(`[start] embedded MQTT broker (aedes, MQTT 3.1.1 only) listening on 127.0.0.1:${MQTT_PORT}`);
  return { mqtt5: false, close: () => new Promise((r) => broker.close(() => server.close(() => r()))) };
}

async function embeddedBroker() {
  if (await listening(MQTT_PORT)) {
    console.log(`[start] using the MQTT broker already listening on 127.0.0.1:${MQTT_PORT}`);
    return { mqtt5: true, close: async () => undefined };
  }
  if (process.env.NRST_BROKER !== 'aedes' && mosquittoInstalled()) {
    try {
      return await startMosquitto();
    } catch (err) {
      console.log(`[start] Mosquitto did not start (${err.message}); using aedes instead`);
    }
  }
  return startAedes();
}

/** The demo flow, pointed at the broker this script found or started. */
function demoFlow(broker) {
  const flow = JSON.parse(fs.readFileSync(DEMO, 'utf8'));
  for (const n of flow) {
    if (n.type !== 'secure-mqtt-broker') continue;
    n.port = String(MQTT_PORT);
    if (!broker.mqtt5) n.protocolVersion = '4';
  }
  return flow;
}

function prepareUserDir(broker) {
  fs.mkdirSync(path.join(userDir, 'node_modules', '@iotsec'), { recursive: true });
  const link = path.join(userDir, 'node_modules', '@iotsec', 'node-red-secure-telemetry');
  if (!fs.existsSync(link)) fs.symlinkSync(root, link, 'dir');
  const settings = {
    uiHost: '127.0.0.1',
    uiPort: UI_PORT,
    flowFile: 'flows.json',
    // A fixed secret for this local demo directory only; a real installation sets its own.
    credentialSecret: 'npm-start-demo-only',
    editorTheme: { tours: false, projects: { enabled: false } },
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
  };
  fs.writeFileSync(path.join(userDir, 'settings.js'), `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
  const flows = path.join(userDir, 'flows.json');
  if (!fs.existsSync(flows)) {
    fs.writeFileSync(flows, JSON.stringify(demoFlow(broker), null, 2));
    console.log(`[start] deployed the demo flow ${path.relative(root, DEMO)}${broker.mqtt5 ? '' : ' (set to MQTT 3.1.1 for aedes)'}`);
  } else {
    console.log(`[start] keeping your flows in ${flows} (delete the file to get the demo again)`);
  }
}

async function main() {
  fs.mkdirSync(userDir, { recursive: true });
  const broker = await embeddedBroker();
  prepareUserDir(broker);
  const red = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir], { stdio: 'inherit' });
  console.log(`[start] open http://127.0.0.1:${UI_PORT}/ and the debug sidebar`);
  const stop = (sig) => red.kill(sig);
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  red.on('exit', async (code) => {
    await broker.close();
    process.exit(code ?? 0);
  });
}

main().catch((err) => {
  console.error(`[start] ${err.message}`);
  process.exit(1);
});
