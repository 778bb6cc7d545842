// Differential test: the acl_file engine against the real Mosquitto 2.0.11, on seeded random files.
// Seed: printed; ACL_SEED=<n> replays a run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startMosquitto } from '../helpers/mosquitto';
import { parseMosquittoAcl } from '../../src/lib/acl/mosquitto-acl';
import { filterMatches } from '../../src/lib/mqtt/topic-rules';
import type { Access, Identity } from '../../src/lib/acl/types';
import { makeRng, seedFromEnv, type Rng } from './prng';
import { brokerAllowsPublish, closeAll, connectIdentity, roundTrip, subscribeAll, type ConnectedIdentity } from './broker-oracle';

const ADMIN = 'zz-admin';
const FILES = 10;

const USERS = ['alice', 'bob', 'carol', 'dave', 'ev+e', 'fr#nk', 'g/h'];
const WORDS = ['a', 'b', 'sensors', 'x', 'alice', 'bob', 'c1', 'dev'];
const DOLLAR = ['$SYS', '$foo'];

interface Scenario {
  acl: string;
  identities: Identity[];
  topics: string[];
  /** Subscription filters whose delivery analysis is checked against what the broker delivered. */
  filters: string[];
}

function identityPool(rng: Rng): Identity[] {
  const ids: Identity[] = [];
  const count = 5 + rng.int(4);
  const clientIds = new Set<string>();
  while (ids.length < count) {
    let clientId = rng.pick(['c1', 'c2', 'dev', 'alice', 'x', 'sensor-9', 'c+1', 'd#2', 'e/f', 'bob']);
    if (clientIds.has(clientId)) clientId = `${clientId}${ids.length}`;
    clientIds.add(clientId);
    const username = rng.chance(0.3) ? undefined : rng.pick(USERS);
    ids.push({ username, clientId });
  }
  return ids;
}

function level(rng: Rng, identities: Identity[], pattern: boolean): string {
  const r = rng.next();
  if (pattern && r < 0.25) return rng.pick(['%c', '%u', 'x%c', '%u-%c']);
  if (r < 0.4) {
    const id = rng.pick(identities);
    const v = rng.chance(0.5) ? id.clientId : id.username ?? 'anon';
    if (!v.includes('+') && !v.includes('#') && !v.includes('/')) return rng.chance(0.2) ? `x${v}` : v;
  }
  if (r < 0.45) return '';
  return rng.pick(WORDS);
}

function filter(rng: Rng, identities: Identity[], pattern: boolean): string {
  const levels: string[] = [];
  if (rng.chance(0.12)) levels.push(rng.pick(DOLLAR));
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) levels.push(rng.chance(0.2) ? '+' : level(rng, identities, pattern));
  if (rng.chance(0.3)) levels.push('#');
  if (rng.chance(0.05)) return rng.pick(['#', '+', '+/#', '$SYS/#', '$SYS/broker/connection/+/state']);
  return levels.join('/');
}

function ruleLine(rng: Rng, identities: Identity[], pattern: boolean, filters: string[]): string {
  const access = rng.pick(['', 'read ', 'write ', 'readwrite ', 'readwrite ', 'deny ']);
  let f = filter(rng, identities, pattern);
  if (f === '') f = 'a';
  filters.push(f);
  return `${pattern ? 'pattern' : 'topic'} ${access}${f}`;
}

/** A concrete topic matched by `f` (wildcards and %c/%u filled in from an identity). */
function instantiate(rng: Rng, f: string, identities: Identity[]): string {
  const id = rng.pick(identities);
  const levels: string[] = [];
  for (const l of f.split('/')) {
    if (l === '#') {
      for (let k = rng.int(3); k > 0; k--) levels.push(rng.pick(WORDS));
    } else if (l === '+') {
      levels.push(rng.pick([...WORDS, '']));
    } else {
      levels.push(l.replace(/%c/g, id.clientId).replace(/%u/g, id.username ?? 'anon'));
    }
  }
  return levels.join('/');
}

function topic(rng: Rng, identities: Identity[]): string {
  if (rng.chance(0.08)) return `$SYS/broker/connection/${rng.pick(['a', 'c1'])}/state`;
  if (rng.chance(0.04)) return rng.pick(['$SYS/x', '$share/g/a', '$foo/a', '$foo', '$SYSTEM/a']);
  const levels: string[] = [];
  if (rng.chance(0.08)) levels.push('$foo');
  const n = 1 + rng.int(4);
  for (let i = 0; i < n; i++) levels.push(level(rng, identities, false));
  return levels.join('/');
}

/** Lines Mosquitto refuses (the engine must refuse the same files). */
const BROKEN = ['topic wrtie a', 'topic read a/#/b', 'pattern read %c#', 'user', 'topic', 'frobnicate a', '  # indented comment', 'topic\tread\ta', 'topic READ a'];

function scenario(rng: Rng): Scenario {
  const identities = identityPool(rng);
  const filters: string[] = [];
  const lines: string[] = ['# generated'];
  for (let i = rng.int(3); i > 0; i--) lines.push(ruleLine(rng, identities, false, filters));
  const blocks = rng.int(5);
  for (let b = 0; b < blocks; b++) {
    if (rng.chance(0.3)) lines.push(ruleLine(rng, identities, true, filters));
    lines.push(`user ${rng.pick(USERS)}`);
    for (let i = rng.int(4); i > 0; i--) lines.push(ruleLine(rng, identities, false, filters));
    if (rng.chance(0.25)) lines.push(rng.pick(['', '   ', '\t', '#comment', ' topic read  spaced ', 'topic read \ttabbed\t', 'topic deny', 'topic write']));
  }
  for (let i = rng.chance(0.6) ? 1 + rng.int(4) : 0; i > 0; i--) lines.push(ruleLine(rng, identities, true, filters));
  if (rng.chance(0.1)) lines.splice(1 + rng.int(lines.length - 1), 0, rng.pick(BROKEN));
  // A privileged publisher for the read probes. Its own block decides everything it does.
  lines.push(`user ${ADMIN}`, 'topic readwrite #', 'topic readwrite $SYS/#', 'topic readwrite $foo/#', 'topic readwrite $foo');
  const topics = new Set<string>();
  for (let guard = 0; topics.size < 16 && guard < 1000; guard++) {
    const t = filters.length > 0 && rng.chance(0.6) ? instantiate(rng, rng.pick(filters), identities) : topic(rng, identities);
    if (t !== '' && !/[+#]/.test(t)) topics.add(t);
  }
  const subFilters = ['#', '+/#', ...new Set(filters.filter((f) => !f.includes('%')))];
  for (const extra of ['spaced', 'tabbed', 'deny', 'write']) if (lines.some((l) => l.includes(extra))) topics.add(extra);
  return { acl: lines.join(rng.chance(0.2) ? '\r\n' : '\n') + '\n', identities, topics: [...topics], filters: subFilters };
}

interface Disagreement {
  identity: Identity;
  topic: string;
  access: Access;
  broker: boolean;
  engine: boolean;
  reason: string;
}

/** Broker answers seen, per access: [denied, allowed]. The run only proves something if both occur. */
const seen: Record<Access, [number, number]> = { read: [0, 0], write: [0, 0] };
const loads = { loaded: 0, refused: 0 };
let deliveryChecks = 0;

async function runScenario(s: Scenario): Promise<{ cases: number; bad: Disagreement[] }> {
  const bad: Disagreement[] = [];
  let cases = 1;
  let engine: ReturnType<typeof parseMosquittoAcl>;
  try {
    engine = parseMosquittoAcl(s.acl);
  } catch (err) {
    const refused = await startMosquitto({ acl: s.acl, allowAnonymous: true }).then(
      async (m) => {
        await m.stop();
        return false;
      },
      () => true,
    );
    loads.refused++;
    if (!refused) bad.push({ identity: { clientId: '-' }, topic: '-', access: 'write', broker: true, engine: false, reason: `engine refused the file, Mosquitto loaded it: ${String(err)}` });
    return { cases, bad };
  }
  loads.loaded++;
  const mosq = await startMosquitto({ acl: s.acl, allowAnonymous: true, extra: ['sys_interval 0'] }).catch((err: unknown) => {
    throw new Error(`Mosquitto refused a file the engine accepted:\n${s.acl}\n${String(err)}`);
  });
  const compare = (identity: Identity, t: string, access: Access, broker: boolean): void => {
    cases++;
    seen[access][broker ? 1 : 0]++;
    const r = engine.check(identity, t, access);
    if (r.allowed !== broker) bad.push({ identity, topic: t, access, broker, engine: r.allowed, reason: r.reason });
  };
  const clients: ConnectedIdentity[] = [];
  try {
    clients.push(...(await Promise.all(s.identities.map((id) => connectIdentity(mosq.port, id)))));
    const admin = await connectIdentity(mosq.port, { username: ADMIN, clientId: 'zz-admin-client' });
    clients.push(admin);
    // write
    await Promise.all(
      clients.map(async (c) => {
        const answers = await Promise.all(s.topics.map((t) => brokerAllowsPublish(c.client, t)));
        answers.forEach((ok, i) => compare(c.identity, s.topics[i], 'write', ok));
      }),
    );
    // read
    const subscribers = clients.slice(0, -1);
    await Promise.all(subscribers.map((c) => subscribeAll(c, s.topics)));
    const published = await Promise.all(
      s.topics.map((t, i) => admin.client.publishAsync(t, `r:${i}`, { qos: 1 }).then(() => true, () => false)),
    );
    await Promise.all(subscribers.map((c) => roundTrip(c)));
    for (const c of subscribers) {
      s.topics.forEach((t, i) => {
        if (published[i]) compare(c.identity, t, 'read', c.received.has(i));
      });
      // checkSubscribe's delivery must agree with what the broker delivered for the probed topics.
      for (const f of s.filters) {
        const { delivery, deliveryReason } = engine.checkSubscribe(c.identity, f);
        if (delivery === 'some') continue;
        deliveryChecks++;
        s.topics.forEach((t, i) => {
          if (!published[i] || !filterMatches(f, t)) return;
          if (c.received.has(i) !== (delivery === 'all')) {
            bad.push({ identity: c.identity, topic: t, access: 'read', broker: c.received.has(i), engine: delivery === 'all', reason: `checkSubscribe(${f}) delivery ${delivery}: ${deliveryReason}` });
          }
        });
      }
    }
  } finally {
    await closeAll(clients);
    await mosq.stop();
  }
  return { cases, bad };
}

test('acl_file engine agrees with Mosquitto 2.0.11 on random files', { timeout: 120_000 }, async () => {
  const seed = seedFromEnv();
  console.log(`differential acl_file: seed ${seed} (replay with ACL_SEED=${seed})`);
  const rng = makeRng(seed);
  let total = 0;
  const failures: string[] = [];
  for (let f = 0; f < FILES; f++) {
    const s = scenario(rng);
    const { cases, bad } = await runScenario(s);
    total += cases;
    if (bad.length > 0) {
      failures.push(
        `--- file ${f} (seed ${seed}) ---\n${s.acl}` +
          bad
            .slice(0, 20)
            .map(
              (d) =>
                `  ${d.access} ${JSON.stringify(d.topic)} as ${JSON.stringify(d.identity)}: broker ${d.broker ? 'allows' : 'denies'}, engine ${d.engine ? 'allows' : 'denies'} (${d.reason})`,
            )
            .join('\n') +
          (bad.length > 20 ? `\n  ... and ${bad.length - 20} more` : ''),
      );
    }
  }
  console.log(`differential acl_file: ${total} cases; broker denied/allowed: write ${seen.write.join('/')}, read ${seen.read.join('/')}; files loaded/refused ${loads.loaded}/${loads.refused}; ${deliveryChecks} subscribe-delivery answers checked`);
  assert.ok(total >= 500, `only ${total} cases`);
  for (const access of ['read', 'write'] as const) {
    assert.ok(seen[access][0] > 5 && seen[access][1] > 5, `too few allowed or denied ${access} cases: ${seen[access].join('/')}`);
  }
  assert.equal(failures.length, 0, `engine and broker disagree:\n${failures.join('\n')}`);
});
