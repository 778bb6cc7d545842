// `npm run bench`: publish throughput of this pack's publish node against Node-RED's core `mqtt out` and raw
// MQTT.js, in one run against one real Mosquitto, plus the cost of an ACL check with 10 and 10,000 rules.
// Both nodes run in one real Node-RED runtime (its own process); a function node sends each burst through the
// runtime as a flow would. Throughput = messages / time from the trigger to the last message seen by a subscriber.
import { performance } from 'node:perf_hooks';
import mqtt from 'mqtt';
import { parseMosquittoAcl } from '../src/lib/acl';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startMosquitto, type RunningMosquitto } from '../test/helpers/mosquitto';
import { startNodeRed, type NodeRedProcess } from '../test/helpers/node-red-process';

type Variant = 'raw MQTT.js' | 'core mqtt out' | 'secure mqtt out';

interface Result {
  variant: Variant;
  qos: 0 | 1;
  burst: number;
  rate: number;
  rssMb: number;
}

const BURSTS = [5000, 50000];
const QOS: Array<0 | 1> = [0, 1];
const REPEAT = Number(process.env.BENCH_REPEAT ?? 3);

async function subscriberFor(port: number, n: number): Promise<{ done: Promise<void>; close: () => Promise<void> }> {
  const sub = await mqtt.connectAsync({ host: '127.0.0.1', port, clientId: `bench-sub-${Math.random()}` });
  await sub.subscribeAsync('bench/#', { qos: 0 });
  let count = 0;
  const done = new Promise<void>((resolve) => {
    sub.on('message', () => {
      if (++count === n) resolve();
    });
  });
  return { done, close: () => sub.endAsync(true) };
}

/** The raw MQTT.js publisher runs in a child process, so it competes for the cores as the Node-RED runtime does. */
async function startRawPublisher(port: number): Promise<{ burst(n: number, qos: 0 | 1): void; stop(): void }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'raw-publisher.js'), String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('exit', () => reject(new Error('raw publisher exited')));
  });
  return {
    burst: (n, qos) => child.stdin.write(`go ${n} ${qos}\n`),
    stop: () => child.kill(),
  };
}

async function rawRun(raw: { burst(n: number, qos: 0 | 1): void }, port: number, qos: 0 | 1, n: number): Promise<number> {
  const sub = await subscriberFor(port, n);
  const t0 = performance.now();
  raw.burst(n, qos);
  await sub.done;
  const ms = performance.now() - t0;
  await sub.close();
  return (n / ms) * 1000;
}

const VARIANTS: Variant[] = ['raw MQTT.js', 'core mqtt out', 'secure mqtt out'];

function triggerId(variant: Variant, qos: number, burst: number): string {
  return `trigger-${variant === 'core mqtt out' ? 'core' : 'secure'}-${qos}-${burst}`;
}

/** One tab per node under test; an inject triggers a function node that sends the burst, as a flow would. */
function benchFlows(port: number): object[] {
  const flows: object[] = [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'core-broker', type: 'mqtt-broker', broker: '127.0.0.1', port: String(port), clientid: 'bench-core', protocolVersion: '4', keepalive: '60', cleansession: true, autoConnect: true },
    { id: 'secure-broker', type: 'secure-mqtt-broker', host: '127.0.0.1', port: String(port), clientId: 'bench-secure', protocolVersion: '4' },
  ];
  for (const qos of QOS) {
    for (const burst of BURSTS) {
      for (const kind of ['core', 'secure']) {
        const id = `${kind}-${qos}-${burst}`;
        flows.push(
          { id: `trigger-${id}`, type: 'inject', z: 'tab', props: [], repeat: '', once: false, wires: [[`gen-${id}`]] },
          {
            id: `gen-${id}`,
            type: 'function',
            z: 'tab',
            func: `for (let i = 0; i < ${burst}; i++) node.send({ payload: { temperature: 21.5, humidity: 40.1 } }, false);\nreturn null;`,
            outputs: 1,
            wires: [[`out-${id}`]],
          },
          kind === 'core'
            ? { id: `out-${id}`, type: 'mqtt out', z: 'tab', broker: 'core-broker', topic: 'bench/core', qos: String(qos), retain: 'false', wires: [] }
            : { id: `out-${id}`, type: 'secure-mqtt-out', z: 'tab', broker: 'secure-broker', topic: 'bench/secure', qos: String(qos), retain: 'false', wires: [[], []] },
        );
      }
    }
  }
  return flows;
}

async function nodeRun(red: NodeRedProcess, variant: Variant, port: number, qos: 0 | 1, n: number): Promise<number> {
  const sub = await subscriberFor(port, n);
  const t0 = performance.now();
  const res = await red.api('POST', `/inject/${triggerId(variant, qos, n)}`);
  if (res.status !== 200) throw new Error(`inject failed: ${res.status} ${res.text}`);
  await sub.done;
  const ms = performance.now() - t0;
  await sub.close();
  return (n / ms) * 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function throughput(mosq: RunningMosquitto, red: NodeRedProcess): Promise<Result[]> {
  const results: Result[] = [];
  const raw = await startRawPublisher(mosq.port);
  // Warm up every path once (JIT, connections) so the first measured burst is not penalised.
  await rawRun(raw, mosq.port, 0, 5000);
  for (const variant of ['core mqtt out', 'secure mqtt out'] as Variant[]) await nodeRun(red, variant, mosq.port, 0, 5000);
  for (const qos of QOS) {
    for (const burst of BURSTS) {
      for (const variant of VARIANTS) {
        // The core node needs tens of seconds for a 50,000 burst: once is enough to show its rate.
        const repeat = variant === 'core mqtt out' && burst >= 50000 ? 1 : REPEAT;
        const rates: number[] = [];
        let rss = 0;
        for (let r = 0; r < repeat; r++) {
          rates.push(variant === 'raw MQTT.js' ? await rawRun(raw, mosq.port, qos, burst) : await nodeRun(red, variant, mosq.port, qos, burst));
          if (variant !== 'raw MQTT.js') rss = Math.max(rss, await runtimeRssMb(red));
        }
        const rate = median(rates);
        results.push({ variant, qos, burst, rate, rssMb: rss });
        process.stderr.write(`  ${variant.padEnd(16)} QoS ${qos} burst ${String(burst).padStart(6)}: ${Math.round(rate)} msg/s\n`);
      }
    }
  }
  raw.stop();
  return results;
}

/**
 * An acl_file of exactly `rules` rule lines (user lines not counted). Half of them sit in the block of the user
 * being checked, so a per-user linear scan would pay for every one; the rest belong to other users.
 */
function aclFile(rules: number): { text: string; own: number } {
  const lines: string[] = [];
  let count = 0;
  const rule = (line: string): void => {
    lines.push(line);
    count++;
  };
  rule('pattern write devices/%u/#');
  rule('pattern read commands/%c/#');
  lines.push('user device-0');
  const own = Math.floor((rules - 2) / 2);
  for (let i = 0; i < own; i++) rule(`topic ${i % 3 === 0 ? 'read' : 'write'} site/0/zone${i}/+/#`);
  for (let u = 1; count < rules; u++) {
    lines.push(`user device-${u}`);
    for (let i = 0; i < 10 && count < rules; i++) rule(`topic write site/${u}/zone${i}/+/#`);
  }
  return { text: lines.join('\n'), own };
}

/** Nanoseconds per write check for device-0: its own rules (allowed and denied), the pattern, and no match. */
function aclCost(rules: number): number {
  const { text, own } = aclFile(rules);
  const acl = parseMosquittoAcl(text);
  const who = { username: 'device-0', clientId: 'c0' };
  const topics = Array.from({ length: 64 }, (_, i) => {
    if (i % 4 === 0) return `devices/device-0/t${i}`;
    if (i % 4 === 3) return `elsewhere/${i}`;
    return `site/0/zone${(i * 7919) % own}/a/b`;
  });
  const iterations = 200000;
  let allowed = 0;
  for (let i = 0; i < 20000; i++) allowed += acl.check(who, topics[i & 63], 'write').allowed ? 1 : 0;
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) allowed += acl.check(who, topics[i & 63], 'write').allowed ? 1 : 0;
  const ns = ((performance.now() - t0) * 1e6) / iterations;
  if (allowed < 0) throw new Error('unreachable'); // keeps the loop from being optimised away
  return ns;
}

function table(results: Result[]): string {
  const rows = ['| QoS | burst | raw MQTT.js msg/s | core mqtt out msg/s | secure mqtt out msg/s | vs raw | vs core |', '|---|---|---|---|---|---|---|'];
  for (const qos of QOS) {
    for (const burst of BURSTS) {
      const get = (v: Variant): number => results.find((r) => r.variant === v && r.qos === qos && r.burst === burst)?.rate ?? NaN;
      const raw = get('raw MQTT.js');
      const core = get('core mqtt out');
      const ours = get('secure mqtt out');
      rows.push(`| ${qos} | ${burst} | ${Math.round(raw)} | ${Math.round(core)} | ${Math.round(ours)} | ${(ours / raw).toFixed(2)}x | ${(ours / core).toFixed(2)}x |`);
    }
  }
  for (const qos of QOS) {
    const small = results.find((r) => r.variant === 'secure mqtt out' && r.qos === qos && r.burst === BURSTS[0])?.rate ?? NaN;
    const large = results.find((r) => r.variant === 'secure mqtt out' && r.qos === qos && r.burst === BURSTS[1])?.rate ?? NaN;
    rows.push(`\nsecure mqtt out, QoS ${qos}: a ${BURSTS[1]} burst runs at ${(large / small).toFixed(2)}x the rate of a ${BURSTS[0]} burst`);
  }
  return rows.join('\n');
}

/** Resident memory of the Node-RED process, from /proc. */
async function runtimeRssMb(red: NodeRedProcess): Promise<number> {
  const status = await fs.promises.readFile(`/proc/${red.pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function aclTable(): string {
  const rows = ['\n## ACL check (Mosquitto acl_file semantics)\n', '| rules | ns per check |', '|---|---|'];
  for (const n of [10, 10000]) rows.push(`| ${n} | ${Math.round(aclCost(n))} |`);
  return rows.join('\n');
}

async function main(): Promise<void> {
  if (process.env.BENCH_ONLY === 'acl') {
    console.log(aclTable());
    return;
  }
  const mosq = await startMosquitto();
  const red = await startNodeRed({ flows: benchFlows(mosq.port), extraSettings: { logging: { console: { level: 'info' } } } });
  try {
    const deadline = Date.now() + 15000;
    while ((mosq.log().match(/New client connected/g) ?? []).length < 2) {
      if (Date.now() > deadline) throw new Error('the runtime did not connect both brokers');
      await new Promise((r) => setTimeout(r, 50));
    }
    process.stderr.write('publish throughput (median of runs):\n');
    const results = await throughput(mosq, red);
    console.log('\n## Publish throughput\n');
    console.log(table(results));
    console.log(`\nNode-RED runtime resident memory, highest after a burst: ${Math.round(Math.max(...results.map((r) => r.rssMb)))} MB`);
    console.log(aclTable());
    console.log(`\nNode ${process.version}, ${require('node:os').cpus().length} cores, Mosquitto on 127.0.0.1.`);
  } finally {
    await red.stop();
    await mosq.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    console.error(err);
    process.exit(1);
  },
);
