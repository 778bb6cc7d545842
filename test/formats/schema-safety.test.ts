// Schema patterns and formats against hostile input: a pattern from msg.schema or a payload string must not be
// able to freeze the event loop. Speed is never asserted by timing; these tests use inputs on which V8's own
// backtracking RegExp would not finish for minutes or years, so they only pass when the linear-time engine runs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compilePattern, MAX_PATTERN_STATES, MAX_PATTERN_STEPS, type PatternBudget } from '../../src/lib/schema/linear-pattern';
import { compileSchema, SchemaCache, type CompiledSchema, type Validation } from '../../src/lib/schema/validator';

function compiled(schema: unknown): CompiledSchema {
  const c = compileSchema(schema);
  assert.ok(c.ok, c.ok ? '' : c.error.message);
  return c.value;
}

function refused(schema: unknown, message: RegExp): void {
  const c = compileSchema(schema);
  assert.equal(c.ok, false, `expected ${JSON.stringify(schema)} to be refused`);
  if (c.ok) return;
  assert.equal(c.error.code, 'BAD_SCHEMA');
  assert.match(c.error.message, message);
}

function codeOf(v: Validation): string {
  return v.valid ? 'valid' : v.error.code;
}

const unlimited = (): PatternBudget => ({ remaining: Number.MAX_SAFE_INTEGER });

describe('schema patterns run in linear time', () => {
  test('backreferences and lookaround are refused as BAD_SCHEMA, saying why', () => {
    refused({ type: 'string', pattern: '^(a+)\\1$' }, /backreference.*linear-time/);
    refused({ type: 'string', pattern: '^(?<x>a)\\k<x>$' }, /backreference/);
    refused({ type: 'string', pattern: '^(?=.*\\d).{8,}$' }, /lookahead/);
    refused({ type: 'string', pattern: '(?<!a)b' }, /lookbehind/);
    refused({ type: 'object', patternProperties: { '^(?!x)': { type: 'number' } } }, /lookahead/);
    refused({ type: 'string', pattern: '(a' }, /Invalid regular expression/);
  });

  test('repetition counts that expand past the state limit, and absurd nesting, are refused', () => {
    refused({ type: 'string', pattern: `a{0,${MAX_PATTERN_STATES + 1}}` }, /too large/);
    refused({ type: 'string', pattern: '(?:(?:(?:a{40}){40}){40})' }, /too large/);
    refused({ type: 'string', pattern: '(?:(?:(?:){5000}){5000})' }, /too large/);
    refused({ type: 'string', pattern: '('.repeat(100) + 'a' + ')'.repeat(100) }, /nests groups deeper/);
    assert.deepEqual(compiled({ type: 'string', pattern: '^[a-z]{1,63}(?:\\.[a-z]{1,63}){0,4}$' }).validate('a.b.c'), { valid: true });
  });

  test('catastrophic patterns from msg.schema give the right answer on long hostile strings', () => {
    const cache = new SchemaCache();
    const cases: Array<[string, string, boolean]> = [
      ['^(a+)+$', 'a'.repeat(100_000) + '!', false],
      ['^(a+)+$', 'a'.repeat(100_000), true],
      ['^(a|aa)+$', 'a'.repeat(50_000) + 'b', false],
      ['^(\\w+\\s?)*$', 'word '.repeat(20_000) + '!', false],
      ['.*a.*a.*b', 'a'.repeat(20_000), false],
      ['[a-z]+1', 'a'.repeat(200_000), false],
      ['\\d+\\.?\\d*x', '1'.repeat(100_000), false],
      ['\\s+$', ' '.repeat(100_000) + 'x', false],
    ];
    for (const [pattern, data, ok] of cases) {
      const c = cache.compile(JSON.stringify({ type: 'string', pattern }));
      assert.ok(c.ok, pattern);
      assert.equal(codeOf(c.value.validate(data)), ok ? 'valid' : 'SCHEMA_INVALID', pattern);
    }
  });

  test('patternProperties run on the same engine, and may overlap properties (valid JSON Schema)', () => {
    // ajv's strict mode refused this, by running each pattern with V8 against each `properties` name at compile time.
    assert.deepEqual(compiled({ properties: { foo: {} }, patternProperties: { '^f': { type: 'number' } } }).validate({ foo: 1 }), { valid: true });
    const s = compiled({ type: 'object', properties: { ['a'.repeat(40) + '!']: {}, foo: {} }, patternProperties: { '^(a+)+$': { type: 'string' }, '^f': { type: 'number' } } });
    assert.deepEqual(s.validate({ foo: 1, ['a'.repeat(50_000) + '!']: 1 }), { valid: true });
    assert.equal(codeOf(s.validate({ ['a'.repeat(50_000)]: 1 })), 'SCHEMA_INVALID');
    assert.equal(codeOf(s.validate({ foo: 'x' })), 'SCHEMA_INVALID');
  });

  test('different patterns in one schema each keep their own matcher', () => {
    const s = compiled({ type: 'object', properties: { a: { type: 'string', pattern: '^a$' }, b: { type: 'string', pattern: '^b$' } } });
    assert.deepEqual(s.validate({ a: 'a', b: 'b' }), { valid: true });
    assert.equal(codeOf(s.validate({ a: 'b', b: 'b' })), 'SCHEMA_INVALID');
  });

  test('a message needing more than the step budget is TOO_LARGE; the budget is per message', () => {
    const s = compiled({ type: 'array', items: { type: 'string', pattern: '[a-z]+1' } });
    const long = 'a'.repeat(2_500_000);
    const v = s.validate([long, long, long, long, long]);
    assert.equal(codeOf(v), 'TOO_LARGE');
    if (!v.valid) assert.match(v.error.message, new RegExp(`payload is too large to check against this schema's patterns \\(more than ${MAX_PATTERN_STEPS}`));
    assert.deepEqual(s.validate(['abc1']), { valid: true }, 'the next message starts with a fresh budget');
    assert.equal(codeOf(s.validate([long])), 'SCHEMA_INVALID', 'one long string alone fits');
  });

  test('the built-in style of pattern stays cheap: an anchored pattern stops at the first mismatch', () => {
    const budget: PatternBudget = { remaining: 100 };
    const senmlName = compilePattern('^[A-Za-z0-9\\-:./_]*$', budget);
    assert.equal(senmlName.test(' ' + 'a'.repeat(1_000_000)), false);
    assert.ok(budget.remaining > 0, 'a few steps, not one per character');
  });

  test('the engine agrees with V8 on patterns and strings it generates (u flag semantics)', () => {
    // Short patterns and strings only: longer ones with nested quantifiers can keep V8 itself busy for minutes.
    // One such case took V8 114 s and then answered false, although the pattern matches the empty string at
    // position 0 whatever follows (V8 says true on shorter strings); this engine said true at once.
    const atom = fc.constantFrom('a', 'b', '-', '.', '\\d', '\\w', '\\s', '\\W', '[ab]', '[^a]', '[a-c1]', '\\u0061', '\\u{62}', '\\p{L}', '\\P{L}', '😀', '[😀b]', '\\uD83D\\uDE00', '[^]', '[]', '\\.');
    const quantifier = fc.constantFrom('', '', '*', '+', '?', '{2}', '{1,3}', '{0,2}', '{2,}', '*?', '+?', '{1,2}?');
    const assertion = fc.constantFrom('^', '$', '\\b', '\\B');
    const { pattern } = fc.letrec<{ pattern: string; term: string; group: string }>((tie) => ({
      pattern: fc.array(tie('term'), { maxLength: 3 }).chain((terms) => fc.oneof({ depthSize: 'small' }, fc.constant(terms.join('')), tie('pattern').map((other) => `${terms.join('')}|${other}`))),
      term: fc.oneof({ depthSize: 'small', maxDepth: 2 }, fc.tuple(atom, quantifier).map(([a, q]) => a + q), assertion, fc.tuple(tie('group'), quantifier).map(([g, q]) => g + q)),
      group: fc.tuple(fc.constantFrom('(', '(?:'), tie('pattern')).map(([open, inner]) => `${open}${inner})`),
    }));
    const text = fc.array(fc.constantFrom('a', 'b', '1', '-', '.', ' ', '_', '\n', '😀', '\uD83D', 'é'), { maxLength: 6 }).map((cs) => cs.join(''));
    fc.assert(
      fc.property(pattern.filter((p) => p.length <= 40), fc.array(text, { minLength: 1, maxLength: 6 }), (p, texts) => {
        // One engine for several strings, as ajv uses it: its cached DFA states carry over from string to string.
        const engine = compilePattern(p, unlimited());
        const native = new RegExp(p, 'u');
        for (const s of texts) assert.equal(engine.test(s), native.test(s), `/${p}/u on ${JSON.stringify(s)}`);
      }),
      { numRuns: 2000 },
    );
  });

  test('a pattern needing more DFA states than the cache keeps still matches as V8 does', () => {
    // The 9th character from the end decides: 2^9 sets of NFA states, far more than the cache's 64.
    const p = '(?:a|b)*a(?:a|b){8}$';
    const engine = compilePattern(p, unlimited());
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b'), { minLength: 0, maxLength: 400 }), (cs) => {
        const s = cs.join('');
        assert.equal(engine.test(s), new RegExp(p, 'u').test(s), s);
      }),
      { numRuns: 300 },
    );
  });

  test('named groups, lazy quantifiers and escapes match as in V8', () => {
    const cases: Array<[string, string[]]> = [
      ['^(?<year>\\d{4})-(?<month>\\d{2})$', ['2024-01', '2024-1', 'x2024-01']],
      ['^a{2,3}?$', ['a', 'aa', 'aaa', 'aaaa']],
      ['\\bfoo\\b', ['foo', 'a foo b', 'foobar', '_foo']],
      ['^\\x41\\cJ\\0$', ['A\n\0', 'A\n0']],
      ['^[\\]\\-]+$', [']-]', 'a']],
      ['^\\p{Script=Greek}+$', ['αβγ', 'abc']],
      ['', ['', 'x']],
      ['^$', ['', 'x']],
      ['()*x', ['x', 'y']],
      // V8 also finds an empty match between the halves of a surrogate pair, where only \B holds.
      ['\\B', ['a😀a', 'ab', 'a']],
      ['^\\B', ['😀', '']],
    ];
    for (const [p, inputs] of cases) {
      for (const s of inputs) assert.equal(compilePattern(p, unlimited()).test(s), new RegExp(p, 'u').test(s), `/${p}/u on ${JSON.stringify(s)}`);
    }
  });
});
