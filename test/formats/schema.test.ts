import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createFormatter } from '../../src/lib/formats/registry';
import type { FormatName } from '../../src/lib/formats/types';
import { BUILTIN_SCHEMAS } from '../../src/lib/schema/builtin-schemas';
import { documentOf } from '../../src/lib/schema/document';
import { humanMessage, pathOf } from '../../src/lib/schema/human-message';
import { compileSchema, dialectOf, SchemaCache, type CompiledSchema } from '../../src/lib/schema/validator';
import { golden, reading } from './fixtures';

function compiled(schema: unknown): CompiledSchema {
  const c = compileSchema(schema);
  assert.ok(c.ok, c.ok ? '' : c.error.message);
  return c.value;
}

function invalid(schema: CompiledSchema, data: unknown): { code: string; message: string; errors: unknown[] } {
  const v = schema.validate(data);
  assert.equal(v.valid, false, `expected ${JSON.stringify(data)} to be invalid`);
  if (v.valid) throw new Error('unreachable');
  return v.error;
}

test('the dialect follows $schema: draft-07 (also when absent) or 2020-12; others are refused', () => {
  assert.deepEqual(dialectOf({}), { ok: true, value: 'draft-07' });
  assert.deepEqual(dialectOf({ $schema: 'http://json-schema.org/draft-07/schema#' }), { ok: true, value: 'draft-07' });
  assert.deepEqual(dialectOf({ $schema: 'https://json-schema.org/draft/2020-12/schema' }), { ok: true, value: '2020-12' });
  const old = dialectOf({ $schema: 'http://json-schema.org/draft-04/schema#' });
  assert.equal(old.ok, false);
  if (!old.ok) assert.equal(old.error.code, 'BAD_SCHEMA');
});

test('$schema https://json-schema.org/draft-07/schema# compiles and validates as draft-07; the caller\'s schema is untouched', () => {
  for (const id of ['https://json-schema.org/draft-07/schema#', 'https://json-schema.org/draft-07/schema', 'http://json-schema.org/draft-07/schema']) {
    const schema = { $schema: id, type: 'object', properties: { t: { type: 'number' } }, required: ['t'] };
    const s = compiled(schema);
    assert.equal(s.dialect, 'draft-07');
    assert.deepEqual(s.validate({ t: 1 }), { valid: true }, id);
    assert.equal(invalid(s, { t: 'x' }).message, 'payload.t must be number (got string "x")');
    assert.equal(schema.$schema, id, 'not rewritten in place');
  }
  const cached = new SchemaCache().compile('{"$schema":"https://json-schema.org/draft-07/schema#","type":"string","format":"email"}');
  assert.ok(cached.ok, cached.ok ? '' : cached.error.message);
  assert.deepEqual(cached.value.validate('a@example.com'), { valid: true });
});

test('2020-12 keywords work under 2020-12 (prefixItems), and draft-07 tuple items under draft-07', () => {
  const s2020 = compiled({ $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], items: false });
  assert.equal(s2020.dialect, '2020-12');
  assert.deepEqual(s2020.validate(['a', 1]), { valid: true });
  assert.equal(invalid(s2020, ['a', 'b']).code, 'SCHEMA_INVALID');
  invalid(s2020, ['a', 1, 2]);
  const s07 = compiled({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ type: 'string' }, { type: 'number' }], additionalItems: false });
  assert.deepEqual(s07.validate(['a', 1]), { valid: true });
  invalid(s07, ['a', 1, 2]);
});

test('errors read as one line from msg.payload, with the count of further problems and ajv errors attached', () => {
  const s = compiled({ type: 'object', required: ['t', 'unit'], properties: { t: { type: 'number' }, unit: { type: 'string' }, tags: { type: 'array', items: { enum: ['a', 'b'] } } }, additionalProperties: false });
  const e1 = invalid(s, { t: '25' });
  assert.equal(e1.message, 'payload is missing required property "unit" (and 1 more problem)');
  assert.ok(e1.errors.some((e) => (e as { instancePath: string }).instancePath === '/t'));
  assert.equal(e1.errors.length, 2);
  const e2 = invalid(s, { t: 1, unit: 'C', tags: ['a', 'zz'] });
  assert.equal(e2.message, 'payload.tags[1] must be one of ["a","b"] (got string "zz")');
  const e3 = invalid(s, { t: 1, unit: 'C', 'bad key': 1 });
  assert.equal(e3.message, 'payload has unknown property "bad key"');
  const e4 = invalid(s, { t: 1 });
  assert.equal(e4.message, 'payload is missing required property "unit"');
  assert.equal(pathOf('/a~1b/0/c~0d'), 'payload["a/b"][0]["c~d"]');
  assert.equal(humanMessage([]), 'payload is invalid');
  assert.ok(!JSON.stringify(e1.errors).includes('"data"'), 'verbose copies of the data are not attached');
});

test('formats: known ones are checked, unknown ones are schema errors rather than skipped checks', () => {
  const s = compiled({ type: 'string', format: 'date-time' });
  assert.deepEqual(s.validate('2023-11-14T22:13:20.000Z'), { valid: true });
  invalid(s, '2023-02-30T10:00:00Z');
  invalid(s, 'yesterday');
  const u = compiled({ type: 'string', format: 'uuid' });
  assert.deepEqual(u.validate('123e4567-e89b-12d3-a456-426614174000'), { valid: true });
  const unknown = compileSchema({ type: 'string', format: 'hostname-ish' });
  assert.equal(unknown.ok, false);
  if (!unknown.ok) assert.match(unknown.error.message, /unknown format/);
  const typo = compileSchema({ type: 'object', requird: ['x'] });
  assert.equal(typo.ok, false, 'strict mode refuses unknown keywords');
});

test('format email: bounded to RFC 5321\'s 254 octets, and correct on long hostile strings', () => {
  const email = compiled({ type: 'string', format: 'email' });
  const local = 'x'.repeat(64);
  const at254 = `${local}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(58)}.io`;
  assert.equal(at254.length, 254);
  assert.deepEqual(email.validate(at254), { valid: true });
  assert.deepEqual(email.validate('first.last+tag@sub.example.co.uk'), { valid: true });
  // Otherwise valid, but over the limit: refused without the regex seeing it.
  invalid(email, `${local}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(59)}.io`);
  invalid(email, `${local}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(105)}.io`);
  const multibyte = `${'é'.repeat(8)}@${'d'.repeat(240)}.io`;
  assert.equal(multibyte.length, 252);
  invalid(email, multibyte); // 252 characters, but 260 octets in UTF-8
  // The inputs that made the old regex quadratic (100 000 characters took 6.6 s), and their neighbours.
  invalid(email, 'a@' + 'a'.repeat(100_000));
  invalid(email, 'a@' + 'a.'.repeat(50_000) + ' ');
  invalid(email, 'a@' + 'a.'.repeat(50_000) + 'a');
  for (const bad of ['a@b', 'a@b..c', 'a@.b.c', 'a@b.c.', 'a b@c.d', 'a@b@c.d', '@b.c', 'a@b.c ']) invalid(email, bad);
});

test('format date-time and date: offsets in range, years before 100 by the Gregorian calendar, long input linear', () => {
  const dt = compiled({ type: 'string', format: 'date-time' });
  assert.deepEqual(dt.validate('2023-11-14T22:13:20+05:30'), { valid: true });
  assert.deepEqual(dt.validate('2023-11-14t22:13:20.123456789z'), { valid: true });
  invalid(dt, '2023-11-14T22:13:20+99:00');
  invalid(dt, '2023-11-14T22:13:20-05:60');
  invalid(dt, '2023-11-14T24:00:00Z');
  const date = compiled({ type: 'string', format: 'date' });
  assert.deepEqual(date.validate('0000-02-29'), { valid: true }, 'year 0 is a leap year (divisible by 400)');
  assert.deepEqual(date.validate('2024-02-29'), { valid: true });
  invalid(date, '0100-02-29');
  invalid(date, '1900-02-29');
  invalid(date, '2023-04-31');
  // A fraction of any length is RFC 3339; the regex stays linear on it, so there is no cap to get wrong.
  assert.deepEqual(dt.validate('2023-11-14T22:13:20.' + '1'.repeat(100_000) + 'Z'), { valid: true });
  invalid(dt, '2023-11-14T22:13:20.' + '1'.repeat(100_000) + '!');
  const uri = compiled({ type: 'string', format: 'uri' });
  assert.deepEqual(uri.validate('https://example.com/' + 'a'.repeat(100_000)), { valid: true });
  invalid(uri, 'https://example.com/' + 'a'.repeat(100_000) + ' ');
  invalid(uri, 'a'.repeat(100_000));
});

test('the cache compiles each schema once (same object back) and stays bounded', () => {
  const cache = new SchemaCache(2);
  const a1 = cache.compile({ type: 'number' });
  const a2 = cache.compile('{"type":"number"}');
  assert.ok(a1.ok && a2.ok);
  assert.equal(a1.value, a2.value);
  cache.compile({ type: 'string' });
  cache.compile({ type: 'boolean' });
  assert.equal(cache.size, 2);
  const again = cache.compile({ type: 'number' });
  assert.ok(again.ok);
  assert.notEqual(again.value, a1.value, 'evicted and compiled anew');
  const bad = cache.compile('{not json');
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.equal(bad.error.code, 'BAD_SCHEMA');
  const same1 = cache.compile({ $id: 'https://x/s', type: 'number' });
  const same2 = cache.compile({ $id: 'https://x/s', type: 'string' });
  assert.ok(same1.ok && same2.ok, 'two schemas with one $id do not collide');
});

test('built-in schemas accept the format node output for SenML, JSON envelope, ThingsBoard, AWS and Azure', () => {
  const cases: Array<[FormatName, string]> = [['senml', 'senml'], ['json', 'json'], ['aws', 'json'], ['azure', 'json'], ['thingsboard', 'thingsboard']];
  for (const [format, schemaName] of cases) {
    const f = createFormatter({ format, timestampStyle: format === 'aws' ? 'ms' : 'iso' });
    assert.ok(f.ok);
    const out = f.value.format(reading());
    assert.ok(out.ok);
    const doc = documentOf(out.value[0].payload);
    assert.ok(doc.ok);
    assert.deepEqual(compiled(BUILTIN_SCHEMAS.get(schemaName)).validate(doc.value), { valid: true }, format);
  }
});

test('built-in SenML schema refuses the usual mistakes with readable messages', () => {
  const senml = compiled(BUILTIN_SCHEMAS.get('senml'));
  const rfc = JSON.parse(golden('rfc8428-examples.json')) as Record<string, unknown>;
  assert.deepEqual(senml.validate(rfc['5.1.3 multiple measurements']), { valid: true });
  assert.equal(invalid(senml, [{ n: 'x', v: '1' }]).message, 'payload[0].v must be number (got string "1")');
  assert.match(invalid(senml, [{ n: 'x', v: 1, vb: true }]).message, /payload\[0\] must NOT be valid/);
  assert.match(invalid(senml, [{ n: 'a b', v: 1 }]).message, /payload\[0\]\.n must match pattern/);
  invalid(senml, []);
  invalid(senml, [{ n: 'x', v: 1, x_: 1 }]);
  const env = compiled(BUILTIN_SCHEMAS.get('json'));
  invalid(env, { timestamp: 'yesterday', values: { t: 1 } });
  invalid(env, { timestamp: 1, values: {} });
});

test('documents: JSON text is parsed; too large, too deep and non-JSON are refused before validation', () => {
  assert.deepEqual(documentOf('{"a":1}'), { ok: true, value: { a: 1 } });
  assert.deepEqual(documentOf(Buffer.from('[1]')), { ok: true, value: [1] });
  const notJson = documentOf('{oops');
  assert.ok(!notJson.ok && notJson.error.code === 'NOT_JSON');
  const big = documentOf('"' + 'x'.repeat(100) + '"', 50);
  assert.ok(!big.ok && big.error.code === 'TOO_LARGE');
  const deep = documentOf('['.repeat(10000) + ']'.repeat(10000));
  assert.ok(!deep.ok && deep.error.code === 'TOO_DEEP');
  const undef = documentOf(undefined);
  assert.ok(!undef.ok && undef.error.code === 'NOT_JSON');
  const s = compiled({ type: 'object', properties: { t: { type: 'number' } } });
  invalid(s, { t: NaN });
  invalid(s, { t: Infinity });
});
