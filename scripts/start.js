#!/usr/bin/env node
// `npm start`: Node-RED on 127.0.0.1:1880 with this pack and the demo flow deployed. Simulated sensors;
// an embedded MQTT broker (aedes) on 127.0.0.1:1883 when nothing listens there already.
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const userDir = process.env.NRST_USERDIR || path.join(root, '.start-userdir');
const DEMO = path.join(root, 'examples', '01-simulated-bme280-senml-publish.json');
const MQTT_PORT = 1883;
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

async function embeddedBroker() {
  if (await listening(MQTT_PORT)) {
    console.log(`[start] using the MQTT broker already listening on 127.0.0.1:${MQTT_PORT}`);
    return undefined;
  }
  const broker = require('aedes')();
  const server = net.createServer(broker.handle);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(MQTT_PORT, '127.0.0.1', resolve);
  });
  console.log(`[start] embedded MQTT broker (aedes) listening on 127.0.0.1:${MQTT_PORT}`);
  return { close: () => new Promise((r) => broker.close(() => server.close(() => r()))) };
}

function prepareUserDir() {
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
    fs.copyFileSync(DEMO, flows);
    console.log(`[start] deployed the demo flow ${path.relative(root, DEMO)}`);
  } else {
    console.log(`[start] keeping your flows in ${path.relative(root, flows)} (delete the file to get the demo again)`);
  }
}

async function main() {
  prepareUserDir();
  const broker = await embeddedBroker();
  const red = spawn(process.execPath, [require.resolve('node-red/red.js'), '--userDir', userDir], { stdio: 'inherit' });
  console.log(`[start] open http://127.0.0.1:${UI_PORT}/ and the debug sidebar`);
  const stop = (sig) => red.kill(sig);
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  red.on('exit', async (code) => {
    if (broker) await broker.close();
    process.exit(code ?? 0);
  });
}

main().catch((err) => {
  console.error(`[start] ${err.message}`);
  process.exit(1);
});
