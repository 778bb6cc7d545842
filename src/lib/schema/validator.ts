// JSON Schema validation with ajv: draft-07 or 2020-12 chosen by `$schema`, each schema compiled once and
// kept in a bounded cache (schemas can arrive per message in msg.schema, from untrusted data upstream).
import Ajv, { type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import { describe, fail, ok, type Result, type TelemetryError } from '../formats/errors';
import { SCHEMA_FORMATS } from './formats';
import { compactErrors, humanMessage } from './human-message';
import { linearRegExpEngine, MAX_PATTERN_STEPS, PatternBudgetExceeded, type PatternBudget } from './linear-pattern';
import { parseJson } from '../json';

export type Dialect = 'draft-07' | '2020-12';

export type Validation =
  | { valid: true }
  | { valid: false; error: TelemetryError & { errors: ReturnType<typeof compactErrors> } };

export interface CompiledSchema {
  dialect: Dialect;
  validate(data: unknown): Validation;
}

/** The id ajv registers the draft-07 meta-schema under; the other spellings are rewritten to it before compiling. */
const DRAFT_07_ID = 'http://json-schema.org/draft-07/schema#';
const DRAFT_07 = new Set([DRAFT_07_ID, 'http://json-schema.org/draft-07/schema', 'https://json-schema.org/draft-07/schema#', 'https://json-schema.org/draft-07/schema']);
const DRAFT_2020 = new Set(['https://json-schema.org/draft/2020-12/schema', 'https://json-schema.org/draft/2020-12/schema#']);
const MAX_SCHEMA_CHARS = 256 * 1024;

export function dialectOf(schema: unknown): Result<Dialect> {
  if (typeof schema === 'boolean') return ok('draft-07');
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return fail('BAD_SCHEMA', `a schema must be an object (got ${describe(schema)})`, 'schema');
  const declared = (schema as { $schema?: unknown }).$schema;
  if (declared === undefined || (typeof declared === 'string' && DRAFT_07.has(declared))) return ok('draft-07');
  if (typeof declared === 'string' && DRAFT_2020.has(declared)) return ok('2020-12');
  return fail('BAD_SCHEMA', `unsupported $schema ${JSON.stringify(declared)}: use draft-07 or 2020-12`, 'schema.$schema');
}

function options(budget: PatternBudget): Options {
  // Unknown keywords and formats are compile errors, not silently ignored checks; the stricter lint-like
  // rules (tuples, required without properties, a `properties` name that a `patternProperties` pattern also
  // matches) would refuse valid schemas, so they stay off. The last one also ran the schema's patterns with
  // V8's backtracking RegExp against the schema's own property names while compiling.
  return {
    allErrors: true,
    verbose: true,
    strictSchema: true,
    strictNumbers: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allowMatchingProperties: true,
    allowUnionTypes: true,
    logger: false,
    formats: SCHEMA_FORMATS,
    // Every `pattern` and `patternProperties` regex runs on a linear-time matcher: see linear-pattern.ts.
    code: { regExp: linearRegExpEngine(budget) },
  };
}

/** ajv knows draft-07 only by its http id; the caller's object is left as it is. */
function withKnownMetaSchemaId(schema: object | boolean): object | boolean {
  if (typeof schema === 'boolean') return schema;
  const declared = (schema as { $schema?: unknown }).$schema;
  return typeof declared === 'string' && declared !== DRAFT_07_ID && DRAFT_07.has(declared) ? { ...schema, $schema: DRAFT_07_ID } : schema;
}

function compileWith(dialect: Dialect, schema: object | boolean, budget: PatternBudget): ValidateFunction {
  // A fresh instance per schema: two schemas with the same $id never collide, and nothing accumulates.
  const ajv = dialect === '2020-12' ? new Ajv2020(options(budget)) : new Ajv(options(budget));
  return ajv.compile(withKnownMetaSchemaId(schema));
}

function thrownWhileValidating(err: unknown, root: string): Validation {
  // A very deep document can exhaust the stack inside generated code.
  if (err instanceof RangeError) return { valid: false, error: { code: 'TOO_DEEP', message: `${root} is nested too deeply to validate`, errors: [] } };
  if (err instanceof PatternBudgetExceeded) {
    return { valid: false, error: { code: 'TOO_LARGE', message: `${root} is too large to check against this schema's patterns (more than ${MAX_PATTERN_STEPS} matching steps)`, errors: [] } };
  }
  return { valid: false, error: { code: 'SCHEMA_INVALID', message: `validation failed: ${err instanceof Error ? err.message : String(err)}`, errors: [] } };
}

export function compileSchema(schema: unknown, root = 'payload'): Result<CompiledSchema> {
  const dialect = dialectOf(schema);
  if (!dialect.ok) return dialect;
  const budget: PatternBudget = { remaining: MAX_PATTERN_STEPS };
  let fn: ValidateFunction;
  try {
    fn = compileWith(dialect.value, schema as object | boolean, budget);
  } catch (err) {
    return fail('BAD_SCHEMA', `schema does not compile: ${err instanceof Error ? err.message : String(err)}`, 'schema');
  }
  return ok({
    dialect: dialect.value,
    validate(data: unknown): Validation {
      let valid: boolean;
      budget.remaining = MAX_PATTERN_STEPS;
      try {
        valid = fn(data) === true;
      } catch (err) {
        return thrownWhileValidating(err, root);
      }
      if (valid) return { valid: true };
      const errors: ErrorObject[] = fn.errors ?? [];
      return { valid: false, error: { code: 'SCHEMA_INVALID', message: humanMessage(errors, root), errors: compactErrors(errors) } };
    },
  });
}

/** Compiled schemas by their JSON text, least recently used dropped first. */
export class SchemaCache {
  private readonly entries = new Map<string, CompiledSchema>();
  constructor(private readonly maxEntries = 64) {}

  get size(): number {
    return this.entries.size;
  }

  compile(schema: unknown): Result<CompiledSchema> {
    let key: string;
    if (typeof schema === 'string') {
      if (schema.length > MAX_SCHEMA_CHARS) return fail('BAD_SCHEMA', `schema text is longer than ${MAX_SCHEMA_CHARS} characters`, 'schema');
      try {
        schema = parseJson(schema);
      } catch (err) {
        return fail('BAD_SCHEMA', `schema is not valid JSON: ${err instanceof Error ? err.message : String(err)}`, 'schema');
      }
    }
    try {
      key = JSON.stringify(schema) ?? '';
    } catch {
      return fail('BAD_SCHEMA', 'schema cannot be serialised (circular?)', 'schema');
    }
    if (key.length > MAX_SCHEMA_CHARS) return fail('BAD_SCHEMA', `schema is larger than ${MAX_SCHEMA_CHARS} characters`, 'schema');
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return ok(hit);
    }
    const compiled = compileSchema(schema);
    if (!compiled.ok) return compiled;
    this.entries.set(key, compiled.value);
    // Keyed by content, not object identity: a flow that edits its schema object in place gets the new rules.
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    return ok(compiled.value);
  }
}
