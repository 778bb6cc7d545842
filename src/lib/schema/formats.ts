// The few JSON Schema `format`s the pack checks itself (ajv-formats is not a dependency). Any other format
// in a schema is refused at compile time by ajv's strict mode, so a schema never silently skips a check.
//
// The strings checked here come from untrusted payloads, so every regex must run in linear time: each
// quantified part below is followed by something it cannot match itself (`\d+` by a non-digit, a label by a
// dot), which leaves V8 only one way to split the input. A 1 000 000-character date-time or uri is refused in
// milliseconds, so those two need no length cap; email has one because RFC 5321 gives it one.

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
const URI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$/;
const UUID = /^(?:urn:uuid:)?[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
// Domain labels cannot contain the dot that ends them. The earlier /^[^\s@]+@[^\s@]+\.[^\s@]+$/ let the domain
// split at any dot, which made a long dotted string with a trailing space quadratic (100 000 characters: 6.6 s),
// and it accepted empty labels ("a@b..c", "a@b.c.").
const EMAIL = /^[^\s@]+@(?:[^\s@.]+\.)+[^\s@.]+$/;
/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets with its angle brackets, so an address is at most 254. */
export const MAX_EMAIL_OCTETS = 254;

/** Proleptic Gregorian, as RFC 3339 dates are (Date.UTC would read years 0–99 as 1900–1999). */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function validDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
}

function validDateTime(s: string): boolean {
  const m = DATE_TIME.exec(s);
  if (!m || !validDate(m[1])) return false;
  const offsetOk = m[5] === undefined || (Number(m[5]) <= 23 && Number(m[6]) <= 59);
  return Number(m[2]) <= 23 && Number(m[3]) <= 59 && Number(m[4]) <= 60 && offsetOk;
}

function validUri(s: string): boolean {
  if (!URI.test(s)) return false;
  try {
    new URL(s);
    return true;
  } catch {
    return false;
  }
}

function validEmail(s: string): boolean {
  // The character count bounds the work before anything else runs; the octet count is RFC 5321's own limit.
  return s.length <= MAX_EMAIL_OCTETS && Buffer.byteLength(s, 'utf8') <= MAX_EMAIL_OCTETS && EMAIL.test(s);
}

export const SCHEMA_FORMATS: Record<string, (s: string) => boolean> = {
  date: validDate,
  'date-time': validDateTime,
  uri: validUri,
  uuid: (s) => UUID.test(s),
  ipv4: (s) => IPV4.test(s),
  email: validEmail,
};
