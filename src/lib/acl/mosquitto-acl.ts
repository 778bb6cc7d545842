// Mosquitto 2.0.11 acl_file: parser (refuses what Mosquitto refuses, ignores what it ignores) and evaluator
// (src/security_default.c, mosquitto_acl_check_default), indexed per user block and for patterns.
import { checkSubscriptionFilter, parseSharedFilter, shorten } from '../mqtt/topic-rules';
import { FilterIndex, substitutePattern } from './acl-index';
import { brokerPrecheck } from './broker-rules';
import { analyseDelivery, type OrderedReadRule } from './filter-relations';
import { AclSyntaxError, type Access, type AccessChecker, type AccessResult, type Identity, type SubscribeResult } from './types';

export type AclFileAccess = 'read' | 'write' | 'readwrite' | 'deny';

export interface AclFileRule {
  /** 1-based line in the file. */
  readonly line: number;
  readonly kind: 'topic' | 'pattern';
  /** The `user` block a topic line belongs to; undefined for anonymous lines and for patterns. */
  readonly user: string | undefined;
  readonly access: AclFileAccess;
  readonly filter: string;
}

interface RuleList {
  index: FilterIndex<AclFileRule>;
  rules: AclFileRule[];
}

const ACCESS_WORDS: ReadonlySet<string> = new Set(['read', 'write', 'readwrite', 'deny']);

/** C isspace(): what Mosquitto strips from line ends and around topics and user names. */
function isCSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

function trimEnd(s: string): string {
  let end = s.length;
  while (end > 0 && isCSpace(s.charCodeAt(end - 1))) end--;
  return s.slice(0, end);
}

function trimBlanks(s: string): string {
  let start = 0;
  while (start < s.length && isCSpace(s.charCodeAt(start))) start++;
  return trimEnd(s.slice(start));
}

/** strtok_r(…, " ") then strtok_r(NULL, ""): the first space-separated token and the raw rest (undefined if empty). */
function splitToken(s: string): { token: string | undefined; rest: string | undefined } {
  let i = 0;
  while (i < s.length && s[i] === ' ') i++;
  if (i === s.length) return { token: undefined, rest: undefined };
  let j = i;
  while (j < s.length && s[j] !== ' ') j++;
  const token = s.slice(i, j);
  const rest = j + 1 < s.length ? s.slice(j + 1) : undefined;
  return { token, rest };
}

/** mosquitto_sub_topic_check() of 2.0: wildcard placement and at most 65535 bytes; nothing else. */
function subTopicProblem(filter: string): string | undefined {
  for (let i = 0; i < filter.length; i++) {
    const ch = filter[i];
    const prevOk = i === 0 || filter[i - 1] === '/';
    if (ch === '+' && (!prevOk || (i + 1 < filter.length && filter[i + 1] !== '/'))) return '"+" must be a whole level';
    if (ch === '#' && (!prevOk || i + 1 < filter.length)) return '"#" must be a whole level and the last one';
  }
  if (Buffer.byteLength(filter, 'utf8') > 65535) return 'longer than 65535 bytes';
  return undefined;
}

export function describeAclRule(rule: AclFileRule): string {
  if (rule.kind === 'pattern') return `line ${rule.line}: pattern ${rule.access} ${rule.filter}`;
  const owner = rule.user === undefined ? 'anonymous' : `user ${rule.user}`;
  return `line ${rule.line}: ${owner}: topic ${rule.access} ${rule.filter}`;
}

function grants(rule: AclFileRule, access: Access): boolean {
  return rule.access === 'readwrite' || rule.access === access;
}

function newList(templates: boolean): RuleList {
  return { index: new FilterIndex<AclFileRule>({ templates }), rules: [] };
}

export class MosquittoAclFile implements AccessChecker {
  readonly kind = 'acl_file' as const;
  /** Every topic/pattern line in file order. */
  readonly rules: readonly AclFileRule[];
  /** Things Mosquitto accepts but that are probably mistakes (not errors). */
  readonly warnings: readonly string[];
  private readonly users = new Map<string, RuleList>();
  private readonly anonymous: RuleList | undefined;
  private readonly patterns: RuleList | undefined;
  private readonly firstPatternLine: number | undefined;

  constructor(text: string) {
    const rules: AclFileRule[] = [];
    const warnings: string[] = [];
    const lines = text.split('\n');
    let user: string | undefined;
    let anonymous: RuleList | undefined;
    let patterns: RuleList | undefined;
    for (let n = 0; n < lines.length; n++) {
      const lineNo = n + 1;
      const line = trimEnd(lines[n]);
      if (line.startsWith('#')) continue;
      const { token, rest } = splitToken(line);
      if (token === undefined) continue;
      if (token === 'topic' || token === 'pattern') {
        const second = splitToken(rest ?? '');
        if (rest === undefined || second.token === undefined) {
          throw new AclSyntaxError(`acl line ${lineNo}: empty topic in "${shorten(line)}"`, lineNo);
        }
        let access: AclFileAccess = 'readwrite';
        let filter: string;
        if (second.rest !== undefined) {
          filter = trimBlanks(second.rest);
          if (!ACCESS_WORDS.has(second.token)) {
            throw new AclSyntaxError(
              `acl line ${lineNo}: unknown access "${second.token}" (expected read, write, readwrite or deny)`,
              lineNo,
            );
          }
          access = second.token as AclFileAccess;
        } else {
          filter = second.token;
        }
        const problem = subTopicProblem(filter);
        if (problem) throw new AclSyntaxError(`acl line ${lineNo}: invalid topic filter "${shorten(filter)}": ${problem}`, lineNo);
        const kind = token;
        const rule: AclFileRule = { line: lineNo, kind, user: kind === 'topic' ? user : undefined, access, filter };
        rules.push(rule);
        let list: RuleList;
        if (kind === 'pattern') {
          list = patterns ??= newList(true);
          if (!filter.includes('%c') && !filter.includes('%u')) {
            warnings.push(`acl line ${lineNo}: pattern "${shorten(filter)}" contains neither %c nor %u`);
          }
        } else if (user === undefined) {
          list = anonymous ??= newList(false);
        } else {
          let own = this.users.get(user);
          if (!own) this.users.set(user, (own = newList(false)));
          list = own;
        }
        list.rules.push(rule);
        list.index.add(filter, rule);
      } else if (token === 'user') {
        const name = rest === undefined ? '' : trimBlanks(rest);
        if (name === '') throw new AclSyntaxError(`acl line ${lineNo}: missing user name after "user"`, lineNo);
        user = name;
      } else {
        throw new AclSyntaxError(
          // The line is not quoted: a file given here by mistake (Mosquitto's password_file) would put a hash in the log.
          `acl line ${lineNo}: not an acl_file line (a line starts with topic, pattern or user; comments need # in the first column)`,
          lineNo,
        );
      }
    }
    this.rules = rules;
    this.warnings = warnings;
    this.anonymous = anonymous;
    this.patterns = patterns;
    this.firstPatternLine = patterns?.rules[0]?.line;
  }

  get ruleCount(): number {
    return this.rules.length;
  }

  /** The user names that have a `user` block. */
  get userNames(): string[] {
    return [...this.users.keys()];
  }

  check(identity: Identity, topic: string, access: Access): AccessResult {
    const pre = brokerPrecheck(topic, access);
    if (pre) return pre;
    const { username, clientId } = identity;
    const own = username === undefined ? this.anonymous : this.users.get(username);
    if (!own && !this.patterns) {
      return { allowed: false, reason: `no rule matched (${this.rules.length === 0 ? 'the file has no rules' : `${ownerName(username)} has no lines and there are no patterns`})` };
    }
    const matches: AclFileRule[] = [];
    if (own) {
      const decided = decide(own.index.match(topic, matches), access, username);
      if (decided) return decided;
    }
    if (!this.patterns) return { allowed: false, reason: 'no rule matched' };
    const danger = this.dangerousIdentity(identity);
    if (danger) return { allowed: false, reason: danger };
    matches.length = 0;
    if (clientId.includes('/') || (username !== undefined && username.includes('/'))) {
      // A substitution containing '/' spans several levels: the level-wise index cannot see it, so scan.
      for (const rule of this.patterns.rules) {
        if (filterMatchesMosquitto(substitutePattern(rule.filter, clientId, username), topic)) matches.push(rule);
      }
    } else {
      this.patterns.index.match(topic, matches, clientId, username);
    }
    return decide(matches, access, username) ?? { allowed: false, reason: 'no rule matched' };
  }

  checkSubscribe(identity: Identity, filter: string): SubscribeResult {
    const problem = checkSubscriptionFilter(filter);
    if (problem) {
      return { allowed: false, reason: `invalid filter: ${problem.message}`, delivery: 'none', deliveryReason: 'invalid filter' };
    }
    const shared = parseSharedFilter(filter);
    const inner = shared && !('code' in shared) ? shared.filter : filter;
    const { delivery, reason } = analyseDelivery(inner, this.readRules(identity), {
      allow: false,
      describe: 'no rule matched',
    });
    return {
      allowed: true,
      reason: 'acl_file never refuses a SUBSCRIBE (Mosquitto 2.0 checks each message when it delivers it)',
      delivery,
      deliveryReason: reason,
    };
  }

  /** The read rules for one identity in Mosquitto's evaluation order, patterns already substituted. */
  private *readRules(identity: Identity): Generator<OrderedReadRule> {
    const { username, clientId } = identity;
    const own = username === undefined ? this.anonymous : this.users.get(username);
    if (own) yield* orderedRead(own.rules, (r) => r.filter);
    if (!this.patterns || this.dangerousIdentity(identity)) return;
    const usable = this.patterns.rules.filter((r) => username !== undefined || !r.filter.includes('%u'));
    yield* orderedRead(usable, (r) => substitutePattern(r.filter, clientId, username));
  }

  private dangerousIdentity(identity: Identity): string | undefined {
    const { username, clientId } = identity;
    const where = `the file has patterns (line ${this.firstPatternLine ?? '?'})`;
    if (username !== undefined && /[+#]/.test(username)) {
      return `user name "${username}" contains + or # and ${where}: Mosquitto denies such clients`;
    }
    if (/[+#]/.test(clientId)) return `client id "${clientId}" contains + or # and ${where}: Mosquitto denies such clients`;
    return undefined;
  }
}

function ownerName(username: string | undefined): string {
  return username === undefined ? 'anonymous clients' : `user ${username}`;
}

function* orderedRead(rules: AclFileRule[], filterOf: (r: AclFileRule) => string): Generator<OrderedReadRule> {
  const denies = rules.filter((r) => r.access === 'deny').reverse();
  for (const r of denies) yield { filter: filterOf(r), allow: false, describe: describeAclRule(r) };
  for (const r of rules) {
    if (r.access === 'read' || r.access === 'readwrite') yield { filter: filterOf(r), allow: true, describe: describeAclRule(r) };
  }
}

/** Mosquitto's order: deny lines first (the last one written is met first), then the others in file order. */
function decide(matches: AclFileRule[], access: Access, username: string | undefined): AccessResult | undefined {
  let deny: AclFileRule | undefined;
  let grant: AclFileRule | undefined;
  for (const rule of matches) {
    if (rule.kind === 'pattern' && username === undefined && rule.filter.includes('%u')) continue;
    if (rule.access === 'deny') {
      if (!deny || rule.line > deny.line) deny = rule;
    } else if (grants(rule, access) && (!grant || rule.line < grant.line)) {
      grant = rule;
    }
  }
  if (deny) return { allowed: false, reason: describeAclRule(deny) };
  if (grant) return { allowed: true, reason: describeAclRule(grant) };
  return undefined;
}

/** mosquitto_topic_matches_sub: MQTT matching where '$' topics only match filters that start with '$'. */
function filterMatchesMosquitto(filter: string, topic: string): boolean {
  if ((filter.charCodeAt(0) === 0x24) !== (topic.charCodeAt(0) === 0x24)) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Parses Mosquitto acl_file text; throws AclSyntaxError naming the line for anything Mosquitto refuses to load. */
export function parseMosquittoAcl(text: string): MosquittoAclFile {
  return new MosquittoAclFile(text);
}
