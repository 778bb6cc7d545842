// Batching: N messages or T milliseconds (whichever first) become one payload, a JSON array or lines of text,
// optionally gzip-compressed with the content type saying so.
import { gzipSync } from 'node:zlib';
import { describe, fail, ok, type Result } from '../formats/errors';
import type { Clock, TimerHandle } from './clock';

export interface BatchOptions {
  maxCount: number;
  /** Flush this long after the first message of a batch (0: only by count). */
  maxAgeMs: number;
  join: 'array' | 'lines';
  gzip: boolean;
  /** Flush early rather than let the joined payload grow beyond this many bytes. */
  maxBytes?: number;
}

export interface BatchItem {
  /** The payload as it will appear in the batch: a JSON value (join=array) or a line (join=lines). */
  entry: unknown;
  size: number;
  topic?: string;
}

export interface EncodedBatch {
  payload: string | Buffer;
  contentType: string;
  userProperties?: Record<string, string>;
  count: number;
}

/** What one message contributes to a batch; strings holding JSON (formatted output) are embedded as JSON. */
export function batchEntry(payload: unknown, join: BatchOptions['join']): Result<{ entry: unknown; size: number }> {
  if (join === 'lines') {
    if (typeof payload === 'string') return ok({ entry: payload, size: Buffer.byteLength(payload) + 1 });
    if (Buffer.isBuffer(payload)) {
      const s = payload.toString('utf8');
      return ok({ entry: s, size: payload.length + 1 });
    }
    return fail('BAD_VALUE', `line batching needs text payloads (got ${describe(payload)})`, 'payload');
  }
  if (Buffer.isBuffer(payload)) return fail('BAD_VALUE', 'a binary payload cannot go into a JSON array batch', 'payload');
  let entry: unknown = payload;
  if (typeof payload === 'string') {
    try {
      entry = JSON.parse(payload) as unknown;
    } catch {
      entry = payload;
    }
  }
  let text: string | undefined;
  try {
    // NaN and Infinity would silently become null in the batch: refuse them instead.
    text = JSON.stringify(entry, (_k, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`it contains ${describe(v)}`);
      return v;
    });
  } catch (err) {
    return fail('BAD_VALUE', `payload cannot be serialised as JSON: ${err instanceof Error ? err.message : String(err)}`, 'payload');
  }
  if (text === undefined) return fail('BAD_VALUE', `payload ${describe(payload)} is not a JSON value`, 'payload');
  return ok({ entry, size: Buffer.byteLength(text) + 1 });
}

export function encodeBatch(items: readonly BatchItem[], o: Pick<BatchOptions, 'join' | 'gzip'>): EncodedBatch {
  const text = o.join === 'lines' ? items.map((i) => i.entry as string).join('\n') : JSON.stringify(items.map((i) => i.entry));
  const type = o.join === 'lines' ? 'text/plain; charset=utf-8' : 'application/json';
  if (!o.gzip) return { payload: text, contentType: type, count: items.length };
  return {
    payload: gzipSync(Buffer.from(text, 'utf8')),
    contentType: 'application/gzip',
    userProperties: { 'content-encoding': 'gzip', 'original-content-type': type },
    count: items.length,
  };
}

export class Batcher {
  private items: BatchItem[] = [];
  private bytes = 0;
  private timer?: TimerHandle;

  constructor(
    private readonly o: BatchOptions,
    private readonly clock: Clock,
    private readonly emit: (items: BatchItem[], reason: 'count' | 'age' | 'size' | 'flush') => void,
  ) {}

  get pending(): number {
    return this.items.length;
  }

  offer(item: BatchItem): void {
    if (this.o.maxBytes && this.items.length > 0 && this.bytes + item.size > this.o.maxBytes) this.flush('size');
    this.items.push(item);
    this.bytes += item.size;
    if (this.items.length === 1 && this.o.maxAgeMs > 0) this.timer = this.clock.setTimeout(() => this.flush('age'), this.o.maxAgeMs);
    if (this.items.length >= this.o.maxCount) this.flush('count');
  }

  flush(reason: 'count' | 'age' | 'size' | 'flush' = 'flush'): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.bytes = 0;
    this.emit(items, reason);
  }

  discard(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.items = [];
    this.bytes = 0;
  }
}
