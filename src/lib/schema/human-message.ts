// ajv's errors turned into one line a person can act on: where (as a JS path from msg.payload) and what.
import type { ErrorObject } from 'ajv';

/** `/0/v` → `payload[0].v`; keys that are not identifiers are quoted. */
export function pathOf(instancePath: string, root = 'payload'): string {
  if (!instancePath) return root;
  let out = root;
  for (const raw of instancePath.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function shortJson(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function got(e: ErrorObject): string {
  if (!('data' in e)) return '';
  const d: unknown = e.data;
  const kind = d === null ? 'null' : Array.isArray(d) ? 'array' : typeof d;
  return kind === 'object' || kind === 'array' ? ` (got ${kind})` : ` (got ${kind} ${shortJson(d)})`;
}

export function describeError(e: ErrorObject, root = 'payload'): string {
  const at = pathOf(e.instancePath, root);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `${at} is missing required property ${JSON.stringify(p.missingProperty)}`;
    case 'additionalProperties':
      return `${at} has unknown property ${JSON.stringify(p.additionalProperty)}`;
    case 'type':
      return `${at} must be ${String(p.type)}${got(e)}`;
    case 'enum':
      return `${at} must be one of ${shortJson(p.allowedValues)}${got(e)}`;
    case 'const':
      return `${at} must equal ${shortJson(p.allowedValue)}${got(e)}`;
    case 'false schema':
      return `${at} is not allowed`;
    default:
      return `${at} ${e.message ?? `fails "${e.keyword}"`}${got(e)}`;
  }
}

/** The first problem, and how many more there are. */
export function humanMessage(errors: readonly ErrorObject[], root = 'payload'): string {
  if (errors.length === 0) return `${root} is invalid`;
  const first = describeError(errors[0], root);
  return errors.length > 1 ? `${first} (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : first;
}

/** The error objects without the copies of data and schema that `verbose` adds (they can be huge). */
export function compactErrors(errors: readonly ErrorObject[], max = 20): Array<Pick<ErrorObject, 'instancePath' | 'schemaPath' | 'keyword' | 'params' | 'message'>> {
  return errors.slice(0, max).map((e) => {
    const c: Pick<ErrorObject, 'instancePath' | 'schemaPath' | 'keyword' | 'params' | 'message'> = {
      instancePath: e.instancePath,
      schemaPath: e.schemaPath,
      keyword: e.keyword,
      params: e.params,
    };
    if (e.message !== undefined) c.message = e.message;
    return c;
  });
}
