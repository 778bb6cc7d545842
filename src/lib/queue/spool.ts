// QoS 1/2 messages kept on disk until the broker acknowledges them, so they survive a broker outage
// and a restart of Node-RED. Two append-only files: the messages, and the sequence numbers settled.
//
// After loading, nothing here throws: settle() runs inside MQTT.js's PUBACK callback, where an exception (ENOSPC,
// EIO, a removed disk) would take Node-RED down. The first failure marks the spool failed and is reported once
// through onFailure; from then on nothing more is written. New messages are then kept in memory only (append()
// says so), and those already on disk stay there: a restart sends them again, acknowledged or not (duplicates,
// which QoS 1 allows, rather than losses).
import fs from 'node:fs';
import path from 'node:path';
import type { PublishRequest } from '../mqtt/connection';

export interface SpooledMessage {
  seq: number;
  request: PublishRequest;
  bytes: number;
}

/** The file operations the spool uses; tests pass one that fails like a full or broken disk. */
export interface SpoolFs {
  mkdirSync(dir: string, options: { recursive: true; mode: number }): unknown;
  existsSync(file: string): boolean;
  readFileSync(file: string, encoding: 'utf8'): string;
  writeFileSync(file: string, data: string, options: { mode: number }): void;
  renameSync(from: string, to: string): void;
  openSync(file: string, flags: 'a'): number;
  writeSync(fd: number, data: string): number;
  ftruncateSync(fd: number, len: number): void;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
}

export interface SpoolOptions {
  fs?: SpoolFs;
  /** Called once, at the first failed write after load(); the spool writes nothing more. */
  onFailure?: (err: Error) => void;
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
  private readonly fs: SpoolFs;
  private readonly onFailure: ((err: Error) => void) | undefined;
  private dataFd: number | undefined;
  private ackFd: number | undefined;
  private open = 0;
  private failure: Error | undefined;

  constructor(
    readonly dir: string,
    options: SpoolOptions = {},
  ) {
    this.dataFile = path.join(dir, 'messages.jsonl');
    this.ackFile = path.join(dir, 'settled.log');
    this.fs = options.fs ?? fs;
    this.onFailure = options.onFailure;
  }

  /** Reads what a previous run left unsettled, oldest first, and opens the files for appending. Throws when it cannot. */
  load(): SpooledMessage[] {
    const f = this.fs;
    f.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const settled = new Set<number>();
    if (f.existsSync(this.ackFile)) {
      for (const line of completeLines(f.readFileSync(this.ackFile, 'utf8'))) {
        const n = Number(line);
        if (line && Number.isInteger(n)) settled.add(n);
      }
    }
    const pending: SpooledMessage[] = [];
    if (f.existsSync(this.dataFile)) {
      for (const line of completeLines(f.readFileSync(this.dataFile, 'utf8'))) {
        const rec = parseRecord(line);
        if (rec && !settled.has(rec.s)) pending.push(fromRecord(rec));
      }
    }
    pending.sort((a, b) => a.seq - b.seq);
    // Start afresh with only what is still pending, so the files do not grow across restarts.
    const tmp = `${this.dataFile}.tmp`;
    f.writeFileSync(tmp, pending.map((m) => JSON.stringify(toRecord(m)) + '\n').join(''), { mode: 0o600 });
    f.renameSync(tmp, this.dataFile);
    f.writeFileSync(this.ackFile, '', { mode: 0o600 });
    this.dataFd = f.openSync(this.dataFile, 'a');
    this.ackFd = f.openSync(this.ackFile, 'a');
    this.open = pending.length;
    return pending;
  }

  /** The first write that failed, once the spool has stopped writing. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Writes a message; false when it is not on disk (the spool has failed): the caller keeps it in memory only. */
  append(m: SpooledMessage): boolean {
    const fd = this.dataFd;
    if (fd === undefined || this.failure) return false;
    try {
      this.write(fd, JSON.stringify(toRecord(m)) + '\n');
    } catch (err) {
      this.fail(err);
      return false;
    }
    this.open++;
    return true;
  }

  /** Marks a message as done with (acknowledged, or refused for good). Never throws. */
  settle(seq: number): void {
    const ackFd = this.ackFd;
    if (ackFd === undefined || this.failure) return;
    this.open--;
    try {
      if (this.open <= 0 && this.dataFd !== undefined) {
        // Nothing left: truncate both files instead of growing them forever.
        this.open = 0;
        this.fs.ftruncateSync(this.dataFd, 0);
        this.fs.ftruncateSync(ackFd, 0);
        return;
      }
      this.write(ackFd, `${seq}\n`);
    } catch (err) {
      this.fail(err);
    }
  }

  get pendingCount(): number {
    return this.open;
  }

  /** Flushes and closes the files. Never throws. */
  close(): void {
    for (const fd of [this.dataFd, this.ackFd]) {
      if (fd === undefined) continue;
      try {
        this.fs.fsyncSync(fd);
      } catch {
        // fsync can fail on some filesystems; the data was written anyway
      }
      try {
        this.fs.closeSync(fd);
      } catch {
        // nothing more to do with this descriptor
      }
    }
    this.dataFd = undefined;
    this.ackFd = undefined;
  }

  /** A short write (the disk filled up mid-line) counts as a failure: the rest of the line would follow later. */
  private write(fd: number, text: string): void {
    const written = this.fs.writeSync(fd, text);
    const want = Buffer.byteLength(text);
    if (written !== want) throw new Error(`short write to the spool (${written} of ${want} bytes)`);
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    try {
      this.onFailure?.(this.failure);
    } catch {
      // the owner's report must not turn into the exception this class exists to avoid
    }
  }
}

/** The lines a newline ends; an unterminated last one was cut off mid-write and is not trusted. */
function completeLines(text: string): string[] {
  const lines = text.split('\n');
  lines.pop();
  return lines;
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
