// A node's runtime texts from its message catalogue. Node-RED's RED._ answers in the user's language; where it has
// no catalogue (node-red-node-test-helper answers with the key itself), the en-US catalogue the node imports is used.
import type { NodeAPI } from './node-red';

export interface Catalogue {
  [key: string]: string | Catalogue;
}
export type Vars = Record<string, string | number>;
export type Translate = (key: string, vars?: Vars) => string;

/** RED._ with a fallback for keys it cannot answer (it then returns the key itself). */
export function translate(RED: NodeAPI, key: string, vars: Vars, fallback: string): string {
  const text = RED._(key, vars);
  return !text || text === key ? fallback : text;
}

/** `enUS` is the node's en-US catalogue file (`{ "<type>": { ... } }`); keys are given as "<type>.a.b". */
export function messages(RED: NodeAPI, enUS: Catalogue): Translate {
  return (key, vars = {}) => {
    const raw = lookup(enUS, key);
    const fallback = raw === undefined ? key : raw.replace(/__(\w+)__/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
    return translate(RED, key, vars, fallback);
  };
}

/** The catalogue's text for "a.b.c", or undefined. */
export function lookup(catalogue: Catalogue, key: string): string | undefined {
  let v: string | Catalogue | undefined = catalogue;
  for (const part of key.split('.')) {
    if (typeof v !== 'object') return undefined;
    v = v[part];
  }
  return typeof v === 'string' ? v : undefined;
}
