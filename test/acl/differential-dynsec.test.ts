// Differential test: the dynamic-security engine against Mosquitto 2.0.11 with its plugin, on seeded random
// configurations. Seed: printed; ACL_SEED=<n> replays a run.
// Each configuration runs on two brokers: A is the configuration as generated (publish and subscribe probes);
// B adds a subscribe-only role (priority 1000) so every identity can subscribe '#' for the delivery probes. A role
// without publishClientReceive ACLs changes no delivery decision, so A and B agree on reads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startMosquitto } from '../helpers/mosquitto';
import { parseDynamicSecurity } from '../../src/lib/acl/dynamic-security';
import { filterMatches } from '../../src/lib/mqtt/topic-rules';
import type { Identity } from '../../src/lib/acl/types';
import { makeRng, seedFromEnv, type Rng } from './prng';
import {
  brokerAllowsPublish,
  brokerAllowsSubscribe,
  closeAll,
  connectIdentity,
  roundTrip,
  subscribeAll,
  type ConnectedIdentity,
} from './broker-oracle';
import { hashedPassword } from './dynsec-fixture';

const CONFIGS = 8;
const PASSWORD = 'pw-123';
const ADMIN = 'zz-admin';
const WORDS = ['a', 'b', 'sensors', 'x', 'alice', 'c1', ''];
const ROLES = ['r-a', 'r-b', 'r-c', 'r-d'];
const GROUPS = ['g1', 'g2'];
const USERS = ['alice', 'bob', 'carol'];
const SEND_RECV = ['publishClientSend', 'publishClientReceive'] as const;

type Obj = Record<string, unknown>;

function filter(rng: Rng): string {
  if (rng.chance(0.08)) return rng.pick(['#', '+/#', '$SYS/#', '$foo/#', '$CONTROL/#', '+']);
  const levels: string[] = [];
  if (rng.chance(0.1)) levels.push('$foo');
  for (let n = 1 + rng.int(3); n > 0; n--) levels.push(rng.chance(0.25) ? '+' : rng.pick(WORDS));
  if (rng.chance(0.3)) levels.push('#');
  const f = levels.join('/');
  return f === '' ? 'a' : f;
}

function instantiate(rng: Rng, f: string): string {
  const out: string[] = [];
  for (const l of f.split('/')) {
    if (l === '#') for (let k = rng.int(3); k > 0; k--) out.push(rng.pick(WORDS));
    else if (l === '+') out.push(rng.pick(WORDS));
    else out.push(l);
  }
  const t = out.join('/');
  return t === '' ? 'a' : t;
}

function maybe<T>(rng: Rng, value: T, p = 0.7): T | undefined {
  return rng.chance(p) ? value : undefined;
}

interface Scenario {
  config: Obj;
  identities: Identity[];
  topics: string[];
  filters: string[];
}

function scenario(rng: Rng, n: number): Scenario {
  const filters: string[] = [];
  const roles: Obj[] = ROLES.slice(0, 2 + rng.int(3)).map((rolename) => {
    const acls: Obj[] = [];
    for (let n = rng.int(6); n > 0; n--) {
      const r = rng.next();
      const acltype = r < 0.7 ? rng.pick(SEND_RECV) : r < 0.85 ? 'subscribePattern' : 'subscribeLiteral';
      const topic = filter(rng);
      if (acls.some((a) => a.acltype === acltype && a.topic === topic)) continue;
      filters.push(topic);
      acls.push({ acltype, topic, priority: maybe(rng, rng.pick([0, 1, 2, -1])), allow: maybe(rng, rng.chance(0.6), 0.9) });
    }
    return { rolename, acls };
  });
  const roleRefs = (max: number): Obj[] => {
    const names = new Set<string>();
    for (let n = rng.int(max + 1); n > 0; n--) names.add(rng.pick(roles).rolename as string);
    return [...names].map((rolename) => ({ rolename, priority: maybe(rng, rng.pick([0, 1, 5]), 0.5) }));
  };
  // Membership is listed in the group (groups[].clients), as the plugin stores it.
  const groups: Obj[] = GROUPS.map((groupname) => ({
    groupname,
    roles: roleRefs(2),
    clients: USERS.filter(() => rng.chance(0.4)).map((username) => ({ username, priority: maybe(rng, rng.pick([0, 1, 3]), 0.5) })),
  }));
  const clients: Obj[] = USERS.map((username) => ({ username, ...hashedPassword(PASSWORD), roles: roleRefs(2) }));
  const defaultACLAccess: Obj = {};
  for (const k of ['publishClientSend', 'publishClientReceive', 'subscribe', 'unsubscribe']) {
    // The first two configurations pin the defaults (all true, all false) so every run sees both outcomes.
    if (n < 2) defaultACLAccess[k] = n === 0;
    else if (rng.chance(0.85)) defaultACLAccess[k] = rng.chance(0.5);
  }
  const config: Obj = { defaultACLAccess, clients, groups, roles };
  if (rng.chance(0.6)) config.anonymousGroup = rng.pick(GROUPS);

  const identities: Identity[] = [
    ...USERS.map((username, i) => ({ username, clientId: `${username}-${i}` })),
    { clientId: 'anon-1' },
    { clientId: 'c1' },
  ];
  const topics = new Set<string>();
  for (let guard = 0; topics.size < 16 && guard < 500; guard++) {
    if (rng.chance(0.1)) topics.add(rng.pick(['$SYS/broker/connection/a/state', '$SYS/x', '$CONTROL/x', '$CONTROLLER/a', '$share/g/a', '$foo/a']));
    else topics.add(instantiate(rng, filters.length > 0 && rng.chance(0.7) ? rng.pick(filters) : filter(rng)));
  }
  const subFilters = new Set<string>(['#', '$share/g/a/#']);
  for (let guard = 0; subFilters.size < 8 && guard < 200; guard++) {
    subFilters.add(filters.length > 0 && rng.chance(0.6) ? rng.pick(filters) : rng.chance(0.5) ? filter(rng) : instantiate(rng, filter(rng)));
  }
  return { config, identities, topics: [...topics], filters: [...subFilters] };
}

/** Adds the privileged publisher (both brokers) and, for broker B, the subscribe-everything role. */
function withHelpers(config: Obj, forReads: boolean): Obj {
  const c = JSON.parse(JSON.stringify(config)) as Obj & { clients: Obj[]; roles: Obj[]; groups: Obj[] };
  c.roles.push({
    rolename: 'zz-pub',
    acls: ['#', '$SYS/#', '$foo/#', '$foo'].map((topic) => ({ acltype: 'publishClientSend', topic, allow: true, priority: 1000 })),
  });
  c.clients.push({ username: ADMIN, ...hashedPassword(PASSWORD), roles: [{ rolename: 'zz-pub', priority: 1000 }] });
  if (forReads) {
    c.roles.push({ rolename: 'zz-sub', acls: [{ acltype: 'subscribePattern', topic: '#', allow: true, priority: 1000 }] });
    for (const client of c.clients) (client.roles as Obj[]).push({ rolename: 'zz-sub', priority: 1000 });
    const anon = typeof c.anonymousGroup === 'string' ? c.groups.find((g) => g.groupname === c.anonymousGroup) : undefined;
    if (anon) (anon.roles as Obj[]).push({ rolename: 'zz-sub', priority: 1000 });
    else {
      c.groups.push({ groupname: 'zz-anon', roles: [{ rolename: 'zz-sub', priority: 1000 }] });
      c.anonymousGroup = 'zz-anon';
    }
  }
  return c;
}

const seen = { write: [0, 0], read: [0, 0], subscribe: [0, 0] };
let deliveryChecks = 0;

async function connectAll(port: number, identities: Identity[]): Promise<ConnectedIdentity[]> {
  return Promise.all(identities.map((id) => connectIdentity(port, id, id.username === undefined ? undefined : PASSWORD)));
}

async function runScenario(s: Scenario): Promise<{ cases: number; bad: string[] }> {
  const engine = parseDynamicSecurity(s.config);
  const bad: string[] = [];
  let cases = 0;
  const compare = (kind: 'write' | 'read' | 'subscribe', identity: Identity, what: string, broker: boolean): void => {
    cases++;
    seen[kind][broker ? 1 : 0]++;
    const r = kind === 'subscribe' ? engine.checkSubscribe(identity, what) : engine.check(identity, what, kind);
    if (r.allowed !== broker) {
      bad.push(`  ${kind} ${JSON.stringify(what)} as ${JSON.stringify(identity)}: broker ${broker ? 'allows' : 'denies'}, engine ${r.allowed ? 'allows' : 'denies'} (${r.reason})`);
    }
  };
  const dynA = withHelpers(s.config, false);
  const a = await startMosquitto({ dynamicSecurity: dynA, allowAnonymous: true, extra: ['sys_interval 0'] });
  let clients: ConnectedIdentity[] = [];
  try {
    clients = await connectAll(a.port, s.identities);
    await Promise.all(
      clients.map(async (c) => {
        const pubs = await Promise.all(s.topics.map((t) => brokerAllowsPublish(c.client, t)));
        pubs.forEach((ok, i) => compare('write', c.identity, s.topics[i], ok));
        const subs = await Promise.all(s.filters.map((f) => brokerAllowsSubscribe(c.client, f)));
        subs.forEach((ok, i) => compare('subscribe', c.identity, s.filters[i], ok));
      }),
    );
  } finally {
    await closeAll(clients);
    await a.stop();
  }
  const b = await startMosquitto({ dynamicSecurity: withHelpers(s.config, true), allowAnonymous: true, extra: ['sys_interval 0'] });
  clients = [];
  try {
    clients = await connectAll(b.port, s.identities);
    const admin = await connectIdentity(b.port, { username: ADMIN, clientId: 'zz-admin-client' }, PASSWORD);
    await Promise.all(clients.map((c) => subscribeAll(c, s.topics)));
    clients.push(admin);
    const published = await Promise.all(s.topics.map((t, i) => admin.client.publishAsync(t, `r:${i}`, { qos: 1 }).then(() => true, () => false)));
    const subscribers = clients.slice(0, -1);
    await Promise.all(subscribers.map((c) => roundTrip(c)));
    for (const c of subscribers) {
      s.topics.forEach((t, i) => {
        if (published[i]) compare('read', c.identity, t, c.received.has(i));
      });
      // checkSubscribe's delivery must agree with what the broker delivered for the probed topics.
      for (const f of s.filters) {
        const { delivery, deliveryReason } = engine.checkSubscribe(c.identity, f);
        if (delivery === 'some') continue;
        deliveryChecks++;
        s.topics.forEach((t, i) => {
          if (published[i] && filterMatches(f.startsWith('$share/') ? f.split('/').slice(2).join('/') : f, t) && c.received.has(i) !== (delivery === 'all')) {
            bad.push(`  delivery of ${JSON.stringify(t)} through ${f} as ${JSON.stringify(c.identity)}: broker ${c.received.has(i) ? 'delivered' : 'did not deliver'}, engine said ${delivery} (${deliveryReason})`);
          }
        });
      }
    }
  } finally {
    await closeAll(clients);
    await b.stop();
  }
  return { cases, bad };
}

test('dynamic-security engine agrees with Mosquitto 2.0.11 and its plugin on random configurations', { timeout: 120_000 }, async () => {
  const seed = seedFromEnv();
  console.log(`differential dynsec: seed ${seed} (replay with ACL_SEED=${seed})`);
  const rng = makeRng(seed);
  let total = 0;
  const failures: string[] = [];
  for (let n = 0; n < CONFIGS; n++) {
    const s = scenario(rng, n);
    const { cases, bad } = await runScenario(s);
    total += cases;
    if (bad.length > 0) {
      failures.push(`--- configuration ${n} (seed ${seed}) ---\n${JSON.stringify(s.config, (k, v: unknown) => (k === 'password' || k === 'salt' ? undefined : v), 1)}\n${bad.slice(0, 20).join('\n')}${bad.length > 20 ? `\n  ... and ${bad.length - 20} more` : ''}`);
    }
  }
  console.log(
    `differential dynsec: ${total} cases; broker denied/allowed: write ${seen.write.join('/')}, read ${seen.read.join('/')}, subscribe ${seen.subscribe.join('/')}; ${deliveryChecks} subscribe-delivery answers checked`,
  );
  assert.ok(total >= 500, `only ${total} cases`);
  for (const [kind, [denied, allowed]] of Object.entries(seen)) {
    assert.ok(denied > 5 && allowed > 5, `too few allowed or denied ${kind} cases: ${denied}/${allowed}`);
  }
  assert.equal(failures.length, 0, `engine and broker disagree:\n${failures.join('\n')}`);
});

test('dynamic-security ordering corner cases agree with the broker (ties, literal before pattern, roles before groups)', { timeout: 60_000 }, async () => {
  const send = (topic: string, allow: boolean, priority?: number): Obj => ({ acltype: 'publishClientSend', topic, allow, priority });
  const recv = (topic: string, allow: boolean, priority?: number): Obj => ({ acltype: 'publishClientReceive', topic, allow, priority });
  const sub = (acltype: string, topic: string, allow: boolean, priority?: number): Obj => ({ acltype, topic, allow, priority });
  const client = (username: string, roles: string[], priorities: Array<number | undefined> = []): Obj => ({
    username,
    ...hashedPassword(PASSWORD),
    roles: roles.map((rolename, i) => ({ rolename, priority: priorities[i] })),
  });
  const ids: Identity[] = USERS.map((username, i) => ({ username, clientId: `${username}-${i}` }));
  const scenarios: Scenario[] = [
    {
      // Equal role priorities: listed b-allow first for alice, a-deny first for bob.
      config: {
        defaultACLAccess: {},
        roles: [
          { rolename: 'b-allow', acls: [send('x', true), recv('x', true), sub('subscribePattern', 'x', true)] },
          { rolename: 'a-deny', acls: [send('x', false), recv('x', false), sub('subscribePattern', 'x', false)] },
        ],
        groups: [],
        clients: [client('alice', ['b-allow', 'a-deny']), client('bob', ['a-deny', 'b-allow']), client('carol', ['b-allow', 'a-deny'], [1, 1])],
      },
      identities: ids,
      topics: ['x'],
      filters: ['x'],
    },
    {
      // Equal group priorities, client roles before groups, ACL ties inside a role keep their order.
      config: {
        defaultACLAccess: {},
        roles: [
          { rolename: 'allow', acls: [send('x', true), recv('x', true), send('y', true)] },
          { rolename: 'deny', acls: [send('x', false), recv('x', false)] },
          { rolename: 'ties', acls: [send('y', false), send('+', true), recv('+', true), recv('y', false)] },
        ],
        groups: [
          { groupname: 'g-b', roles: [{ rolename: 'allow' }], clients: [{ username: 'alice' }, { username: 'bob', priority: 2 }] },
          { groupname: 'g-a', roles: [{ rolename: 'deny' }], clients: [{ username: 'alice' }, { username: 'bob', priority: 1 }] },
        ],
        clients: [client('alice', []), client('bob', []), client('carol', ['ties'])],
      },
      identities: ids,
      topics: ['x', 'y'],
      filters: ['x'],
    },
    {
      // subscribeLiteral is looked up before subscribePattern in the same role, whatever the priorities.
      config: {
        defaultACLAccess: { subscribe: true },
        roles: [
          { rolename: 'r', acls: [sub('subscribePattern', 'a/#', true, 5), sub('subscribeLiteral', 'a/b', false), sub('subscribePattern', 'c/+', false, 1), sub('subscribePattern', '#', true)] },
          { rolename: 'hi', acls: [sub('subscribeLiteral', 'c/d', true)] },
        ],
        groups: [],
        clients: [client('alice', ['r']), client('bob', ['r', 'hi'], [1, 2]), client('carol', [])],
      },
      identities: ids,
      topics: ['a/b'],
      filters: ['a/b', 'a/c', 'c/d', 'c/e', '$SYS/#', '$share/g/a/b', '+/b'],
    },
    {
      // Entries the plugin skips (an unknown acltype, no topic, an invalid filter, no rolename, an entry that is no
      // object, an unknown role) or reads with a default (allow or priority of the wrong type): the broker runs on
      // without them, and the engine decides as it does.
      config: {
        defaultACLAccess: { publishClientReceive: true, subscribe: true },
        roles: [
          {
            rolename: 'r',
            acls: [
              send('a/#/b', true),
              { acltype: 'publish', topic: 'x', allow: true },
              { acltype: 'publishClientSend', allow: true },
              'not an object',
              { acltype: 'publishClientSend', topic: 'y', allow: 'yes' },
              { acltype: 'publishClientSend', topic: 'z', allow: true, priority: 'high' },
              send('w', true),
            ],
          },
          { acls: [send('x', true), send('y', true)] },
        ],
        groups: [],
        clients: [client('alice', ['r', 'nope']), client('bob', ['nope']), client('carol', ['r'])],
      },
      identities: ids,
      topics: ['a/x/b', 'x', 'y', 'z', 'w'],
      filters: ['x'],
    },
  ];
  const failures: string[] = [];
  let total = 0;
  for (const s of scenarios) {
    const { cases, bad } = await runScenario(s);
    total += cases;
    if (bad.length > 0) failures.push(`${JSON.stringify(s.config, (k, v: unknown) => (k === 'password' || k === 'salt' ? undefined : v))}\n${bad.join('\n')}`);
  }
  assert.ok(total > 30);
  assert.equal(failures.length, 0, `engine and broker disagree:\n${failures.join('\n')}`);
});
