// Hostile inputs shared by the property tests: every payload type, huge strings and buffers, NaN and Infinity,
// deep nesting, keys such as __proto__ and constructor, invalid UTF-8 and control characters.
import assert from 'node:assert/strict';
import fc from 'fast-check';

export const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty'];

/** Lone surrogates (not valid UTF-8 once encoded), C0/C1 controls, NUL, non-characters. */
const nastyChar = fc.oneof(
  fc.integer({ min: 0, max: 0x1f }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0x7f, max: 0x9f }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.constantFrom('\ufffe', '\uffff', '\ufdd0', '\u2028', '\u{10ffff}', '\u{1f600}', '+', '#', '/', '$', '%', '"', '\\', '\n', '=', ',', ' '),
);

/** Strings from several generators: ordinary, full Unicode, hostile characters mixed in, forbidden keys. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 3, arbitrary: fc.string({ unit: fc.oneof(nastyChar, fc.constantFrom('a', 'b', '1', '.', '-', '_')), maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom(...FORBIDDEN_KEYS, '', ' ', 'NaN', 'Infinity', '-0', '1e400', 'null', 'true', '{}', '[]') },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }).map((n) => 'x'.repeat(n * 70_000)) },
);

export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...FORBIDDEN_KEYS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: nastyChar, maxLength: 6 }) },
  { weight: 2, arbitrary: fc.constantFrom('temperature', 'humidity', 'pressure', 'a', 'b', 'value') },
);

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER + 2, 1e11, 1e15, 8.64e15 + 1),
  fc.double(),
  fc.integer(),
);

export const hostileBuffer: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.constantFrom(Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('{"a":1}'), Buffer.alloc(0)) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }).map((n) => Buffer.alloc(n * 300_000, 0x41)) },
);

/** Nested arrays or objects `depth` levels deep (built iteratively: no recursion in the generator). */
export function deep(depth: number, kind: 'array' | 'object'): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  // fast-check prints a counterexample recursively: give it a short name instead.
  Object.defineProperty(v, fc.toStringMethod, { value: () => `deep(${depth}, '${kind}')`, enumerable: false });
  return v;
}

/** An object whose own keys include __proto__ (as JSON.parse makes it), the classic pollution vector. */
export const protoObject: fc.Arbitrary<Record<string, unknown>> = fc
  .record({ key: fc.constantFrom('__proto__', 'constructor', 'prototype'), inner: fc.constantFrom('{"polluted":"yes"}', '{"prototype":{"polluted":"yes"}}', '1', '"x"') })
  .map(({ key, inner }) => JSON.parse(`{"temperature":21.5,"${key}":${inner},"b":true}`) as Record<string, unknown>);

/** Hostile values; `maxDeep` bounds the deeply nested ones (Node-RED's own message cloning recurses). */
export function makeHostileValue(maxDeep: number): fc.Arbitrary<unknown> {
  return fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileNumber,
    hostileString,
    fc.boolean(),
    fc.constantFrom(null, undefined),
    fc.bigInt(),
    hostileBuffer,
    fc.uint8Array({ maxLength: 16 }),
    fc.date({ noInvalidDate: false }),
    protoObject,
    fc.constantFrom(() => 1, Symbol('s')),
    fc.integer({ min: Math.min(50, maxDeep), max: maxDeep }).chain((d) => fc.constantFrom(deep(d, 'array'), deep(d, 'object'))),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(hostileKey, tie('v'), { maxKeys: 6 }),
    fc.anything({ withBigInt: true, withBoxedValues: true, withMap: true, withSet: true, withNullPrototype: true, withTypedArray: true, withSparseArray: true, key: hostileKey, maxDepth: 3 }),
  ),
  })).v;
}

export const hostileValue: fc.Arbitrary<unknown> = makeHostileValue(10_000);

/** A value that is a plausible reading payload most of the time, hostile the rest. */
export function makeReadingPayload(hostileValue: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
  { weight: 3, arbitrary: fc.dictionary(hostileKey, fc.oneof(hostileNumber, fc.boolean(), hostileString, fc.constant(null), fc.dictionary(hostileKey, hostileNumber, { maxKeys: 3 })), { minKeys: 1, maxKeys: 8 }) },
  { weight: 2, arbitrary: fc.dictionary(fc.constantFrom('temperature', 'humidity', 'pressure', 'lux'), fc.double({ noNaN: true, noDefaultInfinity: true }), { minKeys: 1, maxKeys: 4 }) },
  { weight: 1, arbitrary: hostileNumber },
  { weight: 1, arbitrary: protoObject },
  { weight: 2, arbitrary: hostileValue },
  );
}
export const readingPayload: fc.Arbitrary<unknown> = makeReadingPayload(hostileValue);

/** A whole flow message: payload plus the fields the nodes read, each sometimes absent and sometimes hostile. */
export function makeHostileMessage(hostileValue: fc.Arbitrary<unknown>): fc.Arbitrary<Record<string, unknown>> {
  const readingPayload = makeReadingPayload(hostileValue);
  return fc.record(
  {
    payload: readingPayload,
    topic: fc.oneof(fc.constantFrom('sensors/a', 'a/b/c', 'x'), hostileString, hostileValue),
    qos: fc.oneof(fc.constantFrom(0, 1, 2, '1', '2'), hostileValue),
    retain: fc.oneof(fc.boolean(), hostileValue),
    units: fc.oneof(fc.constant({ temperature: 'Cel' }), fc.dictionary(hostileKey, hostileString, { maxKeys: 3 }), hostileValue),
    timestamp: fc.oneof(fc.constant(1_700_000_000_000), hostileNumber, hostileString, fc.date({ noInvalidDate: false })),
    sensor: fc.oneof(fc.constantFrom('bme280', 'sht4x'), hostileString, hostileValue),
    device: fc.oneof(fc.constantFrom('gw-1', 'greenhouse'), hostileString, hostileValue),
    metadata: fc.oneof(fc.dictionary(hostileKey, fc.oneof(hostileString, hostileNumber, fc.boolean()), { maxKeys: 3 }), hostileValue),
    contentType: fc.oneof(fc.constantFrom('application/json', ''), hostileString, hostileValue),
    messageExpiry: fc.oneof(fc.constantFrom(0, 60, '10'), hostileValue),
    userProperties: fc.oneof(fc.dictionary(hostileKey, fc.oneof(hostileString, fc.array(hostileString, { maxLength: 3 }), hostileValue), { maxKeys: 4 }), hostileValue),
    responseTopic: fc.oneof(fc.constant('reply/x'), hostileString, hostileValue),
    correlationData: fc.oneof(fc.constant('abc'), hostileBuffer, hostileValue),
    schema: fc.oneof(fc.constant({ type: 'object' }), hostileValue),
  },
  { requiredKeys: ['payload'] },
  );
}
export const hostileMessage: fc.Arbitrary<Record<string, unknown>> = makeHostileMessage(hostileValue);

const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();
const ARRAY_PROTO_NAMES = Object.getOwnPropertyNames(Array.prototype).sort();
const FUNCTION_PROTO_NAMES = Object.getOwnPropertyNames(Function.prototype).sort();

/** Fails when anything was added to the shared prototypes (prototype pollution). */
export function assertNoPollution(): void {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTO_NAMES, 'Object.prototype changed');
  assert.deepEqual(Object.getOwnPropertyNames(Array.prototype).sort(), ARRAY_PROTO_NAMES, 'Array.prototype changed');
  assert.deepEqual(Object.getOwnPropertyNames(Function.prototype).sort(), FUNCTION_PROTO_NAMES, 'Function.prototype changed');
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'a plain object inherits "polluted"');
}

/** Counts inputs tried per property, printed at the end of each file for the README figures. */
export const tried = new Map<string, number>();
export function count(name: string): void {
  tried.set(name, (tried.get(name) ?? 0) + 1);
}
export function report(file: string): void {
  for (const [name, n] of tried) console.log(`[figures] ${file}: ${name}: ${n} inputs`);
}

/** fc.assert with the failure message cut short: a counterexample holding a 280 kB string must not flood the log. */
export async function check<T>(property: fc.IAsyncProperty<T> | fc.IProperty<T>, params: fc.Parameters<T>): Promise<void> {
  try {
    await fc.assert(property, params);
  } catch (err) {
    const e = err as Error & { cause?: unknown };
    const cut = (s: string): string => s.replace(/(.)\1{200,}/g, (m, c: string) => `${c.repeat(20)}…(${m.length} × ${JSON.stringify(c)})`).slice(0, 4000);
    const cause = e.cause instanceof Error ? `\ncause: ${cut(e.cause.message)}` : '';
    throw new Error(cut(e.message) + cause);
  }
}

/**
 * Mosquitto 2.0's UTF-8 rule for every string in a packet (topics, content type, user properties): no C0 or C1
 * control, no U+FDD0..U+FDEF, no U+xFFFE/U+xFFFF. (Lone surrogates never reach the wire: Node encodes them as U+FFFD.)
 * A string failing it makes the broker disconnect the client ("Malformed UTF-8").
 */
export function mosquittoAccepts(s: string): boolean {
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number;
    if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) return false;
  }
  return true;
}
