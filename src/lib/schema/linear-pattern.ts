// The regular-expression engine ajv uses for `pattern` and `patternProperties` (its `code.regExp` option).
//
// Why: V8 matches by backtracking and has no timeout, so one pattern can freeze Node-RED's event loop. The
// classic case is exponential, `^(a+)+$` against "aaaa…!", but ordinary patterns are polynomial because a
// schema `pattern` is unanchored: `[a-z]+1` takes seconds on a 100 000-letter string, `.*a.*a.*b` a minute on
// 1 000 letters. Screening patterns for nested quantifiers would miss those, and a schema's data is untrusted
// even when the schema is not, so every pattern runs here instead.
//
// How: the pattern becomes a Thompson NFA and the input is read once, left to right, keeping the set of states
// it can be in (Thompson simulation, as RE2 does; no captures are needed, only test()). Work is at most (input
// length × NFA states), whatever the pattern; the sets met are cached as a small lazy DFA, so the usual cost is
// one table look-up per character. Each one-character atom is still tested by V8 (`^(?:\p{L})$` against one
// code point), so character classes and escapes mean exactly what they mean natively.
//
// Refused when the schema is compiled (BAD_SCHEMA): backreferences and lookaround (not regular, or needing a
// second pass), and patterns whose repetition counts expand to more than MAX_PATTERN_STATES states. And because
// (length × states) can still be large, all patterns of one schema share a step budget per validation; past it
// the message is refused as TOO_LARGE rather than checked slowly.
import type { RegExpEngine, RegExpLike } from 'ajv/dist/types';
import { quote } from '../formats/errors';
import { parsePattern, PatternRefused, type Assertion, type PatternNode } from './pattern-syntax';

export { PatternRefused } from './pattern-syntax';

export const MAX_PATTERN_STATES = 10_000;
/** Steps (cached DFA transitions and NFA states visited) all patterns of a schema may take for one message. */
export const MAX_PATTERN_STEPS = 10_000_000;

/** Shared by the patterns of one compiled schema; reset before each validation. */
export interface PatternBudget {
  remaining: number;
}

export class PatternBudgetExceeded extends Error {
  override readonly name = 'PatternBudgetExceeded';
}

const CHAR = 0;
const SPLIT = 1;
const ASSERT = 2;
const MATCH = 3;
const ASSERTIONS: readonly Assertion[] = ['start', 'end', 'wordBoundary', 'notWordBoundary'];
const [START, END, WORD_BOUNDARY] = [0, 1, 2];

interface Program {
  op: Int8Array;
  /** CHAR: atom index; ASSERT: index into ASSERTIONS. */
  arg: Int32Array;
  out: Int32Array;
  /** SPLIT only: the second way on. */
  out2: Int32Array;
  start: number;
  atoms: string[];
}

/** Builds the NFA back to front: each node is compiled with the state that follows it already known. */
class Builder {
  private readonly op: number[] = [];
  private readonly arg: number[] = [];
  private readonly out: number[] = [];
  private readonly out2: number[] = [];
  private readonly atoms = new Map<string, number>();
  // Counts compile calls too: `(?:(?:){5000}){5000}` adds no state but would still loop 25 million times.
  private work = 0;

  constructor(private readonly source: string) {}

  build(root: PatternNode): Program {
    const match = this.add(MATCH, 0, -1, -1);
    const start = this.emit(root, match);
    return {
      op: Int8Array.from(this.op),
      arg: Int32Array.from(this.arg),
      out: Int32Array.from(this.out),
      out2: Int32Array.from(this.out2),
      start,
      atoms: [...this.atoms.keys()],
    };
  }

  private tooLarge(): PatternRefused {
    return new PatternRefused(`pattern ${quote(this.source)} is too large once its repetition counts are expanded (more than ${MAX_PATTERN_STATES} states); use smaller counts`);
  }

  private add(op: number, arg: number, out: number, out2: number): number {
    if (this.op.length >= MAX_PATTERN_STATES) throw this.tooLarge();
    this.op.push(op);
    this.arg.push(arg);
    this.out.push(out);
    this.out2.push(out2);
    return this.op.length - 1;
  }

  private atom(source: string): number {
    let id = this.atoms.get(source);
    if (id === undefined) {
      id = this.atoms.size;
      this.atoms.set(source, id);
    }
    return id;
  }

  private emit(node: PatternNode, next: number): number {
    if (++this.work > 4 * MAX_PATTERN_STATES) throw this.tooLarge();
    switch (node.kind) {
      case 'char':
        return this.add(CHAR, this.atom(node.atom), next, -1);
      case 'assert':
        return this.add(ASSERT, ASSERTIONS.indexOf(node.at), next, -1);
      case 'seq':
        return node.items.reduceRight((following, item) => this.emit(item, following), next);
      case 'alt':
        return node.options.slice(0, -1).reduceRight((rest, option) => this.add(SPLIT, 0, this.emit(option, next), rest), this.emit(node.options[node.options.length - 1], next));
      case 'repeat':
        return this.repeat(node.body, node.min, node.max, next);
    }
  }

  /** x{2,} is x x x*, with the loop built on the last copy; x{1,3} is x(x(x)?)?, which is unambiguous. */
  private repeat(body: PatternNode, min: number, max: number, next: number): number {
    if (min > MAX_PATTERN_STATES || (max !== Infinity && max > MAX_PATTERN_STATES)) throw this.tooLarge();
    let first: number;
    let mandatory = min;
    if (max === Infinity) {
      const loop = this.add(SPLIT, 0, -1, next);
      const body1 = this.emit(body, loop);
      this.out[loop] = body1;
      first = min > 0 ? body1 : loop;
      mandatory = Math.max(min - 1, 0);
    } else {
      first = next;
      for (let k = 0; k < max - min; k++) first = this.add(SPLIT, 0, this.emit(body, first), next);
    }
    for (let k = 0; k < mandatory; k++) first = this.emit(body, first);
    return first;
  }
}

/** One atom's verdicts, cached for ASCII (where nearly all telemetry text is). */
class Atom {
  private readonly ascii = new Int8Array(128);
  private readonly re: RegExp;

  constructor(source: string) {
    this.re = new RegExp(`^(?:${source})$`, 'u');
  }

  matches(cp: number): boolean {
    if (cp >= 128) return this.re.test(String.fromCodePoint(cp));
    if (this.ascii[cp] === 0) this.ascii[cp] = this.re.test(String.fromCharCode(cp)) ? 1 : 2;
    return this.ascii[cp] === 1;
  }
}

function isWordChar(cp: number): boolean {
  return (cp >= 48 && cp <= 57) || (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122) || cp === 95;
}

/** What, besides itself, a transition depends on: whether the following code point is the end, a word character or not. */
function nextKind(next: number): number {
  return next === -1 ? 0 : isWordChar(next) ? 1 : 2;
}

/** Whether assertion `kind` holds between code points `prev` and `next` (-1 at either end of the input). */
function holds(kind: number, prev: number, next: number): boolean {
  if (kind === START) return prev === -1;
  if (kind === END) return next === -1;
  return (isWordChar(prev) !== isWordChar(next)) === (kind === WORD_BOUNDARY);
}

const UNKNOWN = -1;
const MATCHED = -2;
/** Cached DFA states per pattern; past it the cache starts afresh (as RE2 does), so memory stays bounded. */
const MAX_DFA_STATES = 64;
/** See nextKind(). */
const NEXT_KINDS = 3;

/**
 * A compiled pattern with the one method ajv calls. The NFA simulation is memoised as a lazy DFA: each set of
 * NFA states met is numbered, and its transition on an ASCII character is computed once, so repeated text
 * (the same names in every message) costs one table look-up per character. Not re-entrant, and needs not be.
 */
export class LinearPattern implements RegExpLike {
  private readonly atoms: Atom[];
  private readonly mark: Int32Array;
  private readonly stack: Int32Array;
  private readonly scratch: Int32Array;
  private generation = 0;
  private matched = false;
  private steps = 0;
  /** Every way from the start passes `^`: a search that has lost all its states cannot match later. */
  private readonly anchored: boolean;
  private readonly emptyInsidePair: boolean;
  private dfaLists: Int32Array[] = [];
  private dfaRows: Int32Array[] = [];
  private dfaIds = new Map<string, number>();
  /** The DFA state before the first character, by nextKind() of that character. */
  private readonly initialIds = new Int32Array(NEXT_KINDS).fill(UNKNOWN);

  constructor(
    private readonly source: string,
    private readonly program: Program,
    private readonly budget: PatternBudget,
  ) {
    const n = program.op.length;
    this.atoms = program.atoms.map((a) => new Atom(a));
    this.mark = new Int32Array(n);
    this.stack = new Int32Array(2 * n + 1);
    this.scratch = new Int32Array(n);
    this.anchored = this.startNeedsInputStart();
    this.emptyInsidePair = this.matchesEmptyInsidePair();
  }

  /** ajv keys its compiled patterns by this text, so it must differ between patterns. */
  toString(): string {
    return `/${this.source}/u`;
  }

  test(s: string): boolean {
    this.steps = 0;
    let next = s.length > 0 ? (s.codePointAt(0) as number) : -1;
    let state = this.initial(next);
    for (let i = 0; i < s.length && state !== MATCHED; ) {
      const cp = next;
      if (cp > 0xffff && this.emptyInsidePair) return true;
      i += cp > 0xffff ? 2 : 1;
      next = i < s.length ? (s.codePointAt(i) as number) : -1;
      state = this.step(state, cp, next);
      if (this.steps > 4096) this.charge();
      if (state !== MATCHED && this.anchored && this.dfaLists[state].length === 0) break;
    }
    this.charge();
    return state === MATCHED;
  }

  /** The DFA state before the first character (`next`), or MATCHED when the empty prefix already matches. */
  private initial(next: number): number {
    const kind = nextKind(next);
    if (this.initialIds[kind] !== UNKNOWN) return this.initialIds[kind];
    this.matched = false;
    this.nextGeneration();
    const count = this.close(this.scratch, 0, this.program.start, -1, next);
    const id = this.matched ? MATCHED : this.intern(count);
    this.initialIds[kind] = id;
    return id;
  }

  /** Reads `cp` in DFA state `state`: a cached transition for ASCII, else one step of the NFA (then cached). */
  private step(state: number, cp: number, next: number): number {
    const slot = cp < 128 ? cp * NEXT_KINDS + nextKind(next) : -1;
    const row = this.dfaRows[state];
    if (slot >= 0 && row[slot] !== UNKNOWN) {
      this.steps++;
      return row[slot];
    }
    const from = this.dfaLists[state];
    this.matched = false;
    const count = this.advance(from, from.length, this.scratch, cp, next);
    const full = this.dfaLists.length >= MAX_DFA_STATES;
    const to = this.matched ? MATCHED : this.intern(count);
    // With the cache full, intern() may have emptied it, and `row` would belong to the old one: leave it.
    if (slot >= 0 && !full) row[slot] = to;
    return to;
  }

  /** The DFA state for the `count` NFA states now in `scratch`; empties the cache first when it is full. */
  private intern(count: number): number {
    const states = this.scratch.slice(0, count);
    const key = states.join(',');
    const known = this.dfaIds.get(key);
    if (known !== undefined) return known;
    if (this.dfaLists.length >= MAX_DFA_STATES) {
      this.dfaLists = [];
      this.dfaRows = [];
      this.dfaIds = new Map();
      this.initialIds.fill(UNKNOWN);
    }
    this.dfaLists.push(states);
    this.dfaRows.push(new Int32Array(128 * NEXT_KINDS).fill(UNKNOWN));
    this.dfaIds.set(key, this.dfaLists.length - 1);
    return this.dfaLists.length - 1;
  }

  /** Reads `cp`: the states in `from` that accept it move on, and (unanchored search) a new attempt starts after it. */
  private advance(from: Int32Array, count: number, to: Int32Array, cp: number, next: number): number {
    const { op, arg, out, start } = this.program;
    this.nextGeneration();
    let n = 0;
    for (let k = 0; k < count; k++) {
      const state = from[k];
      this.steps++;
      if (op[state] === CHAR && this.atoms[arg[state]].matches(cp)) n = this.close(to, n, out[state], cp, next);
    }
    return this.anchored ? n : this.close(to, n, start, cp, next);
  }

  /** Adds `state` and everything reachable from it without reading a character; notes MATCH on the way. */
  private close(list: Int32Array, count: number, state: number, prev: number, next: number): number {
    const { op, arg, out, out2 } = this.program;
    const stack = this.stack;
    let sp = 0;
    stack[sp++] = state;
    while (sp > 0) {
      const s = stack[--sp];
      if (this.mark[s] === this.generation) continue;
      this.mark[s] = this.generation;
      this.steps++;
      if (op[s] === CHAR) list[count++] = s;
      else if (op[s] === SPLIT) {
        stack[sp++] = out2[s];
        stack[sp++] = out[s];
      } else if (op[s] === ASSERT) {
        if (holds(arg[s], prev, next)) stack[sp++] = out[s];
      } else this.matched = true;
    }
    return count;
  }

  private nextGeneration(): void {
    if (++this.generation === 0x3fffffff) {
      this.mark.fill(0);
      this.generation = 1;
    }
  }

  private charge(): void {
    this.budget.remaining -= this.steps;
    this.steps = 0;
    if (this.budget.remaining < 0) throw new PatternBudgetExceeded(`matching the schema's patterns needs more than ${MAX_PATTERN_STEPS} steps`);
  }

  /**
   * V8 (unlike the spec) also tries an empty match between the two halves of a surrogate pair, where neither
   * side is a word character: `/\B/u.test('a😀a')` is true. It never reads a character from there, so only
   * a way from the start to MATCH through `\B` alone can match there; the same answers as V8 need it too.
   */
  private matchesEmptyInsidePair(): boolean {
    this.matched = false;
    this.nextGeneration();
    this.close(this.scratch, 0, this.program.start, 0xd83d, 0xde00);
    const found = this.matched;
    this.matched = false;
    this.steps = 0;
    return found;
  }

  /** True when, past the first character, the start state reaches no character and no MATCH (all paths hit `^`). */
  private startNeedsInputStart(): boolean {
    const { op, arg, out, out2, start } = this.program;
    const seen = new Uint8Array(op.length);
    const todo = [start];
    while (todo.length > 0) {
      const s = todo.pop() as number;
      if (seen[s]) continue;
      seen[s] = 1;
      if (op[s] === CHAR || op[s] === MATCH) return false;
      if (op[s] === SPLIT) todo.push(out[s], out2[s]);
      else if (arg[s] !== START) todo.push(out[s]);
    }
    return true;
  }
}

/** Parses and compiles `pattern`; throws SyntaxError (from V8) or PatternRefused, which ajv turns into a compile error. */
export function compilePattern(pattern: string, budget: PatternBudget): LinearPattern {
  // Compiling (never running) the native RegExp checks the syntax exactly as V8 would, so the parser can trust it.
  new RegExp(pattern, 'u');
  return new LinearPattern(pattern, new Builder(pattern).build(parsePattern(pattern)), budget);
}

/** The `code.regExp` option for one ajv instance; ajv always asks for the `u` flag (unicodeRegExp is on). */
export function linearRegExpEngine(budget: PatternBudget): RegExpEngine {
  const engine = (pattern: string, flags: string): RegExpLike => {
    if (flags !== 'u') throw new PatternRefused(`pattern flags ${JSON.stringify(flags)} are not supported`);
    return compilePattern(pattern, budget);
  };
  // `code` is what ajv's standalone code generation would print; this pack never generates standalone code.
  return Object.assign(engine, { code: 'linearRegExpEngine' });
}
