// A bad payload in an error message: its type and a short preview, safe for anything a flow can send.
/** Characters of a bad payload an error message shows. */
export const PREVIEW_CHARS = 40;

/** Builds at most PREVIEW_CHARS characters of text, then ignores the rest. */
class Preview {
  text = '';
  full = false;

  add(s: string): void {
    if (this.full) return;
    const room = PREVIEW_CHARS - this.text.length;
    if (s.length > room) {
      this.text += s.slice(0, room);
      this.full = true;
    } else {
      this.text += s;
    }
  }
}

function previewOf(v: unknown, out: Preview, ancestors: Set<object>): void {
  if (out.full) return;
  switch (typeof v) {
    case 'string':
      out.add(JSON.stringify(v.slice(0, PREVIEW_CHARS + 1)));
      return;
    case 'bigint':
      out.add(`${v.toString().slice(0, PREVIEW_CHARS + 1)}n`);
      return;
    case 'number':
    case 'boolean':
    case 'undefined':
      out.add(String(v));
      return;
    case 'symbol':
      out.add(v.toString());
      return;
    case 'function':
      out.add('function');
      return;
  }
  if (v === null) {
    out.add('null');
    return;
  }
  const o = v as object;
  if (ancestors.has(o)) {
    out.add('[Circular]');
    return;
  }
  if (ArrayBuffer.isView(o)) {
    out.add(`<${o.byteLength} bytes>`);
    return;
  }
  ancestors.add(o);
  if (Array.isArray(o)) {
    const items: readonly unknown[] = o;
    out.add('[');
    for (let i = 0; i < items.length && !out.full; i++) {
      if (i) out.add(',');
      previewOf(items[i], out, ancestors);
    }
    out.add(']');
  } else {
    out.add('{');
    let first = true;
    const record = o as Record<string, unknown>;
    for (const key in record) {
      if (out.full) break;
      if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
      if (!first) out.add(',');
      first = false;
      out.add(`${JSON.stringify(key.slice(0, PREVIEW_CHARS + 1))}:`);
      previewOf(record[key], out, ancestors);
    }
    out.add('}');
  }
  ancestors.delete(o);
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v !== 'object') return typeof v;
  const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name && name !== 'Object' ? name.slice(0, 20) : 'object';
}

/**
 * A payload for an error message, short whatever it holds: strings, numbers, booleans, null and undefined as
 * written ("maybe", 2, null); objects and arrays as their type and at most PREVIEW_CHARS characters of JSON-like
 * text (object {"on":true}, array [1,2,…). Circular references, BigInt values, throwing getters and huge or
 * deeply nested payloads are described without walking them whole.
 */
export function describePayload(v: unknown): string {
  const out = new Preview();
  let kind: string;
  try {
    kind = typeOf(v);
    previewOf(v, out, new Set());
  } catch {
    return typeof v === 'object' ? 'object (unreadable)' : typeof v;
  }
  const text = `${out.text}${out.full ? '…' : ''}`;
  return typeof v === 'object' && v !== null ? `${kind} ${text}` : text;
}
