// Subscription filters indexed by level, so dispatching a message costs O(topic depth), not O(subscriptions).

interface TrieNode<T> {
  children: Map<string, TrieNode<T>>;
  values: Set<T>;
}

function newNode<T>(): TrieNode<T> {
  return { children: new Map(), values: new Set() };
}

export class TopicTrie<T> {
  private readonly root: TrieNode<T> = newNode();
  private count = 0;

  add(filter: string, value: T): void {
    let node = this.root;
    for (const level of filter.split('/')) {
      let child = node.children.get(level);
      if (!child) {
        child = newNode();
        node.children.set(level, child);
      }
      node = child;
    }
    if (!node.values.has(value)) this.count++;
    node.values.add(value);
  }

  remove(filter: string, value: T): boolean {
    const path: Array<[TrieNode<T>, string]> = [];
    let node = this.root;
    for (const level of filter.split('/')) {
      const child = node.children.get(level);
      if (!child) return false;
      path.push([node, level]);
      node = child;
    }
    if (!node.values.delete(value)) return false;
    this.count--;
    // Prune empty branches so a long-running process does not accumulate dead nodes.
    for (let i = path.length - 1; i >= 0; i--) {
      const [parent, level] = path[i];
      const child = parent.children.get(level) as TrieNode<T>;
      if (child.values.size > 0 || child.children.size > 0) break;
      parent.children.delete(level);
    }
    return true;
  }

  /** Every value whose filter matches the concrete topic. */
  match(topic: string): T[] {
    const out: T[] = [];
    const levels = topic.split('/');
    const dollar = topic.startsWith('$');
    this.walk(this.root, levels, 0, dollar, out);
    return out;
  }

  get size(): number {
    return this.count;
  }

  private walk(node: TrieNode<T>, levels: string[], i: number, dollar: boolean, out: T[]): void {
    // Wildcards in the first level never match a topic that starts with '$'.
    const wildOk = !(dollar && i === 0);
    const hash = wildOk ? node.children.get('#') : undefined;
    if (hash) for (const v of hash.values) out.push(v);
    if (i === levels.length) {
      for (const v of node.values) out.push(v);
      return;
    }
    const exact = node.children.get(levels[i]);
    if (exact) this.walk(exact, levels, i + 1, dollar, out);
    const plus = wildOk ? node.children.get('+') : undefined;
    if (plus) this.walk(plus, levels, i + 1, dollar, out);
  }
}
