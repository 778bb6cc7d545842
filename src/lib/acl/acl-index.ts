// Topic-filter indexes for ACL rules. A lookup walks the topic's levels (exact child, '+', '#' and, for
// patterns, the few distinct %c/%u level templates), so its cost depends on the topic depth and on how many
// rules actually match, not on how many rules are loaded.

interface IndexNode<T> {
  children: Map<string, IndexNode<T>>;
  plus: IndexNode<T> | undefined;
  /** Rules whose filter ends with '#' at this node (they also match the parent level). */
  hash: T[];
  /** Rules whose filter ends exactly here. */
  here: T[];
  /** Pattern levels that contain %c or %u, keyed by the level text. */
  templates: Map<string, IndexNode<T>> | undefined;
}

function newNode<T>(): IndexNode<T> {
  return { children: new Map(), plus: undefined, hash: [], here: [], templates: undefined };
}

/** Substitutes %c and %u exactly as Mosquitto 2.0 does (left to right; %u stays literal without a user name). */
export function substitutePattern(pattern: string, clientId: string, username: string | undefined): string {
  if (!pattern.includes('%')) return pattern;
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '%' && i < pattern.length - 1) {
      const next = pattern[i + 1];
      if (next === 'c') {
        out += clientId;
        i++;
        continue;
      }
      if (next === 'u' && username !== undefined) {
        out += username;
        i++;
        continue;
      }
    }
    out += ch;
  }
  return out;
}

export function hasSubstitution(level: string): boolean {
  return level.includes('%c') || level.includes('%u');
}

/** Filters (valid MQTT subscription filters) → values, matched against concrete topics. */
export class FilterIndex<T> {
  private readonly root: IndexNode<T> = newNode();
  private count = 0;
  /** When true, levels containing %c/%u are stored as templates and substituted at lookup. */
  private readonly templated: boolean;

  constructor(options: { templates?: boolean } = {}) {
    this.templated = options.templates ?? false;
  }

  get size(): number {
    return this.count;
  }

  add(filter: string, value: T): void {
    let node = this.root;
    const levels = filter.split('/');
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i];
      if (level === '#' && i === levels.length - 1) {
        node.hash.push(value);
        this.count++;
        return;
      }
      let next: IndexNode<T> | undefined;
      if (level === '+') {
        next = node.plus ?? (node.plus = newNode());
      } else if (this.templated && hasSubstitution(level)) {
        const templates = node.templates ?? (node.templates = new Map<string, IndexNode<T>>());
        next = templates.get(level);
        if (!next) templates.set(level, (next = newNode()));
      } else {
        next = node.children.get(level);
        if (!next) node.children.set(level, (next = newNode()));
      }
      node = next;
    }
    node.here.push(value);
    this.count++;
  }

  /**
   * Pushes onto `out` every value whose filter matches `topic`, with MQTT rules plus Mosquitto's: a filter whose
   * first level is a wildcard never matches a topic starting with '$'. For a templated index, `clientId` and
   * `username` fill %c and %u (values whose filter needs %u are still returned; the caller skips them when
   * there is no user name, as Mosquitto does).
   */
  match(topic: string, out: T[], clientId = '', username?: string): T[] {
    const levels = topic.split('/');
    this.walk(this.root, levels, 0, topic.charCodeAt(0) === 0x24, out, clientId, username);
    return out;
  }

  private walk(
    node: IndexNode<T>,
    levels: string[],
    i: number,
    dollar: boolean,
    out: T[],
    clientId: string,
    username: string | undefined,
  ): void {
    const wildOk = !(dollar && i === 0);
    if (wildOk) for (const v of node.hash) out.push(v);
    if (i === levels.length) {
      for (const v of node.here) out.push(v);
      return;
    }
    const level = levels[i];
    const exact = node.children.get(level);
    if (exact) this.walk(exact, levels, i + 1, dollar, out, clientId, username);
    if (wildOk && node.plus) this.walk(node.plus, levels, i + 1, dollar, out, clientId, username);
    if (node.templates) {
      for (const [template, child] of node.templates) {
        const filled =
          template === '%c' ? clientId : template === '%u' ? username ?? '%u' : substitutePattern(template, clientId, username);
        if (filled === level) this.walk(child, levels, i + 1, dollar, out, clientId, username);
      }
    }
  }
}
