// Certificates made with openssl at test time: a CA, a server certificate for localhost/127.0.0.1,
// client certificates, and a second, untrusted CA.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CertSet {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  /** Server certificate whose names do not include localhost or 127.0.0.1. */
  wrongHostCert: string;
  wrongHostKey: string;
  clientCert: string;
  clientKey: string;
  clientCN: string;
  /** A CA that signed nothing the broker uses. */
  otherCaCert: string;
  otherCaKey: string;
  /** Client certificate signed by the other CA. */
  strangerCert: string;
  strangerKey: string;
}

function ssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeKey(dir: string, name: string): string {
  const file = path.join(dir, `${name}.key`);
  ssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', file], dir);
  return file;
}

function makeCa(dir: string, name: string, cn: string): { cert: string; key: string } {
  const key = makeKey(dir, name);
  const cert = path.join(dir, `${name}.crt`);
  ssl(['req', '-x509', '-new', '-key', key, '-sha256', '-days', '30', '-subj', `/CN=${cn}`, '-out', cert], dir);
  return { cert, key };
}

export function signCert(
  dir: string,
  name: string,
  cn: string,
  ca: { cert: string; key: string },
  opts: { san?: string; days?: number; startDate?: string; endDate?: string; client?: boolean } = {},
): { cert: string; key: string } {
  const key = makeKey(dir, name);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.crt`);
  const ext = path.join(dir, `${name}.ext`);
  ssl(['req', '-new', '-key', key, '-subj', `/CN=${cn}`, '-out', csr], dir);
  const lines = ['basicConstraints=CA:FALSE', `extendedKeyUsage=${opts.client ? 'clientAuth' : 'serverAuth'}`];
  if (opts.san) lines.push(`subjectAltName=${opts.san}`);
  fs.writeFileSync(ext, lines.join('\n') + '\n');
  if (opts.startDate || opts.endDate) {
    // `openssl ca` is the only tool in OpenSSL 3.0 that sets arbitrary validity dates.
    const db = path.join(dir, `${name}.db`);
    fs.writeFileSync(db, '');
    const conf = path.join(dir, `${name}.cnf`);
    fs.writeFileSync(
      conf,
      [
        '[ca]', 'default_ca=own', '[own]', `database=${db}`, `new_certs_dir=${dir}`, `serial=${path.join(dir, `${name}.srl`)}`,
        'default_md=sha256', 'policy=anything', 'unique_subject=no', 'copy_extensions=none', '[anything]', 'commonName=supplied',
      ].join('\n') + '\n',
    );
    fs.writeFileSync(path.join(dir, `${name}.srl`), '01\n');
    ssl(['ca', '-batch', '-config', conf, '-cert', ca.cert, '-keyfile', ca.key, '-in', csr, '-out', cert,
      '-startdate', opts.startDate ?? '20200101000000Z', '-enddate', opts.endDate ?? '20991231000000Z', '-extfile', ext, '-notext'], dir);
  } else {
    ssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', String(opts.days ?? 30),
      '-sha256', '-extfile', ext, '-out', cert], dir);
  }
  return { cert, key };
}

let cached: CertSet | undefined;

/** One set per test process; files are world-readable so a broker that dropped privileges can read them. */
export function testCerts(): CertSet {
  if (cached) return cached;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nrst-certs-'));
  fs.chmodSync(dir, 0o755);
  const ca = makeCa(dir, 'ca', 'Test CA');
  const other = makeCa(dir, 'other-ca', 'Untrusted CA');
  const server = signCert(dir, 'server', 'localhost', ca, { san: 'DNS:localhost,IP:127.0.0.1' });
  const wrongHost = signCert(dir, 'wrong-host', 'broker.example.net', ca, { san: 'DNS:broker.example.net' });
  const clientCN = 'sensor-gw-01';
  const client = signCert(dir, 'client', clientCN, ca, { client: true });
  const stranger = signCert(dir, 'stranger', 'stranger', other, { client: true });
  for (const f of fs.readdirSync(dir)) fs.chmodSync(path.join(dir, f), 0o644);
  cached = {
    dir,
    caCert: ca.cert,
    caKey: ca.key,
    serverCert: server.cert,
    serverKey: server.key,
    wrongHostCert: wrongHost.cert,
    wrongHostKey: wrongHost.key,
    clientCert: client.cert,
    clientKey: client.key,
    clientCN,
    otherCaCert: other.cert,
    otherCaKey: other.key,
    strangerCert: stranger.cert,
    strangerKey: stranger.key,
  };
  return cached;
}
