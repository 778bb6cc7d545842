// The syntax tree of a schema `pattern` (ECMAScript regular expression, `u` flag as ajv uses it), for the
// linear-time matcher in linear-pattern.ts. The pattern has already been accepted by `new RegExp(p, 'u')`, so
// this parser only has to find the structure; what each one-character atom matches ([a-z], \d, \p{L}, .) is
// left to V8 itself, one code point at a time, so the character semantics are exactly the native ones.
import { quote } from '../formats/errors';

export type Assertion = 'start' | 'end' | 'wordBoundary' | 'notWordBoundary';

export type PatternNode =
  /** One code point matched by `atom`, the atom's source text (`a`, `.`, `\d`, `[^,]`, `\u{1F600}`). */
  | { kind: 'char'; atom: string }
  | { kind: 'assert'; at: Assertion }
  | { kind: 'seq'; items: PatternNode[] }
  | { kind: 'alt'; options: PatternNode[] }
  | { kind: 'repeat'; body: PatternNode; min: number; max: number };

/** A pattern the linear-time matcher cannot run; the schema is refused with this message. */
export class PatternRefused extends Error {
  override readonly name = 'PatternRefused';
}

/** Deeper group nesting than any real pattern needs; it also keeps the recursive parser off the stack limit. */
const MAX_GROUP_DEPTH = 64;
const QUANTIFIER = /\{(\d+)(?:(,)(\d*))?\}/y;

export function parsePattern(source: string): PatternNode {
  return new Parser(source).parse();
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly src: string) {}

  parse(): PatternNode {
    const node = this.disjunction();
    if (this.i < this.src.length) throw this.refuse('has an unbalanced ")"');
    return node;
  }

  private refuse(why: string): PatternRefused {
    return new PatternRefused(`pattern ${quote(this.src)} ${why}`);
  }

  private peek(offset = 0): string {
    return this.src.charAt(this.i + offset);
  }

  private disjunction(): PatternNode {
    const options = [this.alternative()];
    while (this.peek() === '|') {
      this.i++;
      options.push(this.alternative());
    }
    return options.length === 1 ? options[0] : { kind: 'alt', options };
  }

  private alternative(): PatternNode {
    const items: PatternNode[] = [];
    while (this.i < this.src.length && this.peek() !== '|' && this.peek() !== ')') items.push(this.term());
    return items.length === 1 ? items[0] : { kind: 'seq', items };
  }

  private term(): PatternNode {
    const assertion = this.assertion();
    return assertion ?? this.quantified(this.atom());
  }

  private assertion(): PatternNode | undefined {
    const c = this.peek();
    const at: Assertion | undefined =
      c === '^' ? 'start' : c === '$' ? 'end' : c === '\\' && this.peek(1) === 'b' ? 'wordBoundary' : c === '\\' && this.peek(1) === 'B' ? 'notWordBoundary' : undefined;
    if (at === undefined) return undefined;
    this.i += c === '\\' ? 2 : 1;
    return { kind: 'assert', at };
  }

  private atom(): PatternNode {
    const c = this.peek();
    if (c === '(') return this.group();
    const start = this.i;
    if (c === '[') this.skipClass();
    else if (c === '\\') this.skipEscape();
    else this.i += (this.src.codePointAt(this.i) ?? 0) > 0xffff ? 2 : 1;
    return { kind: 'char', atom: this.src.slice(start, this.i) };
  }

  private group(): PatternNode {
    this.openGroup();
    if (++this.depth > MAX_GROUP_DEPTH) throw this.refuse(`nests groups deeper than ${MAX_GROUP_DEPTH} levels`);
    const inner = this.disjunction();
    if (this.peek() !== ')') throw this.refuse('has an unclosed "("');
    this.i++;
    this.depth--;
    return inner;
  }

  /** Steps over `(`, `(?:` or `(?<name>`; lookaround is refused because it needs backtracking or a second pass. */
  private openGroup(): void {
    const rest = this.src.slice(this.i, this.i + 4);
    if (rest.startsWith('(?=') || rest.startsWith('(?!')) throw this.refuse('uses a lookahead ((?= or (?!), which the linear-time matcher for schema patterns does not run');
    if (rest.startsWith('(?<=') || rest.startsWith('(?<!')) throw this.refuse('uses a lookbehind ((?<= or (?<!), which the linear-time matcher for schema patterns does not run');
    if (rest.startsWith('(?:')) this.i += 3;
    else if (rest.startsWith('(?<')) this.skipGroupName();
    else if (rest.startsWith('(?')) throw this.refuse('uses a group kind this pack does not support');
    else this.i++;
  }

  private skipGroupName(): void {
    const close = this.src.indexOf('>', this.i);
    if (close < 0) throw this.refuse('has an unclosed group name');
    this.i = close + 1;
  }

  /** In `u` mode a class has no nested classes, so it ends at the first unescaped `]`. */
  private skipClass(): void {
    this.i++;
    while (this.i < this.src.length && this.peek() !== ']') this.i += this.peek() === '\\' ? 2 : 1;
    if (this.i >= this.src.length) throw this.refuse('has an unclosed "["');
    this.i++;
  }

  private skipEscape(): void {
    const c = this.peek(1);
    if (/[1-9]/.test(c) || c === 'k') throw this.refuse('uses a backreference (\\1 or \\k<name>), which the linear-time matcher for schema patterns cannot run: they need backtracking');
    if ((c === 'u' && this.peek(2) === '{') || c === 'p' || c === 'P') {
      const close = this.src.indexOf('}', this.i);
      if (close < 0) throw this.refuse('has an unclosed "{"');
      this.i = close + 1;
    } else if (c === 'u') {
      this.i += this.isSurrogatePairEscape() ? 12 : 6;
    } else {
      this.i += c === 'x' ? 4 : c === 'c' ? 3 : 2;
    }
  }

  /** `\uD83D\uDE00` is one code point in `u` mode. */
  private isSurrogatePairEscape(): boolean {
    const lead = /^\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}/;
    return lead.test(this.src.slice(this.i, this.i + 12));
  }

  private quantified(body: PatternNode): PatternNode {
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === '*' || c === '+' || c === '?') {
      this.i++;
      [min, max] = c === '*' ? [0, Infinity] : c === '+' ? [1, Infinity] : [0, 1];
    } else if (c === '{') {
      QUANTIFIER.lastIndex = this.i;
      const m = QUANTIFIER.exec(this.src);
      if (!m) throw this.refuse('has a "{" that is not a repetition count');
      this.i = QUANTIFIER.lastIndex;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] ? Number(m[3]) : Infinity;
    } else {
      return body;
    }
    // A lazy quantifier matches the same strings; only which match is reported differs, and test() needs none.
    if (this.peek() === '?') this.i++;
    return { kind: 'repeat', body, min, max };
  }
}
