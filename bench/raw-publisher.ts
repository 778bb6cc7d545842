// Raw MQTT.js in its own process, like the Node-RED runtime: connects (TLS when given a CA file), says "ready", and
// on "go <n> <qos>" publishes a burst, answering "sent <wall-clock ms>" when MQTT.js has called back for every
// message (QoS 0 written, QoS 1 acknowledged).
import mqtt from 'mqtt';
import fs from 'node:fs';
import readline from 'node:readline';
import { wallNow } from './wall-clock';

async function main(): Promise<void> {
  const [port, caFile] = [Number(process.argv[2]), process.argv[3]];
  const tls = caFile ? { protocol: 'mqtts' as const, host: 'localhost', ca: fs.readFileSync(caFile), rejectUnauthorized: true } : { host: '127.0.0.1' };
  const client = await mqtt.connectAsync({ ...tls, port, clientId: `bench-raw-${process.pid}` });
  const payload = JSON.stringify({ temperature: 21.5, humidity: 40.1 });
  process.stdout.write('ready\n');
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const [cmd, n, qos] = line.split(' ');
    if (cmd !== 'go') break;
    const total = Number(n);
    const q = Number(qos) === 1 ? 1 : 0;
    let done = 0;
    for (let i = 0; i < total; i++) {
      client.publish('bench/raw', payload, { qos: q }, () => {
        if (++done === total) process.stdout.write(`sent ${wallNow()}\n`);
      });
    }
  }
  await client.endAsync();
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
