// What a kept session holds at the broker (filter → options last sent), kept on disk so a restarted Node-RED knows
// it too: without it, filters the old process had stay in the session until it expires (delivering to nobody), and
// options it narrowed (no local, retain as published) are never widened again, since Mosquitto ignores them in a
// second SUBSCRIBE. Small and rarely written: the whole file is rewritten, through a rename, once per turn of changes.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseJson } from '../json';
import type { SubscribeOptions } from './subscriptions';

/** The file of one session (transport, host, port, client id) under `dir`. */
export function sessionFilePath(dir: string, key: string): string {
  return path.join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
}

function isOptions(v: unknown): v is SubscribeOptions {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return (o.qos === 0 || o.qos === 1 || o.qos === 2) && [o.nl, o.rap].every((b) => b === undefined || typeof b === 'boolean') && (o.rh === undefined || o.rh === 0 || o.rh === 1 || o.rh === 2);
}

/** What the file says of `key`; nothing when it is missing, unreadable, another session's, or malformed. */
export function readSessionFile(file: string, key: string): Array<[string, SubscribeOptions]> {
  let doc: unknown;
  try {
    doc = parseJson(fs.readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
  if (typeof doc !== 'object' || doc === null) return [];
  const d = doc as { key?: unknown; filters?: unknown };
  if (d.key !== key || typeof d.filters !== 'object' || d.filters === null) return [];
  const entries: Array<[string, unknown]> = Object.entries(d.filters as Record<string, unknown>);
  return entries.filter((e): e is [string, SubscribeOptions] => isOptions(e[1]));
}

/** A session memory that writes itself to `file` after each turn of changes. The first failure calls `onError`. */
export class SessionFile extends Map<string, SubscribeOptions> {
  private scheduled = false;
  private ready = false;
  private failed = false;

  constructor(
    private readonly file: string,
    private readonly key: string,
    entries: Iterable<[string, SubscribeOptions]>,
    private readonly onError: (err: Error) => void = () => undefined,
  ) {
    super(entries);
    this.ready = true;
  }

  override set(filter: string, options: SubscribeOptions): this {
    super.set(filter, options);
    this.changed();
    return this;
  }

  override delete(filter: string): boolean {
    const had = super.delete(filter);
    if (had) this.changed();
    return had;
  }

  override clear(): void {
    const had = this.size > 0;
    super.clear();
    if (had) this.changed();
  }

  /** Writes now (a close: the process may end before the next turn). */
  flush(): void {
    if (!this.scheduled) return;
    this.scheduled = false;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ key: this.key, filters: Object.fromEntries(this) }), { mode: 0o600 });
      fs.renameSync(tmp, this.file);
    } catch (err) {
      if (this.failed) return;
      this.failed = true;
      try {
        this.onError(err instanceof Error ? err : new Error(String(err)));
      } catch {
        // runs in a setImmediate: nothing may escape into the event loop
      }
    }
  }

  private changed(): void {
    // Map's constructor adds the first entries through set(): those are what the file already says.
    if (!this.ready || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }
}
