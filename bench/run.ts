// `npm run bench`: publish throughput of this pack's publish node against Node-RED's core `mqtt out` and raw
// MQTT.js, in one run against one real Mosquitto, over plain TCP and over verified TLS, plus the cost of an ACL
// check with 10 and 10,000 rules. Both nodes run in one real Node-RED runtime (its own process).
//
// A burst counts as handled when the subscriber has seen every message and the publisher has settled every one:
// done() for the nodes (seen through the runtime's onComplete hook, see complete-probe.ts), the publish callback
// for raw MQTT.js. The rate at which the broker alone received the burst is kept too, to show where time goes.
import mqtt from 'mqtt';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { startMosquitto } from '../test/helpers/mosquitto';
import { startNodeRed, type NodeRedProcess } from '../test/helpers/node-red-process';
import { testCerts } from '../test/helpers/certs';
import { aclTable } from './acl-cost';
import { waitFor } from '../test/helpers/broker';
import { BURSTS, LINKS, QOS, benchFlows, caseId, type Kind, type Link } from './flows';
import { wallNow } from './wall-clock';

type Variant = 'raw MQTT.js' | 'core mqtt out' | 'secure mqtt out';
const VARIANTS: Variant[] = ['raw MQTT.js', 'core mqtt out', 'secure mqtt out'];
const KIND: Record<Exclude<Variant, 'raw MQTT.js'>, Kind> = { 'core mqtt out': 'core', 'secure mqtt out': 'secure' };

interface Result {
  variant: Variant;
  link: Link;
  qos: 0 | 1;
  burst: number;
  /** Messages per second until the burst was handled (seen by the subscriber and settled by the publisher). */
  rate: number;
  /** Messages per second until the subscriber had seen the whole burst. */
  atBroker: number;
}

const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
/** BENCH_FILTER=<regexp> runs only the cells whose "link variant QoS burst" matches, e.g. "tls secure.* 1 ". */
const FILTER = process.env.BENCH_FILTER ? new RegExp(process.env.BENCH_FILTER) : undefined;
const selected = (link: Link, variant: Variant, qos: number, burst: number): boolean => !FILTER || FILTER.test(`${link} ${variant} ${qos} ${burst}`);

/** Resolves with the wall-clock time at which the n-th message on bench/# arrived. */
async function subscriberFor(port: number, n: number): Promise<{ last: Promise<number>; close: () => Promise<void> }> {
  const sub = await mqtt.connectAsync({ host: '127.0.0.1', port, clientId: `bench-sub-${Math.random()}` });
  await sub.subscribeAsync('bench/#', { qos: 0 });
  let count = 0;
  const last = new Promise<number>((resolve) => {
    sub.on('message', () => {
      if (++count === n) resolve(wallNow());
    });
  });
  return { last, close: () => sub.endAsync(true) };
}

interface RawPublisher {
  /** Resolves with the wall-clock time of the last publish callback. */
  burst(n: number, qos: 0 | 1): Promise<number>;
  stop(): void;
}

/** Raw MQTT.js runs in a child process of its own, so it competes for the cores as the Node-RED runtime does. */
async function startRawPublisher(port: number, caFile?: string): Promise<RawPublisher> {
  const args = [path.join(__dirname, 'raw-publisher.js'), String(port), ...(caFile ? [caFile] : [])];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  let waiting: ((line: string) => void) | undefined;
  lines.on('line', (line) => waiting?.(line));
  const next = (): Promise<string> => new Promise((resolve) => (waiting = resolve));
  const exited = new Promise<never>((_, reject) => child.once('exit', () => reject(new Error('raw publisher exited'))));
  await Promise.race([next(), exited]);
  return {
    async burst(n, qos) {
      const sent = next();
      child.stdin.write(`go ${n} ${qos}\n`);
      return Number((await Promise.race([sent, exited])).split(' ')[1]);
    },
    stop: () => child.kill(),
  };
}

/**
 * Waits for complete-probe's whole line for this out node, printed after `from` in the runtime's log. The line
 * carries its own timestamp, so how often the log is looked at does not change the figure.
 */
async function completedAt(red: NodeRedProcess, outId: string, from: number): Promise<number> {
  const marker = `BENCH-COMPLETE ${outId} `;
  const line = await waitFor(
    () => {
      const log = red.log();
      const at = log.indexOf(marker, from);
      const end = at < 0 ? -1 : log.indexOf('\n', at);
      return end < 0 ? undefined : log.slice(at + marker.length, end);
    },
    300000,
    `${outId} to complete`,
  );
  const [time, errors] = line.split(' ').map(Number);
  if (errors > 0) throw new Error(`${outId}: ${errors} messages failed`);
  return time;
}

async function measure(port: number, n: number, start: () => Promise<number>): Promise<{ rate: number; atBroker: number }> {
  const sub = await subscriberFor(port, n);
  const t0 = wallNow();
  const [settled, seen] = await Promise.all([start(), sub.last]);
  await sub.close();
  return { rate: (n / (Math.max(settled, seen) - t0)) * 1000, atBroker: (n / (seen - t0)) * 1000 };
}

function nodeRun(red: NodeRedProcess, kind: Kind, link: Link, qos: 0 | 1, n: number, port: number): Promise<{ rate: number; atBroker: number }> {
  const id = caseId(kind, link, qos, n);
  return measure(port, n, async () => {
    const from = red.log().length;
    const res = await red.api('POST', `/inject/trigger-${id}`);
    if (res.status !== 200) throw new Error(`inject failed: ${res.status} ${res.text}`);
    return completedAt(red, `out-${id}`, from);
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

async function throughput(red: NodeRedProcess, port: number, raws: Record<Link, RawPublisher>): Promise<Result[]> {
  const results: Result[] = [];
  const once = (variant: Variant, link: Link, qos: 0 | 1, burst: number): Promise<{ rate: number; atBroker: number }> =>
    variant === 'raw MQTT.js'
      ? measure(port, burst, () => raws[link].burst(burst, qos))
      : nodeRun(red, KIND[variant], link, qos, burst, port);
  // Warm up every path once (JIT, connections) so the first measured burst is not penalised.
  for (const link of LINKS) {
    for (const variant of VARIANTS) {
      if (QOS.some((q) => BURSTS.some((b) => selected(link, variant, q, b)))) await once(variant, link, 0, BURSTS[0]);
    }
  }
  for (const link of LINKS) {
    for (const qos of QOS) {
      for (const burst of BURSTS) {
        for (const variant of VARIANTS) {
          if (!selected(link, variant, qos, burst)) continue;
          const runs: Array<{ rate: number; atBroker: number }> = [];
          for (let r = 0; r < REPEAT; r++) runs.push(await once(variant, link, qos, burst));
          const rate = median(runs.map((x) => x.rate));
          const atBroker = median(runs.map((x) => x.atBroker));
          results.push({ variant, link, qos, burst, rate, atBroker });
          const each = runs.map((x) => Math.round(x.rate)).join(', ');
          process.stderr.write(`  ${link} ${variant.padEnd(16)} QoS ${qos} burst ${String(burst).padStart(6)}: ${Math.round(rate)} msg/s handled (${each}), ${Math.round(atBroker)} at the broker\n`);
        }
      }
    }
  }
  return results;
}

function table(results: Result[]): string {
  const rows = [
    '| link | QoS | burst | raw MQTT.js msg/s | core mqtt out msg/s | secure mqtt out msg/s | vs raw | vs core | core, at the broker msg/s |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const get = (v: Variant, link: Link, qos: number, burst: number): Result | undefined =>
    results.find((r) => r.variant === v && r.link === link && r.qos === qos && r.burst === burst);
  const rate = (x?: number): string => (x === undefined ? '—' : String(Math.round(x)));
  const ratio = (a?: number, b?: number): string => (a === undefined || b === undefined ? '—' : `${(a / b).toFixed(2)}x`);
  const lines: string[] = [];
  for (const link of LINKS) {
    for (const qos of QOS) {
      for (const burst of BURSTS) {
        // A cell BENCH_FILTER left out gets no row.
        if (!VARIANTS.some((v) => get(v, link, qos, burst))) continue;
        const raw = get('raw MQTT.js', link, qos, burst)?.rate;
        const core = get('core mqtt out', link, qos, burst);
        const ours = get('secure mqtt out', link, qos, burst)?.rate;
        rows.push(`| ${link} | ${qos} | ${burst} | ${rate(raw)} | ${rate(core?.rate)} | ${rate(ours)} | ${ratio(ours, raw)} | ${ratio(ours, core?.rate)} | ${rate(core?.atBroker)} |`);
      }
      const small = get('secure mqtt out', link, qos, BURSTS[0])?.rate;
      const large = get('secure mqtt out', link, qos, BURSTS[1])?.rate;
      if (small && large) lines.push(`secure mqtt out, ${link}, QoS ${qos}: a ${BURSTS[1]} burst runs at ${ratio(large, small)} the rate of a ${BURSTS[0]} burst`);
    }
  }
  return [...rows, '', ...lines].join('\n');
}

async function main(): Promise<void> {
  if (process.env.BENCH_ONLY === 'acl') {
    console.log(aclTable());
    return;
  }
  const certs = testCerts();
  const mosq = await startMosquitto({ tls: { certs }, quiet: true });
  const tlsPort = mosq.tlsPort as number;
  const red = await startNodeRed({
    flows: benchFlows(mosq.port, tlsPort, certs.caCert),
    extraSettings: { logging: { console: { level: 'info' } } },
    // BENCH_PROF=<dir> writes a CPU profile of the runtime there.
    nodeArgs: ['--require', path.join(__dirname, 'complete-probe.js'), ...(process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [])],
  });
  const raws: RawPublisher[] = [];
  try {
    // The raw publishers answer "ready" once connected; the runtime's four clients are counted at the broker.
    const tcp = await startRawPublisher(mosq.port);
    raws.push(tcp);
    const tls = await startRawPublisher(tlsPort, certs.caCert);
    raws.push(tls);
    await waitFor(() => mosq.count(/New client connected/) >= 6, 15000, "the runtime's four clients to connect");
    process.stderr.write('publish throughput (median of runs):\n');
    const results = await throughput(red, mosq.port, { tcp, tls });
    console.log('\n## Publish throughput\n');
    console.log(table(results));
    const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${red.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    console.log(`\nNode-RED runtime resident memory at the end: ${Math.round(rss)} MB`);
    console.log(aclTable());
    console.log(`\nNode ${process.version}, ${os.cpus().length} cores, Mosquitto on 127.0.0.1.`);
  } finally {
    for (const raw of raws) raw.stop();
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
