// Mosquitto 2.0.11 dynamic-security plugin: its JSON configuration and its ACL decision
// (plugins/dynamic-security/acl.c). Roles are indexed by topic, so a check costs O(roles of the client × depth).
import { checkSubscriptionFilter, parseSharedFilter } from '../mqtt/topic-rules';
import { FilterIndex } from './acl-index';
import { jsonErrorOffset } from './json-position';
import { brokerPrecheck } from './broker-rules';
import { analyseDelivery, type OrderedReadRule } from './filter-relations';
import { AclSyntaxError, type Access, type AccessChecker, type AccessResult, type Identity, type SubscribeResult } from './types';

export type DynsecAclType =
  | 'publishClientSend'
  | 'publishClientReceive'
  | 'subscribeLiteral'
  | 'subscribePattern'
  | 'unsubscribeLiteral'
  | 'unsubscribePattern';

const ACL_TYPES: readonly DynsecAclType[] = [
  'publishClientSend',
  'publishClientReceive',
  'subscribeLiteral',
  'subscribePattern',
  'unsubscribeLiteral',
  'unsubscribePattern',
];

export interface DynsecAcl {
  readonly acltype: DynsecAclType;
  readonly topic: string;
  readonly priority: number;
  readonly allow: boolean;
  /** Position in the role's acls array (ties in priority keep this order). */
  readonly position: number;
}

interface Role {
  name: string;
  send: FilterIndex<DynsecAcl>;
  receive: FilterIndex<DynsecAcl>;
  receiveOrdered: DynsecAcl[];
  subscribeLiteral: Map<string, DynsecAcl>;
  subscribePattern: DynsecAcl[];
}

interface ChainLink {
  role: Role;
  via: string | undefined;
}

interface Client {
  username: string;
  clientid: string | undefined;
  disabled: boolean;
  chain: ChainLink[];
}

export interface DefaultAclAccess {
  publishClientSend: boolean;
  publishClientReceive: boolean;
  subscribe: boolean;
  unsubscribe: boolean;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A plain-JSON copy of an object the caller handed in; a BigInt or a cycle is a syntax error, not a TypeError. */
function copyJson(input: object): Json {
  try {
    return JSON.parse(JSON.stringify(input)) as Json;
  } catch (err) {
    throw new AclSyntaxError(`dynamic-security: not JSON data: ${(err as Error).message}`);
  }
}

function fail(path: string, message: string): never {
  throw new AclSyntaxError(`dynamic-security ${path}: ${message}`);
}

function arrayAt(obj: JsonObject, key: string, path: string): Json[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(`${path}.${key}`, 'must be an array');
  return v;
}

/**
 * What the plugin's loader does with an entry it cannot use: it skips it (or takes the default) and the broker runs
 * on. So does the engine, so its decisions stay the broker's; each such entry becomes a warning.
 */
class Lenient {
  readonly warnings: string[] = [];

  skip(path: string, why: string): undefined {
    this.warnings.push(`dynamic-security ${path} ${why}: Mosquitto skips it`);
    return undefined;
  }

  /** An optional array inside an entry (acls, roles, clients): anything else counts as absent. */
  list(obj: JsonObject, key: string, path: string): Json[] {
    const v = obj[key];
    if (v === undefined || v === null) return [];
    if (Array.isArray(v)) return v;
    this.warnings.push(`dynamic-security ${path}.${key} is not an array: Mosquitto ignores it`);
    return [];
  }

  name(obj: JsonObject, key: string, path: string): string | undefined {
    const v = obj[key];
    return typeof v === 'string' && v !== '' ? v : this.skip(path, `has no ${key}`);
  }

  int(obj: JsonObject, key: string, path: string, dflt: number): number {
    const v = obj[key];
    if (v === undefined) return dflt;
    if (typeof v === 'number' && Number.isFinite(v)) {
      if (!Number.isInteger(v)) this.warnings.push(`dynamic-security ${path}.${key} ${v} is not an integer: Mosquitto uses ${Math.trunc(v)}`);
      return Math.trunc(v);
    }
    this.warnings.push(`dynamic-security ${path}.${key} is not a number: Mosquitto uses ${dflt}`);
    return dflt;
  }

  bool(obj: JsonObject, key: string, path: string, dflt: boolean): boolean {
    const v = obj[key];
    if (v === undefined) return dflt;
    if (typeof v === 'boolean') return v;
    this.warnings.push(`dynamic-security ${path}.${key} is not true or false: Mosquitto uses ${dflt}`);
    return dflt;
  }
}

/** JSON.parse with the line of a syntax error in the message. */
function parseJsonText(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (err) {
    // V8 quotes the start of the text ('Unexpected token 'a', "alice:$7$1"... is not valid JSON'): a password file
    // given here by mistake would put a hash in the log, so the quote is cut off.
    const msg = (err instanceof Error ? err.message : String(err)).replace(/, ".*$/s, '');
    const offset = jsonErrorOffset(text);
    const line = offset >= 0 ? text.slice(0, offset).split('\n').length : undefined;
    throw new AclSyntaxError(`dynamic-security${line ? ` line ${line}` : ''}: invalid JSON: ${msg}`, line);
  }
}

/** Roles, then groups, by priority (highest first); equal priorities by name. */
function byPriorityThenName<T extends { priority: number; name: string }>(a: T, b: T): number {
  return b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

function byAclOrder(a: DynsecAcl, b: DynsecAcl): number {
  return b.priority - a.priority || a.position - b.position;
}

/** The plugin's sub_acl_check(): may a subscribePattern `acl` grant the SUBSCRIBE filter `sub`? (No '$' rule.) */
export function subscribePatternCovers(acl: string, sub: string): boolean {
  if (acl === '#') return true;
  const stripHash = (s: string): { base: string; hash: boolean } => {
    if (s === '#') return { base: '', hash: true };
    if (s.length > 1 && s.endsWith('/#')) return { base: s.slice(0, -2), hash: true };
    return { base: s, hash: false };
  };
  const a = stripHash(acl);
  const s = stripHash(sub);
  if (s.hash && !a.hash) return false;
  const al = a.base.split('/');
  const sl = s.base.split('/');
  if (al.length > sl.length) return false;
  if (sl.length > al.length && !a.hash) return false;
  for (let i = 0; i < sl.length; i++) {
    if (i < al.length && (al[i] === '+' || al[i] === sl[i])) continue;
    if (i >= al.length && a.hash) continue;
    return false;
  }
  return true;
}

/** One entry of a role's acls, or undefined (with a warning) for one the plugin skips. */
function aclEntry(a: Json, path: string, position: number, lenient: Lenient): DynsecAcl | undefined {
  if (!isObject(a)) return lenient.skip(path, 'is not an object');
  const typeRaw = a.acltype;
  const acltype = typeof typeRaw === 'string' ? ACL_TYPES.find((t) => t.toLowerCase() === typeRaw.toLowerCase()) : undefined;
  if (!acltype) return lenient.skip(path, `has an unknown acltype ${JSON.stringify(typeRaw ?? null)} (expected ${ACL_TYPES.join(', ')})`);
  const topic = a.topic;
  if (typeof topic !== 'string') return lenient.skip(path, 'has no topic');
  // The plugin loads such a filter, but Mosquitto's topic matching refuses it, so it never matches.
  const bad = (acltype === 'publishClientSend' || acltype === 'publishClientReceive' || acltype.endsWith('Pattern')) && checkSubscriptionFilter(topic);
  if (bad) return lenient.skip(path, `has an invalid topic filter "${topic}" (${bad.message}), which never matches`);
  return { acltype, topic, priority: lenient.int(a, 'priority', path, 0), allow: lenient.bool(a, 'allow', path, false), position };
}

/** A role's ACLs (already in decision order) indexed by kind. */
function indexRole(name: string, acls: readonly DynsecAcl[]): Role {
  const role: Role = { name, send: new FilterIndex(), receive: new FilterIndex(), receiveOrdered: [], subscribeLiteral: new Map(), subscribePattern: [] };
  for (const acl of acls) {
    if (acl.acltype === 'publishClientSend') role.send.add(acl.topic, acl);
    else if (acl.acltype === 'publishClientReceive') {
      role.receive.add(acl.topic, acl);
      role.receiveOrdered.push(acl);
    } else if (acl.acltype === 'subscribeLiteral') {
      if (!role.subscribeLiteral.has(acl.topic)) role.subscribeLiteral.set(acl.topic, acl);
    } else if (acl.acltype === 'subscribePattern') role.subscribePattern.push(acl);
  }
  return role;
}

function describeAcl(link: ChainLink, acl: DynsecAcl): string {
  const via = link.via ? ` (via ${link.via})` : '';
  const prio = acl.priority !== 0 ? ` priority ${acl.priority}` : '';
  return `role ${link.role.name}${via}: ${acl.acltype} ${acl.topic} ${acl.allow ? 'allow' : 'deny'}${prio}`;
}

export class DynamicSecurityConfig implements AccessChecker {
  readonly kind = 'dynamic-security' as const;
  readonly defaultACLAccess: Readonly<DefaultAclAccess>;
  readonly anonymousGroup: string | undefined;
  readonly ruleCount: number;
  /** Things Mosquitto accepts but ignores or that are probably mistakes. */
  readonly warnings: readonly string[];
  /** Some client carries a password hash (a copy of the broker's real file): fine in a file, not in a flow. */
  readonly holdsPasswordHashes: boolean;
  private readonly clients = new Map<string, Client>();
  private readonly anonymousChain: ChainLink[];

  constructor(input: string | object) {
    const root: Json = typeof input === 'string' ? parseJsonText(input) : copyJson(input);
    if (!isObject(root)) fail('(top level)', 'must be a JSON object');
    // Only a top-level list that is not an array makes the plugin refuse the file; entries it cannot use are skipped.
    const lenient = new Lenient();

    const dflt = root.defaultACLAccess;
    const d: JsonObject = isObject(dflt) ? dflt : {};
    this.defaultACLAccess = {
      publishClientSend: lenient.bool(d, 'publishClientSend', 'defaultACLAccess', false),
      publishClientReceive: lenient.bool(d, 'publishClientReceive', 'defaultACLAccess', false),
      subscribe: lenient.bool(d, 'subscribe', 'defaultACLAccess', false),
      unsubscribe: lenient.bool(d, 'unsubscribe', 'defaultACLAccess', false),
    };

    const roles = new Map<string, Role>();
    let ruleCount = 0;
    arrayAt(root, 'roles', '').forEach((r, i) => {
      const path = `roles[${i}]`;
      if (!isObject(r)) return lenient.skip(path, 'is not an object');
      const name = lenient.name(r, 'rolename', path);
      if (name === undefined) return;
      const acls: DynsecAcl[] = [];
      lenient.list(r, 'acls', path).forEach((a, j) => {
        const acl = aclEntry(a, `${path}.acls[${j}]`, j, lenient);
        if (acl) acls.push(acl);
      });
      acls.sort(byAclOrder);
      ruleCount += acls.length;
      roles.set(name, indexRole(name, acls));
    });
    this.ruleCount = ruleCount;

    const roleList = (owner: JsonObject, path: string, via: string | undefined): ChainLink[] => {
      const list: Array<{ priority: number; name: string; role: Role }> = [];
      lenient.list(owner, 'roles', path).forEach((r, i) => {
        const rpath = `${path}.roles[${i}]`;
        if (!isObject(r)) return lenient.skip(rpath, 'is not an object');
        const name = lenient.name(r, 'rolename', rpath);
        if (name === undefined) return;
        const role = roles.get(name);
        if (!role) return lenient.skip(rpath, `names unknown role "${name}"`);
        if (!list.some((l) => l.name === name)) list.push({ priority: lenient.int(r, 'priority', rpath, -1), name, role });
      });
      return list.sort(byPriorityThenName).map((l) => ({ role: l.role, via }));
    };

    // Group membership lives in groups[].clients (that is what the plugin reads and writes); a "groups" list
    // inside a client object is ignored by Mosquitto 2.0.11, so it is ignored here too (with a warning).
    const groups = new Map<string, ChainLink[]>();
    const memberships = new Map<string, Array<{ priority: number; name: string }>>();
    arrayAt(root, 'groups', '').forEach((g, i) => {
      const path = `groups[${i}]`;
      if (!isObject(g)) return lenient.skip(path, 'is not an object');
      const name = lenient.name(g, 'groupname', path);
      if (name === undefined) return;
      groups.set(name, roleList(g, path, `group ${name}`));
      lenient.list(g, 'clients', path).forEach((m, j) => {
        const mpath = `${path}.clients[${j}]`;
        if (!isObject(m)) return lenient.skip(mpath, 'is not an object');
        const username = lenient.name(m, 'username', mpath);
        if (username === undefined) return;
        let list = memberships.get(username);
        if (!list) memberships.set(username, (list = []));
        if (!list.some((l) => l.name === name)) list.push({ priority: lenient.int(m, 'priority', mpath, -1), name });
      });
    });

    arrayAt(root, 'clients', '').forEach((c, i) => {
      const path = `clients[${i}]`;
      if (!isObject(c)) return lenient.skip(path, 'is not an object');
      const username = lenient.name(c, 'username', path);
      if (username === undefined) return;
      const chain = roleList(c, path, undefined);
      if (lenient.list(c, 'groups', path).length > 0) {
        lenient.warnings.push(`dynamic-security ${path}.groups is ignored by Mosquitto: list the client in groups[].clients instead`);
      }
      for (const m of (memberships.get(username) ?? []).sort(byPriorityThenName)) chain.push(...(groups.get(m.name) ?? []));
      const clientid = typeof c.clientid === 'string' && c.clientid !== '' ? c.clientid : undefined;
      this.clients.set(username, { username, clientid, disabled: lenient.bool(c, 'disabled', path, false), chain });
    });
    this.warnings = lenient.warnings;
    this.holdsPasswordHashes = (Array.isArray(root.clients) ? root.clients : []).some((c) => isObject(c) && c.password !== undefined);

    const anon = root.anonymousGroup;
    this.anonymousGroup = typeof anon === 'string' && anon !== '' ? anon : undefined;
    this.anonymousChain = this.anonymousGroup ? groups.get(this.anonymousGroup) ?? [] : [];
  }

  check(identity: Identity, topic: string, access: Access): AccessResult {
    const pre = brokerPrecheck(topic, access);
    if (pre) return pre;
    const who = this.resolve(identity);
    if ('allowed' in who) return who;
    const matches: DynsecAcl[] = [];
    for (const link of who.chain) {
      matches.length = 0;
      (access === 'write' ? link.role.send : link.role.receive).match(topic, matches);
      if (matches.length === 0) continue;
      let best = matches[0];
      for (const m of matches) if (byAclOrder(m, best) < 0) best = m;
      return { allowed: best.allow, reason: describeAcl(link, best) };
    }
    const key = access === 'write' ? 'publishClientSend' : 'publishClientReceive';
    return this.fallback(key, topic);
  }

  checkSubscribe(identity: Identity, filter: string): SubscribeResult {
    const problem = checkSubscriptionFilter(filter);
    if (problem) {
      return { allowed: false, reason: `invalid filter: ${problem.message}`, delivery: 'none', deliveryReason: 'invalid filter' };
    }
    const who = this.resolve(identity);
    if ('allowed' in who) return { ...who, delivery: 'none', deliveryReason: who.reason };
    let decision: AccessResult | undefined;
    for (const link of who.chain) {
      const literal = link.role.subscribeLiteral.get(filter);
      if (literal) {
        decision = { allowed: literal.allow, reason: describeAcl(link, literal) };
        break;
      }
      const pattern = link.role.subscribePattern.find((acl) => subscribePatternCovers(acl.topic, filter));
      if (pattern) {
        decision = { allowed: pattern.allow, reason: describeAcl(link, pattern) };
        break;
      }
    }
    decision ??= this.fallback('subscribe', filter);
    const shared = parseSharedFilter(filter);
    const inner = shared && !('code' in shared) ? shared.filter : filter;
    const chain = who.chain;
    function* receiveRules(): Generator<OrderedReadRule> {
      for (const link of chain) {
        for (const acl of link.role.receiveOrdered) yield { filter: acl.topic, allow: acl.allow, describe: describeAcl(link, acl) };
      }
    }
    const recvDefault = this.defaultACLAccess.publishClientReceive;
    const { delivery, reason } = analyseDelivery(inner, receiveRules(), {
      allow: recvDefault,
      describe: `defaultACLAccess.publishClientReceive = ${recvDefault}`,
    });
    return { ...decision, delivery, deliveryReason: reason };
  }

  /** Users with a client entry. */
  get usernames(): string[] {
    return [...this.clients.keys()];
  }

  private resolve(identity: Identity): { chain: ChainLink[] } | AccessResult {
    if (identity.username === undefined) {
      return { chain: this.anonymousChain };
    }
    const client = this.clients.get(identity.username);
    if (!client) {
      return { allowed: false, reason: `no dynamic-security client "${identity.username}" (Mosquitto refuses the connection)` };
    }
    if (client.disabled) return { allowed: false, reason: `client "${client.username}" is disabled (Mosquitto refuses the connection)` };
    if (client.clientid !== undefined && client.clientid !== identity.clientId) {
      return {
        allowed: false,
        reason: `client "${client.username}" may only connect with client id "${client.clientid}" (Mosquitto refuses the connection)`,
      };
    }
    return { chain: client.chain };
  }

  private fallback(key: keyof DefaultAclAccess, topic: string): AccessResult {
    const value = this.defaultACLAccess[key];
    if (value && topic.startsWith('$CONTROL')) {
      return { allowed: false, reason: `defaultACLAccess.${key} = true never grants $CONTROL topics` };
    }
    return { allowed: value, reason: `no ACL matched: defaultACLAccess.${key} = ${value}` };
  }
}

/** Parses a dynamic-security JSON configuration (text or already-parsed object). Throws AclSyntaxError. */
export function parseDynamicSecurity(input: string | object): DynamicSecurityConfig {
  return new DynamicSecurityConfig(input);
}
