// QoS 1/2 messages kept on disk until the broker acknowledges them, so they survive a broker outage
// and a restart of Node-RED. Two append-only files: the messages, and the sequence numbers settled.
//
// After loading, nothing here throws: settle() runs inside MQTT.js's PUBACK callback, where an exception (ENOSPC,
// EIO, a removed disk) would take Node-RED down. The first failure marks the spool failed and is reported once
// through onFailure; from then on nothing more is written. New messages are then kept in memory only (append()
// says so), and those already on disk stay there: a restart sends them again, acknowledged or not (duplicates,
// which QoS 1 allows, rather than losses). A load() that can read the files but not rewrite them (a full disk at
// start) fails the same way instead of throwing, so the node still takes messages.
//
// The files only grow while messages are pending: in a long outage with drop-oldest, every new message appends a
// record and every eviction a settled line, though few are pending. So once the dead part is twice the pending
// part (and worth the copy), the pending records are rewritten to a new file that replaces the old one (compact()).
import fs from 'node:fs';
import path from 'node:path';
import { constants as bufferConstants } from 'node:buffer';
import type { PublishRequest } from '../mqtt/connection';
import { isPlainObject } from '../formats/reading';
import { parseJson } from '../json';

export interface SpooledMessage {
  seq: number;
  request: PublishRequest;
  bytes: number;
  /** When the message was accepted (ms since the epoch): its MQTT 5 Message Expiry counts from then. */
  at?: number;
}

/** The file operations the spool uses; tests pass one that fails like a full or broken disk. */
export interface SpoolFs {
  mkdirSync(dir: string, options: { recursive: true; mode: number }): unknown;
  existsSync(file: string): boolean;
  openSync(file: string, flags: 'r' | 'w' | 'a', mode?: number): number;
  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: null): number;
  writeSync(fd: number, data: string): number;
  renameSync(from: string, to: string): void;
  unlinkSync(file: string): void;
  ftruncateSync(fd: number, len: number): void;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
}

export interface SpoolOptions {
  fs?: SpoolFs;
  /** Called once, at the first failed write (at load() or after); the spool writes nothing more. */
  onFailure?: (err: Error) => void;
  /** Smallest size of the two files worth compacting (default SPOOL_COMPACT_MIN_BYTES). */
  compactMinBytes?: number;
}

/** Below this the files are left to grow: rewriting and syncing a few records after every few messages costs more than the space. */
export const SPOOL_COMPACT_MIN_BYTES = 1024 * 1024;
/** Compacted once the files are this many times the pending records: each byte is then copied O(1) times. */
const COMPACT_RATIO = 3;
/** Records per write when rewriting: fewer system calls, and no string near the length limit. */
const REWRITE_BATCH_CHARS = 1024 * 1024;
const READ_CHUNK_BYTES = 1024 * 1024;

interface Record {
  s: number;
  t: string;
  p: string; // base64
  q: 0 | 1 | 2;
  r: boolean;
  o?: StoredProps;
  a?: number;
}

type StoredProps = Omit<NonNullable<PublishRequest['properties']>, 'correlationData'> & { correlationData?: string };

interface Entry {
  request: PublishRequest;
  at: number | undefined;
  /** Bytes of its record in the messages file. */
  size: number;
}

export class DiskSpool {
  private readonly dataFile: string;
  private readonly ackFile: string;
  private readonly fs: SpoolFs;
  private readonly onFailure: ((err: Error) => void) | undefined;
  private readonly compactMinBytes: number;
  private dataFd: number | undefined;
  private ackFd: number | undefined;
  /** What is on disk and not settled, in file (seq) order: compaction writes these again. */
  private readonly pending = new Map<number, Entry>();
  private pendingBytes = 0;
  /** Bytes in both files: the pending records, the settled ones, and the settled lines. */
  private fileBytes = 0;
  private failure: Error | undefined;
  private skippedRecords = 0;
  private compactions = 0;

  constructor(
    readonly dir: string,
    options: SpoolOptions = {},
  ) {
    this.dataFile = path.join(dir, 'messages.jsonl');
    this.ackFile = path.join(dir, 'settled.log');
    this.fs = options.fs ?? fs;
    this.onFailure = options.onFailure;
    this.compactMinBytes = options.compactMinBytes ?? SPOOL_COMPACT_MIN_BYTES;
  }

  /**
   * Reads what a previous run left unsettled, oldest first, and starts the files afresh with only that. Throws when
   * it cannot read them; when it cannot write them, the spool fails (onFailure) and the messages are still returned.
   */
  load(): SpooledMessage[] {
    const f = this.fs;
    f.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const settled = new Set<number>();
    if (f.existsSync(this.ackFile)) {
      readCompleteLines(f, this.ackFile, (line) => {
        const n = Number(line);
        if (line && Number.isSafeInteger(n)) settled.add(n);
      });
    }
    const found = new Map<number, SpooledMessage>();
    this.skippedRecords = 0;
    if (f.existsSync(this.dataFile)) {
      const { tooLong } = readCompleteLines(f, this.dataFile, (line) => {
        if (!line) return;
        const rec = parseRecord(line);
        if (!rec) this.skippedRecords++;
        else if (!settled.has(rec.s) && !found.has(rec.s)) found.set(rec.s, fromRecord(rec));
      });
      this.skippedRecords += tooLong;
    }
    const loaded = [...found.values()].sort((a, b) => a.seq - b.seq);
    for (const m of loaded) this.pending.set(m.seq, { request: m.request, at: m.at, size: 0 });
    try {
      // Start afresh with only what is still pending, so the files do not grow across restarts.
      this.rewrite();
    } catch (err) {
      this.fail(err);
    }
    return loaded;
  }

  /** The first write that failed, once the spool has stopped writing. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Records load() could not use (malformed, or too long to read) and left out. */
  get skipped(): number {
    return this.skippedRecords;
  }

  /** How many times the files were rewritten while running (for tests). */
  get compactionCount(): number {
    return this.compactions;
  }

  /** Writes a message; false when it is not on disk (the spool has failed): the caller keeps it in memory only. */
  append(m: SpooledMessage): boolean {
    const fd = this.dataFd;
    if (fd === undefined || this.failure) return false;
    const line = JSON.stringify(toRecord(m)) + '\n';
    let size: number;
    try {
      size = this.write(fd, line);
    } catch (err) {
      this.fail(err);
      return false;
    }
    this.pending.set(m.seq, { request: m.request, at: m.at, size });
    this.pendingBytes += size;
    this.fileBytes += size;
    return true;
  }

  /** Marks a message as done with (acknowledged, or refused for good). Never throws. */
  settle(seq: number): void {
    const ackFd = this.ackFd;
    if (ackFd === undefined || this.failure) return;
    const entry = this.pending.get(seq);
    if (!entry) return; // settled already, or never written
    this.pending.delete(seq);
    this.pendingBytes -= entry.size;
    try {
      if (this.pending.size === 0 && this.dataFd !== undefined) {
        // Nothing left: truncate both files (the messages first: settled lines without them are harmless).
        this.fs.ftruncateSync(this.dataFd, 0);
        this.fs.ftruncateSync(ackFd, 0);
        this.pendingBytes = 0;
        this.fileBytes = 0;
        return;
      }
      this.fileBytes += this.write(ackFd, `${seq}\n`);
      if (this.fileBytes >= this.compactMinBytes && this.fileBytes > COMPACT_RATIO * this.pendingBytes) {
        this.rewrite();
        this.compactions++;
      }
    } catch (err) {
      this.fail(err);
    }
  }

  get pendingCount(): number {
    return this.pending.size;
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
      this.closeQuietly(fd);
    }
    this.dataFd = undefined;
    this.ackFd = undefined;
    this.pending.clear();
  }

  /**
   * Replaces the messages file with the pending records only, then empties the settled file. A crash at any point
   * leaves files that load() reads as the same pending messages: until the rename, the old pair is untouched (the
   * new file is a .tmp that load() ignores and overwrites); after it, the new file holds no settled record, so the
   * old settled lines only name records no longer there. Those lines are removed last, once the rename is on disk.
   */
  private rewrite(): void {
    const f = this.fs;
    const tmp = `${this.dataFile}.tmp`;
    let written = 0;
    let tmpFd: number | undefined = f.openSync(tmp, 'w', 0o600);
    try {
      let batch = '';
      for (const [seq, entry] of this.pending) {
        const line = JSON.stringify(toRecord({ seq, request: entry.request, bytes: 0, at: entry.at })) + '\n';
        entry.size = Buffer.byteLength(line);
        written += entry.size;
        batch += line;
        if (batch.length >= REWRITE_BATCH_CHARS) {
          this.write(tmpFd, batch);
          batch = '';
        }
      }
      if (batch) this.write(tmpFd, batch);
      f.fsyncSync(tmpFd);
      const closing = tmpFd;
      tmpFd = undefined; // closed once only: its number may belong to another file right after
      f.closeSync(closing);
      f.renameSync(tmp, this.dataFile);
    } catch (err) {
      if (tmpFd !== undefined) this.closeQuietly(tmpFd);
      try {
        f.unlinkSync(tmp); // a disk that is full needs the space more than a half-written copy
      } catch {
        // load() overwrites it next time
      }
      throw err;
    }
    this.syncDir();
    const ackFd = this.ackFd ?? f.openSync(this.ackFile, 'a', 0o600);
    this.ackFd = ackFd;
    f.ftruncateSync(ackFd, 0);
    // The old descriptor still points at the file the rename replaced: appends there would be lost.
    const dataFd = f.openSync(this.dataFile, 'a', 0o600);
    if (this.dataFd !== undefined) this.closeQuietly(this.dataFd);
    this.dataFd = dataFd;
    this.pendingBytes = written;
    this.fileBytes = written;
  }

  /** Makes the rename durable before the settled lines that it made unnecessary are removed. */
  private syncDir(): void {
    let fd: number | undefined;
    try {
      fd = this.fs.openSync(this.dir, 'r');
      this.fs.fsyncSync(fd);
    } catch {
      // Not every platform can open or sync a directory (Windows); the rename itself has happened.
    } finally {
      if (fd !== undefined) this.closeQuietly(fd);
    }
  }

  private closeQuietly(fd: number): void {
    try {
      this.fs.closeSync(fd);
    } catch {
      // nothing more to do with this descriptor
    }
  }

  /** A short write (the disk filled up mid-line) counts as a failure: the rest of the line would follow later. */
  private write(fd: number, text: string): number {
    const written = this.fs.writeSync(fd, text);
    const want = Buffer.byteLength(text);
    if (written !== want) throw new Error(`short write to the spool (${written} of ${want} bytes)`);
    return written;
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = err instanceof Error ? err : new Error(String(err));
    // Nothing is written from now on, so the records kept for compaction are of no more use.
    this.pending.clear();
    try {
      this.onFailure?.(this.failure);
    } catch {
      // the owner's report must not turn into the exception this class exists to avoid
    }
  }
}

export interface ReadLinesOptions {
  chunkBytes?: number;
  /** Longer lines are skipped (and counted): their text could not be a string. */
  maxLineBytes?: number;
}

/**
 * Calls `onLine` with each line a newline ends, reading `file` a chunk at a time: a file of any size is read without
 * ever being one string (V8 strings stop at about 512 MiB). An unterminated last line was cut off mid-write and is
 * not trusted. A newline byte never occurs inside a multi-byte UTF-8 character, so splitting bytes at it is safe.
 */
export function readCompleteLines(f: SpoolFs, file: string, onLine: (line: string) => void, options: ReadLinesOptions = {}): { tooLong: number } {
  const chunkBytes = Math.max(1, options.chunkBytes ?? READ_CHUNK_BYTES);
  const maxLineBytes = Math.max(1, Math.min(options.maxLineBytes ?? bufferConstants.MAX_STRING_LENGTH, bufferConstants.MAX_STRING_LENGTH));
  const chunk = Buffer.allocUnsafe(chunkBytes);
  let parts: Buffer[] = []; // the line so far, when it began in an earlier chunk
  let partBytes = 0;
  let discarding = false; // inside a line already too long: skipped up to its newline
  let tooLong = 0;
  const fd = f.openSync(file, 'r');
  try {
    for (;;) {
      const n = f.readSync(fd, chunk, 0, chunkBytes, null);
      if (n <= 0) break;
      const data = n === chunkBytes ? chunk : chunk.subarray(0, n);
      let start = 0;
      for (let nl = data.indexOf(0x0a, start); nl !== -1; nl = data.indexOf(0x0a, start)) {
        if (discarding) discarding = false;
        else if (partBytes + nl - start > maxLineBytes) tooLong++;
        else if (partBytes === 0) onLine(data.toString('utf8', start, nl));
        else onLine(Buffer.concat([...parts, data.subarray(start, nl)]).toString('utf8'));
        parts = [];
        partBytes = 0;
        start = nl + 1;
      }
      if (start < n && !discarding) {
        if (partBytes + n - start > maxLineBytes) {
          tooLong++;
          discarding = true;
          parts = [];
          partBytes = 0;
        } else {
          // The chunk buffer is reused: keep a copy.
          parts.push(Buffer.from(data.subarray(start, n)));
          partBytes += n - start;
        }
      }
    }
  } finally {
    try {
      f.closeSync(fd);
    } catch {
      // read-only: nothing lost
    }
  }
  return { tooLong };
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
    // Only an expiring message needs its age: every record stays as short as it can be.
    if (rest.messageExpiryInterval !== undefined && m.at !== undefined) rec.a = m.at;
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
  const m: SpooledMessage = { seq: rec.s, request, bytes: payload.length + Buffer.byteLength(rec.t) };
  if (rec.a !== undefined) m.at = rec.a;
  return m;
}

/** A record as written by toRecord, or undefined: a damaged or foreign line is skipped rather than sent. */
function parseRecord(line: string): Record | undefined {
  if (!line) return undefined;
  let v: unknown;
  try {
    v = parseJson(line);
  } catch {
    return undefined; // a torn line (power cut mid-write)
  }
  if (!isPlainObject(v)) return undefined;
  const { s, t, p, q, r, o, a } = v;
  // The seq orders messages and names them in the settled file: only an exact integer can do either.
  if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 1) return undefined;
  if (typeof t !== 'string' || typeof p !== 'string') return undefined;
  if (q !== 0 && q !== 1 && q !== 2) return undefined;
  if (o !== undefined && (!isPlainObject(o) || (o.correlationData !== undefined && typeof o.correlationData !== 'string'))) return undefined;
  if (a !== undefined && (typeof a !== 'number' || !Number.isFinite(a))) return undefined;
  return { s, t, p, q, r: r === true, ...(o ? { o: o as StoredProps } : {}), ...(a !== undefined ? { a } : {}) };
}
