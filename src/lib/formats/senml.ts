// SenML JSON (RFC 8428): the pack a reading becomes, and the resolution rules that turn any pack back into
// absolute records (section 4.6), used to check our own output and SenML arriving from elsewhere.
import { describe, fail, ok, quote, type Result } from './errors';
import { deviceOf, sensorOf, splitByTemplate, templateOrDefault } from './common';
import type { Reading } from './reading';
import type { FormatOptions, Formatter, OutMessage } from './types';

export const SENML_CONTENT_TYPE = 'application/senml+json';
/** Section 4.5.1: the characters a resolved name may hold, starting with a letter or digit. */
export const SENML_NAME = /^[A-Za-z0-9][A-Za-z0-9\-:./_]*$/;
/** Section 4.5.3: times below 2^28 are relative to now. */
export const SENML_RELATIVE_LIMIT = 2 ** 28;
const SENML_VERSION = 10;

export interface SenmlRecord {
  bn?: string;
  bt?: number;
  bu?: string;
  bv?: number;
  bs?: number;
  bver?: number;
  n?: string;
  u?: string;
  v?: number;
  vs?: string;
  vb?: boolean;
  vd?: string;
  s?: number;
  t?: number;
  ut?: number;
}

export interface ResolvedRecord {
  n: string;
  t: number;
  u?: string;
  v?: number;
  vs?: string;
  vb?: boolean;
  vd?: string;
  s?: number;
  ut?: number;
  bver?: number;
}

/** Common spellings of SenML units (the sensor drivers report °C) mapped to their registered names. */
const UNIT_ALIASES: ReadonlyMap<string, string> = new Map([
  ['°C', 'Cel'],
  ['°F', 'Far'],
]);

const STRING_LABELS = new Set(['bn', 'bu', 'n', 'u', 'vs', 'vd']);
const NUMBER_LABELS = new Set(['bt', 'bv', 'bs', 'bver', 'v', 's', 't', 'ut']);
const VALUE_LABELS = ['v', 'vs', 'vb', 'vd'] as const;

function checkRecord(raw: unknown, i: number): Result<SenmlRecord> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('BAD_FIELD', `record ${i} is ${describe(raw)}, not an object`, `[${i}]`);
  const rec = raw as Record<string, unknown>;
  for (const key of Object.keys(rec)) {
    const path = `[${i}].${key}`;
    const v = rec[key];
    if (key.endsWith('_')) return fail('BAD_FIELD', `record ${i} has must-understand label ${quote(key)}, which is not supported`, path);
    if (STRING_LABELS.has(key) && typeof v !== 'string') return fail('BAD_FIELD', `${path} must be a string (got ${describe(v)})`, path);
    if (NUMBER_LABELS.has(key) && !(typeof v === 'number' && Number.isFinite(v))) return fail('BAD_VALUE', `${path} must be a finite number (got ${describe(v)})`, path);
    if (key === 'vb' && typeof v !== 'boolean') return fail('BAD_FIELD', `${path} must be a boolean (got ${describe(v)})`, path);
  }
  if (VALUE_LABELS.filter((l) => Object.prototype.hasOwnProperty.call(rec, l)).length > 1) {
    return fail('BAD_FIELD', `record ${i} has more than one value field (v, vs, vb, vd)`, `[${i}]`);
  }
  return ok(rec as SenmlRecord);
}

/** Resolves a pack (section 4.6): names, times, values and units made absolute, base fields gone. */
export function resolveSenml(pack: unknown, nowSeconds: number): Result<ResolvedRecord[]> {
  if (!Array.isArray(pack)) return fail('BAD_FIELD', `a SenML pack is an array (got ${describe(pack)})`);
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv = 0;
  let bs = 0;
  let bver: number | undefined;
  const out: ResolvedRecord[] = [];
  const records: unknown[] = pack;
  for (let i = 0; i < records.length; i++) {
    const checked = checkRecord(records[i], i);
    if (!checked.ok) return checked;
    const r = checked.value;
    // A base field applies to its own record and every later one until set again.
    if (r.bn !== undefined) bn = r.bn;
    if (r.bt !== undefined) bt = r.bt;
    if (r.bu !== undefined) bu = r.bu;
    if (r.bv !== undefined) bv = r.bv;
    if (r.bs !== undefined) bs = r.bs;
    if (r.bver !== undefined) bver = r.bver;
    const name = bn + (r.n ?? '');
    if (!SENML_NAME.test(name)) return fail('BAD_NAME', `record ${i}: resolved name ${quote(name)} is not a valid SenML name`, `[${i}].n`);
    if (r.v === undefined && r.vs === undefined && r.vb === undefined && r.vd === undefined && r.s === undefined) {
      return fail('BAD_FIELD', `record ${i} has no value (v, vs, vb, vd) and no sum (s)`, `[${i}]`);
    }
    let t = bt + (r.t ?? 0);
    if (t < SENML_RELATIVE_LIMIT) t += nowSeconds;
    const res: ResolvedRecord = { n: name, t };
    const unit = r.u ?? bu;
    if (unit !== undefined) res.u = unit;
    if (r.v !== undefined) res.v = bv + r.v;
    if (r.vs !== undefined) res.vs = r.vs;
    if (r.vb !== undefined) res.vb = r.vb;
    if (r.vd !== undefined) res.vd = r.vd;
    if (r.s !== undefined) res.s = bs + r.s;
    if (r.ut !== undefined) res.ut = r.ut;
    if (bver !== undefined && bver !== SENML_VERSION) res.bver = bver;
    out.push(res);
  }
  return ok(out);
}

function baseNameOf(r: Reading, o: FormatOptions): Result<string> {
  const device = deviceOf(r, o);
  const sensor = sensorOf(r, o);
  const tpl = o.senmlBaseName?.trim();
  if (!tpl) return ok(device !== undefined ? `${device}:` : sensor !== undefined ? `${sensor}:` : '');
  let missing: string | undefined;
  const bn = tpl.replace(/\{(device|sensor)\}/g, (_m, k: string) => {
    const v = k === 'device' ? device : sensor;
    if (v === undefined) missing = k;
    return v ?? '';
  });
  if (missing) return fail('MISSING_FIELD', `SenML base name needs {${missing}}: set msg.${missing} or the node's ${missing}`, missing);
  return ok(bn);
}

/**
 * Base time in seconds. Below 2^28 s (before 1978-07-04) SenML reads a time as relative to "now", and no
 * encoding says otherwise, so such a reading is refused: it almost always comes from a clock never set.
 */
function baseTimeOf(r: Reading): Result<number> {
  const bt = r.timestamp / 1000;
  if (bt >= SENML_RELATIVE_LIMIT) return ok(bt);
  const limit = new Date(SENML_RELATIVE_LIMIT * 1000).toISOString();
  return fail('BAD_TIMESTAMP', `reading time ${new Date(r.timestamp).toISOString()} is before ${limit}, which SenML reads as relative to now (RFC 8428 4.5.3); is the device clock set?`, 'timestamp');
}

/** The SenML pack for one reading: base name and base time on the first record, one record per measurement. */
export function senmlPack(r: Reading, o: FormatOptions): Result<SenmlRecord[]> {
  const bn = baseNameOf(r, o);
  if (!bn.ok) return bn;
  const bt = baseTimeOf(r);
  if (!bt.ok) return bt;
  const records: SenmlRecord[] = [];
  for (const [name, value] of r.values) {
    if (!SENML_NAME.test(bn.value + name)) {
      return fail('BAD_NAME', `SenML name ${quote(bn.value + name)} may only hold A-Z a-z 0-9 - : . / _ and must start with a letter or digit`, `payload.${name}`);
    }
    const rec: SenmlRecord = {};
    if (records.length === 0) {
      if (bn.value) rec.bn = bn.value;
      rec.bt = bt.value;
    }
    rec.n = name;
    const unit = r.units.get(name);
    if (unit !== undefined) rec.u = UNIT_ALIASES.get(unit) ?? unit;
    if (typeof value === 'boolean') rec.vb = value;
    else rec.v = value;
    records.push(rec);
  }
  return ok(records);
}

export function createSenmlFormatter(o: FormatOptions): Result<Formatter> {
  const template = templateOrDefault(o, 'senml/{device}');
  if (!template.ok) return template;
  return ok({
    name: 'senml',
    format(r: Reading): Result<OutMessage[]> {
      return splitByTemplate(r, o, template.value, (part, topic) => {
        const pack = senmlPack(part, o);
        if (!pack.ok) return pack;
        return ok({ topic, payload: JSON.stringify(pack.value), contentType: SENML_CONTENT_TYPE, ...(o.qos !== undefined ? { qos: o.qos } : {}) });
      });
    },
  });
}
