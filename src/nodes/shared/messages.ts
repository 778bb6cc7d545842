// A node's runtime texts from its message catalogue. Node-RED's RED._ answers in the user's language; where it has
// no catalogue (node-red-node-test-helper answers with the key itself), the en-US catalogue the node imports is used.
import type { NodeAPI } from './node-red';

export interface Catalogue {
  [key: string]: string | Catalogue;
}
export type Vars = Record<string, string | number>;
export type Translate = (key: string, vars?: Vars) => string;

/** `enUS` is the node's en-US catalogue file (`{ "<type>": { ... } }`); keys are given as "<type>.a.b". */
export function messages(RED: NodeAPI, enUS: Catalogue): Translate {
  return (key, vars = {}) => {
    const text = RED._(key, vars);
    if (typeof text === 'string' && text !== '' && text !== key) return text;
    const raw = lookup(enUS, key);
    return raw === undefined ? key : raw.replace(/__(\w+)__/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
  };
}

function lookup(catalogue: Catalogue, key: string): string | undefined {
  let v: string | Catalogue | undefined = catalogue;
  for (const part of key.split('.')) {
    if (typeof v !== 'object') return undefined;
    v = v[part];
  }
  return typeof v === 'string' ? v : undefined;
}
