// The cost of one ACL check against acl_files of a given number of rules.
import { performance } from 'node:perf_hooks';
import { parseMosquittoAcl } from '../src/lib/acl';

/**
 * An acl_file of exactly `rules` rule lines (user lines not counted). Half of them sit in the block of the user
 * being checked, so a per-user linear scan would pay for every one; the rest belong to other users.
 */
function aclFile(rules: number): { text: string; own: number } {
  const lines: string[] = [];
  let count = 0;
  const rule = (line: string): void => {
    lines.push(line);
    count++;
  };
  rule('pattern write devices/%u/#');
  rule('pattern read commands/%c/#');
  lines.push('user device-0');
  const own = Math.floor((rules - 2) / 2);
  for (let i = 0; i < own; i++) rule(`topic ${i % 3 === 0 ? 'read' : 'write'} site/0/zone${i}/+/#`);
  for (let u = 1; count < rules; u++) {
    lines.push(`user device-${u}`);
    for (let i = 0; i < 10 && count < rules; i++) rule(`topic write site/${u}/zone${i}/+/#`);
  }
  return { text: lines.join('\n'), own };
}

/** Nanoseconds per write check for device-0: its own rules (allowed and denied), the pattern, and no match. */
function aclCost(rules: number): number {
  const { text, own } = aclFile(rules);
  const acl = parseMosquittoAcl(text);
  const who = { username: 'device-0', clientId: 'c0' };
  const topics = Array.from({ length: 64 }, (_, i) => {
    if (i % 4 === 0) return `devices/device-0/t${i}`;
    if (i % 4 === 3) return `elsewhere/${i}`;
    return `site/0/zone${(i * 7919) % own}/a/b`;
  });
  const iterations = 200000;
  let allowed = 0;
  for (let i = 0; i < 20000; i++) allowed += acl.check(who, topics[i & 63], 'write').allowed ? 1 : 0;
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) allowed += acl.check(who, topics[i & 63], 'write').allowed ? 1 : 0;
  const ns = ((performance.now() - t0) * 1e6) / iterations;
  if (allowed < 0) throw new Error('unreachable'); // keeps the loop from being optimised away
  return ns;
}

export function aclTable(): string {
  const rows = ['\n## ACL check (Mosquitto acl_file semantics)\n', '| rules | ns per check |', '|---|---|'];
  for (const n of [10, 10000]) rows.push(`| ${n} | ${Math.round(aclCost(n))} |`);
  return rows.join('\n');
}
