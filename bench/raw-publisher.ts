// Raw MQTT.js in its own process, like the Node-RED runtime: connects, says "ready", and on "go <n> <qos>" publishes
// a burst, answering "sent" when MQTT.js has handed every message over (QoS 0 written, QoS 1 acknowledged).
import mqtt from 'mqtt';
import readline from 'node:readline';

async function main(): Promise<void> {
  const port = Number(process.argv[2]);
  const client = await mqtt.connectAsync({ host: '127.0.0.1', port, clientId: `bench-raw-${process.pid}` });
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
        if (++done === total) process.stdout.write('sent\n');
      });
    }
  }
  await client.endAsync();
}

main().catch((err: Error) => {
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
});
