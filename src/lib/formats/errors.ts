// The error every pure function of this pack returns instead of throwing: a stable code for flows and tests,
// a one-line message for people, and where in the input the problem is.

export type TelemetryErrorCode =
  | 'NOT_A_READING'
  | 'FORBIDDEN_KEY'
  | 'BAD_NAME'
  | 'BAD_VALUE'
  | 'BAD_UNIT'
  | 'BAD_TIMESTAMP'
  | 'BAD_FIELD'
  | 'TOO_LARGE'
  | 'TOO_DEEP'
  | 'MISSING_FIELD'
  | 'INVALID_TOPIC'
  | 'BAD_TEMPLATE'
  | 'BAD_OPTION'
  | 'PLATFORM_LIMIT'
  | 'NOT_JSON'
  | 'BAD_SCHEMA'
  | 'SCHEMA_INVALID'
  | 'ENCODE_FAILED';

export interface TelemetryError {
  code: TelemetryErrorCode;
  message: string;
  /** Where the problem is, e.g. `payload.temperature`. */
  path?: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: TelemetryError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: TelemetryErrorCode, message: string, path?: string): Result<T> {
  return { ok: false, error: path === undefined ? { code, message } : { code, message, path } };
}

/** Quotes a user-supplied string for a message without letting a huge or multi-line value flood the log. */
export function quote(s: string): string {
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, '?');
  return JSON.stringify(clean.length > 60 ? `${clean.slice(0, 57)}...` : clean);
}

/** A short description of a value's type, for messages such as "must be a number (got string)". */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  }
  if (Buffer.isBuffer(v)) return 'Buffer';
  if (typeof v === 'string') return `string ${quote(v)}`;
  return typeof v;
}
