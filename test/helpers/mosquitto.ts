// Starts a real Mosquitto on free ports with a generated configuration, and stops it afterwards.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { logCounter } from './log-count';
import { freePort, waitForPort } from './ports';
import type { CertSet } from './certs';

export interface TlsListenerOptions {
  certs: CertSet;
  /** Serve the certificate whose names do not match localhost. */
  wrongHost?: boolean;
  requireCertificate?: boolean;
  useIdentityAsUsername?: boolean;
  /** Lowest TLS version the listener accepts (Mosquitto's tls_version is a minimum, not an exact version). */
  tlsVersion?: 'tlsv1.2' | 'tlsv1.3';
  /** Server certificate and key to serve instead of the default one. */
  serverCert?: { cert: string; key: string };
}

export interface MosquittoOptions {
  /** user name → password, written with mosquitto_passwd. */
  passwords?: Record<string, string>;
  /** acl_file contents. */
  acl?: string;
  /** Defaults to true unless a password file is given. */
  allowAnonymous?: boolean;
  tls?: TlsListenerOptions;
  /** Adds a websockets listener (wss when `tls` is given). */
  websockets?: boolean;
  /** dynamic-security JSON; loads Mosquitto's plugin. */
  dynamicSecurity?: object;
  /** Keep sessions and queued messages on disk across restarts. */
  persistence?: boolean;
  /** Extra configuration lines (global section). */
  extra?: string[];
  /**
   * Log connections, errors and warnings but not every packet. For runs of millions of messages: the full log
   * would outgrow the largest string V8 can hold.
   */
  quiet?: boolean;
}

export interface RunningMosquitto {
  port: number;
  tlsPort?: number;
  wsPort?: number;
  dir: string;
  /** Everything Mosquitto logged so far. */
  log(): string;
  /** How many times a pattern occurs in the log so far (whole lines). */
  count(pattern: RegExp): number;
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  signal(sig: NodeJS.Signals): void;
  readonly running: boolean;
}

// Brokers still running when the test process exits (a failed test that skipped its cleanup) die with it.
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Debian's dynamic-security plugin, under the multiarch directory of this machine (x86_64, aarch64, ...). */
function dynsecPlugin(): string {
  const candidates = ['/usr/lib', ...fs.readdirSync('/usr/lib').filter((d) => d.endsWith('-linux-gnu') || d.endsWith('-linux-gnueabihf')).map((d) => path.join('/usr/lib', d))];
  const found = candidates.map((d) => path.join(d, 'mosquitto_dynamic_security.so')).find((f) => fs.existsSync(f));
  return found ?? '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';
}

export async function startMosquitto(opts: MosquittoOptions = {}): Promise<RunningMosquitto> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nrst-mosq-'));
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const tlsPort = opts.tls ? await freePort() : undefined;
  const wsPort = opts.websockets ? await freePort() : undefined;
  const lines: string[] = [];
  if (process.getuid?.() === 0) lines.push('user root');
  const logTypes = opts.quiet ? ['error', 'warning', 'notice', 'information'].map((t) => `log_type ${t}`) : ['log_type all'];
  lines.push('per_listener_settings false', 'log_dest stderr', ...logTypes, 'connection_messages true');
  if (opts.persistence) lines.push('persistence true', `persistence_location ${dir}/`, 'autosave_interval 1');
  else lines.push('persistence false');
  lines.push('max_queued_messages 100000', 'max_inflight_messages 0');

  if (opts.passwords) {
    const file = path.join(dir, 'passwd');
    for (const [user, pass] of Object.entries(opts.passwords)) {
      const args = fs.existsSync(file) ? ['-b', file, user, pass] : ['-c', '-b', file, user, pass];
      execFileSync('mosquitto_passwd', args, { stdio: 'ignore' });
    }
    fs.chmodSync(file, 0o644);
    lines.push(`password_file ${file}`);
  }
  if (opts.acl !== undefined) {
    const file = path.join(dir, 'acl');
    fs.writeFileSync(file, opts.acl, { mode: 0o644 });
    lines.push(`acl_file ${file}`);
  }
  if (opts.dynamicSecurity) {
    const file = path.join(dir, 'dynamic-security.json');
    fs.writeFileSync(file, JSON.stringify(opts.dynamicSecurity), { mode: 0o644 });
    lines.push(`plugin ${dynsecPlugin()}`, `plugin_opt_config_file ${file}`);
  }
  const anonymous = opts.allowAnonymous ?? (!opts.passwords && !opts.dynamicSecurity);
  lines.push(`allow_anonymous ${anonymous}`);
  lines.push(...(opts.extra ?? []));
  lines.push(`listener ${port} 127.0.0.1`);
  const t = opts.tls;
  const server = t && (t.serverCert ?? (t.wrongHost ? { cert: t.certs.wrongHostCert, key: t.certs.wrongHostKey } : { cert: t.certs.serverCert, key: t.certs.serverKey }));
  const tlsFiles = t && server ? [`cafile ${t.certs.caCert}`, `certfile ${server.cert}`, `keyfile ${server.key}`] : [];
  if (t && tlsPort) {
    lines.push(`listener ${tlsPort} 127.0.0.1`, ...tlsFiles);
    if (t.requireCertificate) lines.push('require_certificate true');
    if (t.useIdentityAsUsername) lines.push('use_identity_as_username true');
    if (t.tlsVersion) lines.push(`tls_version ${t.tlsVersion}`);
  }
  // With TLS options the websockets listener is wss, serving the same certificate.
  if (wsPort) lines.push(`listener ${wsPort} 127.0.0.1`, 'protocol websockets', ...tlsFiles);
  const confFile = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(confFile, lines.join('\n') + '\n', { mode: 0o644 });

  let child: ChildProcess | undefined;
  let logText = '';
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    if (child) return;
    const proc = spawn('mosquitto', ['-c', confFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    running.add(proc);
    proc.stdout?.on('data', (d: Buffer) => (logText += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (logText += d.toString()));
    exited = new Promise((resolve) =>
      proc.once('exit', () => {
        running.delete(proc);
        if (child === proc) child = undefined;
        resolve();
      }),
    );
    const ports = [port, tlsPort, wsPort].filter((p): p is number => p !== undefined);
    try {
      await Promise.race([
        Promise.all(ports.map((p) => waitForPort(p))),
        exited.then(() => {
          throw new Error(`mosquitto exited at start:\n${logText}`);
        }),
      ]);
    } catch (err) {
      proc.kill('SIGKILL');
      throw err;
    }
  };
  const stop = async (): Promise<void> => {
    if (!child) return;
    const proc = child;
    proc.kill('SIGCONT'); // a stopped process cannot act on SIGTERM
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    port,
    tlsPort,
    wsPort,
    dir,
    log: () => logText,
    count: logCounter(() => logText),
    start,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    signal: (sig) => child?.kill(sig),
    get running() {
      return child !== undefined;
    },
  };
}
