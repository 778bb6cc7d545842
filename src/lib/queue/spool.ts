// QoS 1/2 messages kept on disk until the broker acknowledges them, so they survive a broker outage
// and a restart of Node-RED. Two append-only files: the messages, and the sequence numbers settled.
import fs from 'node:fs';
import path from 'node:path';
import type { PublishRequest } from '../mqtt/connection';

export interface SpooledMessage {
  seq: number;
  request: PublishRequest;
  bytes: number;
}

interface Record {
  s: number;
  t: string;
  p: string; // base64
  q: 0 | 1 | 2;
  r: boolean;
  o?: StoredProps;
}

type StoredProps = Omit<NonNullable<PublishRequest['properties']>, 'correlationData'> & { correlationData?: string };

export class DiskSpool {
  private readonly dataFile: string;
  private readonly ackFile: string;
  private dataFd: number | undefined;
  private ackFd: number | undefined;
  private open = 0;

  constructor(readonly dir: string) {
    this.dataFile = path.join(dir, 'messages.jsonl');
    this.ackFile = path.join(dir, 'settled.log');
  }

  /** Reads what a previous run left unsettled, oldest first, and opens the files for appending. */
  load(): SpooledMessage[] {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const settled = new Set<number>();
    if (fs.existsSync(this.ackFile)) {
      for (const line of fs.readFileSync(this.ackFile, 'utf8').split('\n')) {
        const n = Number(line);
        if (line && Number.isInteger(n)) settled.add(n);
      }
    }
    const pending: SpooledMessage[] = [];
    if (fs.existsSync(this.dataFile)) {
      for (const line of fs.readFileSync(this.dataFile, 'utf8').split('\n')) {
        const rec = parseRecord(line);
        if (rec && !settled.has(rec.s)) pending.push(fromRecord(rec));
      }
    }
    pending.sort((a, b) => a.seq - b.seq);
    // Start afresh with only what is still pending, so the files do not grow across restarts.
    const tmp = `${this.dataFile}.tmp`;
    fs.writeFileSync(tmp, pending.map((m) => JSON.stringify(toRecord(m)) + '\n').join(''), { mode: 0o600 });
    fs.renameSync(tmp, this.dataFile);
    fs.writeFileSync(this.ackFile, '', { mode: 0o600 });
    this.dataFd = fs.openSync(this.dataFile, 'a');
    this.ackFd = fs.openSync(this.ackFile, 'a');
    this.open = pending.length;
    return pending;
  }

  append(m: SpooledMessage): void {
    if (this.dataFd === undefined) throw new Error('spool not loaded');
    fs.writeSync(this.dataFd, JSON.stringify(toRecord(m)) + '\n');
    this.open++;
  }

  /** Marks a message as done with (acknowledged, or refused for good). */
  settle(seq: number): void {
    if (this.ackFd === undefined) return;
    this.open--;
    if (this.open <= 0 && this.dataFd !== undefined) {
      // Nothing left: truncate both files instead of growing them forever.
      this.open = 0;
      fs.ftruncateSync(this.dataFd, 0);
      fs.ftruncateSync(this.ackFd, 0);
      return;
    }
    fs.writeSync(this.ackFd, `${seq}\n`);
  }

  get pendingCount(): number {
    return this.open;
  }

  close(): void {
    for (const fd of [this.dataFd, this.ackFd]) {
      if (fd === undefined) continue;
      try {
        fs.fsyncSync(fd);
      } catch {
        // fsync can fail on some filesystems; the data was written anyway
      }
      fs.closeSync(fd);
    }
    this.dataFd = undefined;
    this.ackFd = undefined;
  }
}

function toRecord(m: SpooledMessage): Record {
  const r = m.request;
  const rec: Record = {
    s: m.seq,
    t: r.topic,
    p: (Buffer.isBuffer(r.payload) ? r.payload : Buffer.from(r.payload, 'utf8')).toString('base64'),
    q: r.qos,
    r: r.retain ?? false,
  };
  if (r.properties) {
    const { correlationData, ...rest } = r.properties;
    rec.o = correlationData ? { ...rest, correlationData: correlationData.toString('base64') } : rest;
  }
  return rec;
}

function fromRecord(rec: Record): SpooledMessage {
  const payload = Buffer.from(rec.p, 'base64');
  const request: PublishRequest = { topic: rec.t, payload, qos: rec.q, retain: rec.r };
  if (rec.o) {
    const { correlationData, ...rest } = rec.o;
    request.properties = correlationData ? { ...rest, correlationData: Buffer.from(correlationData, 'base64') } : rest;
  }
  return { seq: rec.s, request, bytes: payload.length + Buffer.byteLength(rec.t) };
}

function parseRecord(line: string): Record | undefined {
  if (!line) return undefined;
  try {
    const v = JSON.parse(line) as Partial<Record>;
    // A torn last line (power cut mid-write) is skipped, not fatal.
    if (typeof v.s !== 'number' || typeof v.t !== 'string' || typeof v.p !== 'string') return undefined;
    if (v.q !== 0 && v.q !== 1 && v.q !== 2) return undefined;
    return { s: v.s, t: v.t, p: v.p, q: v.q, r: v.r === true, ...(v.o ? { o: v.o } : {}) };
  } catch {
    return undefined;
  }
}
