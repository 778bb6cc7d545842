// The document a validator checks: msg.payload as is, or parsed when it arrives as JSON text.
import { describe, fail, ok, type Result } from '../formats/errors';
import { parseJson } from '../json';

export const DEFAULT_MAX_BYTES = 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 64;

/** Depth of nested objects/arrays, measured without recursion so a hostile document cannot overflow the stack. */
export function depthExceeds(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) return true;
    for (const child of Object.values(v as Record<string, unknown>)) {
      if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
    }
  }
  return false;
}

export function documentOf(payload: unknown, maxBytes = DEFAULT_MAX_BYTES, maxDepth = DEFAULT_MAX_DEPTH): Result<unknown> {
  let doc: unknown = payload;
  if (Buffer.isBuffer(payload) || typeof payload === 'string') {
    const size = Buffer.isBuffer(payload) ? payload.length : Buffer.byteLength(payload, 'utf8');
    if (size > maxBytes) return fail('TOO_LARGE', `payload is ${size} bytes; the limit is ${maxBytes}`, 'payload');
    const text = Buffer.isBuffer(payload) ? payload.toString('utf8') : payload;
    try {
      doc = parseJson(text);
    } catch (err) {
      return fail('NOT_JSON', `payload is not JSON: ${err instanceof Error ? err.message : String(err)}`, 'payload');
    }
  } else if (payload === undefined || typeof payload === 'function' || typeof payload === 'symbol' || typeof payload === 'bigint') {
    return fail('NOT_JSON', `payload is ${describe(payload)}, not a JSON value`, 'payload');
  }
  if (depthExceeds(doc, maxDepth)) return fail('TOO_DEEP', `payload is nested deeper than ${maxDepth} levels`, 'payload');
  return ok(doc);
}
