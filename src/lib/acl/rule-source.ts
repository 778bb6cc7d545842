// Where the ACL comes from: nothing, inline acl_file text, an acl_file path, or dynamic-security JSON (inline or a
// path). A file is watched and reloaded when it changes; a reload that fails keeps the previous good rules and
// reports the error. No Node-RED imports: the config node wires the events to its status and log.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { parseDynamicSecurity } from './dynamic-security';
import { parseMosquittoAcl } from './mosquitto-acl';
import type { Access, AccessChecker, AccessResult, Identity, SubscribeResult } from './types';

export type RuleSourceConfig =
  | { type: 'none' }
  | { type: 'acl-inline'; text: string }
  | { type: 'acl-file'; path: string }
  | { type: 'dynsec-inline'; json: string | object }
  | { type: 'dynsec-file'; path: string };

export interface RuleSourceOptions {
  /** How often a watched file is checked for changes (fs.watchFile polling; survives editors that replace files). */
  pollIntervalMs?: number;
  /** false: load once, do not watch. */
  watch?: boolean;
}

export interface RuleSourceEvents {
  reloaded: [checker: AccessChecker];
  error: [error: Error];
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function parse(kind: 'acl' | 'dynsec', text: string, origin: string): AccessChecker {
  try {
    return kind === 'acl' ? parseMosquittoAcl(text) : parseDynamicSecurity(text);
  } catch (err) {
    const e = toError(err);
    e.message = `${origin}: ${e.message}`;
    throw e;
  }
}

/**
 * Loads the rules at construction (throws if that first load fails, with the file and line in the message), then
 * watches a file source. Events: 'reloaded' (new rules in force), 'error' (a reload failed; the previous rules stay).
 * 'error' is only emitted when someone listens, so an unhandled reload problem can never crash the process.
 */
export class RuleSource extends EventEmitter<RuleSourceEvents> {
  readonly config: RuleSourceConfig;
  private current: AccessChecker | undefined;
  private lastText: string | undefined;
  private error: Error | undefined;
  private watching = false;
  private watcher: fs.FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private readonly pollIntervalMs: number;
  private readonly onChange = (curr: fs.Stats, prev: fs.Stats): void => {
    if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size && curr.ino === prev.ino && curr.nlink === prev.nlink) return;
    this.scheduleReload();
  };

  /** Several events for one save (truncate, write, rename) become one reload. */
  private scheduleReload(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.reload();
    }, 10);
  }

  constructor(config: RuleSourceConfig, options: RuleSourceOptions = {}) {
    super();
    this.config = config;
    this.pollIntervalMs = options.pollIntervalMs ?? 2000;
    switch (config.type) {
      case 'none':
        break;
      case 'acl-inline':
        this.current = parse('acl', config.text, 'inline acl_file');
        break;
      case 'dynsec-inline':
        try {
          this.current = parseDynamicSecurity(config.json);
        } catch (err) {
          const e = toError(err);
          e.message = `inline dynamic-security: ${e.message}`;
          throw e;
        }
        break;
      case 'acl-file':
      case 'dynsec-file': {
        const text = this.read(config.path);
        this.current = parse(config.type === 'acl-file' ? 'acl' : 'dynsec', text, config.path);
        this.lastText = text;
        if (options.watch !== false) {
          // inotify-style events react at once (even to two writes within one timestamp tick); stat polling
          // also catches editors that replace the file, which ends an fs.watch handle.
          fs.watchFile(config.path, { interval: this.pollIntervalMs, persistent: true }, this.onChange);
          this.watching = true;
          try {
            this.watcher = fs.watch(config.path, { persistent: false }, () => this.scheduleReload());
            this.watcher.on('error', () => this.watcher?.close());
          } catch {
            this.watcher = undefined;
          }
        }
        break;
      }
    }
  }

  /** The rules in force, or undefined when the source is 'none'. */
  get checker(): AccessChecker | undefined {
    return this.current;
  }

  /** The error of the last failed reload (cleared by a successful one). */
  get lastError(): Error | undefined {
    return this.error;
  }

  /** With no rules configured every check is allowed (the broker's own rules are unknown). */
  check(identity: Identity, topic: string, access: Access): AccessResult {
    if (!this.current) return { allowed: true, reason: 'no ACL configured' };
    return this.current.check(identity, topic, access);
  }

  checkSubscribe(identity: Identity, filter: string): SubscribeResult {
    if (!this.current) return { allowed: true, reason: 'no ACL configured', delivery: 'all', deliveryReason: 'no ACL configured' };
    return this.current.checkSubscribe(identity, filter);
  }

  /** Re-reads a file source now. Returns true when new rules are in force. */
  reload(): boolean {
    const config = this.config;
    if (config.type !== 'acl-file' && config.type !== 'dynsec-file') return false;
    let text: string;
    let checker: AccessChecker;
    try {
      text = this.read(config.path);
      if (text === this.lastText && !this.error) return false;
      checker = parse(config.type === 'acl-file' ? 'acl' : 'dynsec', text, config.path);
    } catch (err) {
      this.error = toError(err);
      this.error.message = `${this.error.message} (keeping the previous rules)`;
      if (this.listenerCount('error') > 0) this.emit('error', this.error);
      return false;
    }
    this.lastText = text;
    this.current = checker;
    this.error = undefined;
    this.emit('reloaded', checker);
    return true;
  }

  /** Stops watching the file. */
  close(): void {
    if (this.watching && (this.config.type === 'acl-file' || this.config.type === 'dynsec-file')) {
      fs.unwatchFile(this.config.path, this.onChange);
      this.watching = false;
    }
    this.watcher?.close();
    this.watcher = undefined;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = undefined;
    this.removeAllListeners();
  }

  private read(path: string): string {
    try {
      return fs.readFileSync(path, 'utf8');
    } catch (err) {
      const e = toError(err);
      throw new Error(`cannot read ${path}: ${e.message}`);
    }
  }
}
