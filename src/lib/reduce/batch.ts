// Batching: N messages or T milliseconds (whichever first) become one payload, a JSON array or lines of text,
// optionally gzip-compressed with the content type saying so.
import { gzipSync } from 'node:zlib';
import { describe, fail, ok, type Result } from '../formats/errors';
import type { Clock, TimerHandle } from './clock';
import { parseJson } from '../json';

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
  /**
   * The payload's text as it will appear in the batch: JSON text (join=array) or a line (join=lines). Text, fixed
   * when the message arrives: a flow may change (or add something unserialisable to) an object after sending it,
   * and Node-RED does not copy a message for a single wire.
   */
  entry: string;
  size: number;
  topic?: string;
}

export interface EncodedBatch {
  payload: string | Buffer;
  contentType: string;
  userProperties?: Record<string, string>;
  count: number;
}

// A UTF-16 half without its other half has no UTF-8 form: encoding would silently write U+FFFD instead.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Whitespace JSON allows around a value; trimmed so the batch does not carry a message's trailing newline.
const JSON_SPACE = /^[ \t\n\r]+|[ \t\n\r]+$/g;

function asUtf8Text(payload: Buffer): Result<string> {
  try {
    // Fatal: invalid bytes would otherwise become U+FFFD, changing the line unnoticed. The BOM is kept, as the bytes.
    return ok(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(payload));
  } catch {
    return fail('BAD_VALUE', 'a binary payload that is not valid UTF-8 text cannot go into a batch of lines', 'payload');
  }
}

/**
 * What one message contributes to a batch, as the text it will have there. Strings holding JSON (formatted output)
 * are embedded as JSON, exactly as written: parsing and writing them again would round big integers and refuse
 * numbers beyond a double (1e400), which are valid JSON all the same.
 */
export function batchEntry(payload: unknown, join: BatchOptions['join']): Result<{ entry: string; size: number }> {
  if (join === 'lines') {
    let line: string;
    if (typeof payload === 'string') line = payload;
    else if (Buffer.isBuffer(payload)) {
      const decoded = asUtf8Text(payload);
      if (!decoded.ok) return decoded;
      line = decoded.value;
    } else return fail('BAD_VALUE', `line batching needs text payloads (got ${describe(payload)})`, 'payload');
    if (LONE_SURROGATE.test(line)) return fail('BAD_VALUE', 'the text contains a lone UTF-16 surrogate, which has no UTF-8 form', 'payload');
    return ok({ entry: line, size: Buffer.byteLength(line) + 1 });
  }
  if (Buffer.isBuffer(payload)) return fail('BAD_VALUE', 'a binary payload cannot go into a JSON array batch', 'payload');
  if (typeof payload === 'string' && isJsonText(payload)) {
    if (LONE_SURROGATE.test(payload)) return fail('BAD_VALUE', 'the JSON text contains a lone UTF-16 surrogate, which has no UTF-8 form', 'payload');
    const text = payload.replace(JSON_SPACE, '');
    return ok({ entry: text, size: Buffer.byteLength(text) + 1 });
  }
  let text: string | undefined;
  try {
    // NaN and Infinity would silently become null in the batch: refuse them instead.
    text = JSON.stringify(payload, (_k, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`it contains ${describe(v)}`);
      return v;
    });
  } catch (err) {
    return fail('BAD_VALUE', `payload cannot be serialised as JSON: ${err instanceof Error ? err.message : String(err)}`, 'payload');
  }
  if (text === undefined) return fail('BAD_VALUE', `payload ${describe(payload)} is not a JSON value`, 'payload');
  return ok({ entry: text, size: Buffer.byteLength(text) + 1 });
}

function isJsonText(s: string): boolean {
  try {
    const parsed = parseJson(s);
    return parsed !== undefined;
  } catch {
    return false;
  }
}

export function encodeBatch(items: readonly BatchItem[], o: Pick<BatchOptions, 'join' | 'gzip'>): EncodedBatch {
  const text = o.join === 'lines' ? items.map((i) => i.entry).join('\n') : `[${items.map((i) => i.entry).join(',')}]`;
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
