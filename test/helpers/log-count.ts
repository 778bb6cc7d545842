/**
 * Counts a pattern's matches in a log that only grows, reading each whole line once: tests poll such counts every
 * few milliseconds while a broker logs thousands of packets. Patterns must not span lines.
 */
export function logCounter(text: () => string): (pattern: RegExp) => number {
  const counts = new Map<string, { at: number; n: number }>();
  return (pattern) => {
    const flags = pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`;
    const key = `${flags}/${pattern.source}`;
    const c = counts.get(key) ?? { at: 0, n: 0 };
    const log = text();
    const end = log.lastIndexOf('\n') + 1;
    if (end > c.at) {
      c.n += (log.slice(c.at, end).match(new RegExp(pattern.source, flags)) ?? []).length;
      c.at = end;
    }
    counts.set(key, c);
    return c.n;
  };
}
