// MQTT topic and filter rules (MQTT 3.1.1/5 section 4.7), plus Mosquitto's stricter publish-topic checks.

export type TopicProblem = { code: 'INVALID_TOPIC'; message: string };

const MAX_STRING_BYTES = 65535;
const MOSQUITTO_MAX_LEVELS = 200;

function isForbiddenCodePoint(cp: number): boolean {
  if (cp === 0) return true;
  if (cp <= 0x1f) return true; // Mosquitto rejects C0 controls
  if (cp >= 0x7f && cp <= 0x9f) return true; // DEL and C1 controls
  if (cp >= 0xfdd0 && cp <= 0xfdef) return true; // non-characters
  if ((cp & 0xfffe) === 0xfffe) return true; // U+xFFFE, U+xFFFF in every plane
  return false;
}

/** Checks UTF-8 well-formedness (no lone surrogates), size, and forbidden code points. */
function checkCharacters(topic: string, what: string): string | undefined {
  if (topic.length === 0) return `${what} is empty`;
  return checkUtf8String(topic, what);
}

/**
 * Mosquitto's rule for every UTF-8 string in a packet (topics, content type, user properties, response topic):
 * a string breaking it makes the broker disconnect the client, so it is refused before it is queued.
 */
export function checkUtf8String(s: string, what: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const cp = s.codePointAt(i) as number;
    if (cp >= 0xd800 && cp <= 0xdfff) return `${what} is not valid UTF-8 (lone surrogate at ${i})`;
    if (cp > 0xffff) i++;
    if (isForbiddenCodePoint(cp)) {
      return `${what} contains the forbidden character U+${cp.toString(16).toUpperCase().padStart(4, '0')} at ${i}`;
    }
  }
  if (Buffer.byteLength(s, 'utf8') > MAX_STRING_BYTES) return `${what} is longer than ${MAX_STRING_BYTES} bytes`;
  return undefined;
}

function levelCount(topic: string): number {
  let n = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 0x2f) n++;
  return n;
}

/** Returns undefined when `topic` may be published to, otherwise a problem in plain words. */
export function checkPublishTopic(topic: unknown): TopicProblem | undefined {
  if (typeof topic !== 'string') return { code: 'INVALID_TOPIC', message: 'topic must be a string' };
  const bad = checkCharacters(topic, 'topic');
  if (bad) return { code: 'INVALID_TOPIC', message: bad };
  if (topic.includes('+') || topic.includes('#')) {
    return { code: 'INVALID_TOPIC', message: `topic "${shorten(topic)}" contains a wildcard (+ or #)` };
  }
  if (levelCount(topic) > MOSQUITTO_MAX_LEVELS) {
    return { code: 'INVALID_TOPIC', message: `topic has more than ${MOSQUITTO_MAX_LEVELS} levels` };
  }
  return undefined;
}

export interface SharedFilter {
  group: string;
  filter: string;
}

/** Splits `$share/<group>/<filter>`; returns undefined for an ordinary filter. */
export function parseSharedFilter(filter: string): SharedFilter | undefined | TopicProblem {
  if (!filter.startsWith('$share/')) return undefined;
  const rest = filter.slice('$share/'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return { code: 'INVALID_TOPIC', message: 'shared subscription needs $share/<group>/<filter>' };
  const group = rest.slice(0, slash);
  if (/[+#]/.test(group)) return { code: 'INVALID_TOPIC', message: 'share group name must not contain + or #' };
  return { group, filter: rest.slice(slash + 1) };
}

/** Returns undefined when `filter` is a valid subscription filter (shared or not). */
export function checkSubscriptionFilter(filter: unknown): TopicProblem | undefined {
  if (typeof filter !== 'string') return { code: 'INVALID_TOPIC', message: 'topic filter must be a string' };
  const bad = checkCharacters(filter, 'topic filter');
  if (bad) return { code: 'INVALID_TOPIC', message: bad };
  const shared = parseSharedFilter(filter);
  if (shared && 'code' in shared) return shared;
  const inner = shared ? shared.filter : filter;
  if (inner.length === 0) return { code: 'INVALID_TOPIC', message: 'shared subscription has an empty filter' };
  const levels = inner.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) {
      return { code: 'INVALID_TOPIC', message: `"#" must be a whole level and the last one in "${shorten(filter)}"` };
    }
    if (level.includes('+') && level !== '+') {
      return { code: 'INVALID_TOPIC', message: `"+" must be a whole level in "${shorten(filter)}"` };
    }
  }
  if (levels.length > MOSQUITTO_MAX_LEVELS) {
    return { code: 'INVALID_TOPIC', message: `topic filter has more than ${MOSQUITTO_MAX_LEVELS} levels` };
  }
  return undefined;
}

/** True when a (valid, non-shared) filter matches a concrete topic by MQTT rules. */
export function filterMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true; // also matches the parent level: "a/#" matches "a"
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Keeps a 64 KB topic (or line) from turning one error message into a 64 KB one. */
export function shorten(s: string, max = 80): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

/** True when some topic matches both (valid, non-shared) filters. */
export function filtersOverlap(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    // A wildcard in the first level never matches a `$` topic.
    const dollarMiss = i === 0 && (((p === '#' || p === '+') && !!q?.startsWith('$')) || ((q === '#' || q === '+') && !!p?.startsWith('$')));
    if (dollarMiss) return false;
    if (p === '#' || q === '#') return true; // also the parent level: "a/#" and "a" overlap
    if (p === undefined || q === undefined) return p === q;
    if (p !== '+' && q !== '+' && p !== q) return false;
  }
}
