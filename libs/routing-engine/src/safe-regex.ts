/**
 * A linear-time regular-expression matcher for the RE2 syntax subset that routing rules accept
 * (TextPattern.regex in interaction_router.proto).
 *
 * Why our own matcher instead of `RegExp` with length/complexity limits: JavaScript's backtracking
 * engine is exponential on innocent-looking patterns such as `(a+)+$` or `(x|x)*y`, and no static
 * "complexity score" catches every such shape. A Thompson NFA simulated as a lazily built DFA (the
 * RE2 technique) runs in O(text × pattern) in the worst case and O(text) in the usual one, whatever
 * the pattern. The price is the features that need backtracking: backreferences, lookaround and
 * atomic groups are refused with a validation message, as RE2 does.
 *
 * Why not re2js (the maintained pure-JS RE2 port): it has no bound on the compiled program, so a short
 * pattern of large repeats (nineteen `[a-y ]{1000}`) is accepted and then costs about a second per 2 KB of
 * body once its DFA cache overflows. It also compiles about 3× slower, and matches at about the same speed.
 * `bench/routing-engine/rule-regex.bench.ts` measures both engines in one run, and the routing-engine
 * README has the figures. This file is one engine (parser, compiler, lazy DFA), hence its size.
 *
 * Matching is unanchored ("finds a match anywhere") and case-insensitive, over UTF-16 code units.
 * Supported: literals and escapes, `.`, classes `[a-z]`/`[^…]` with `\d\w\s` and POSIX `[:alpha:]`
 * items, `\d \D \w \W \s \S`, anchors `^ $ \A \z \b \B`, groups `(…)`, `(?:…)`, `(?P<n>…)`,
 * `(?<n>…)`, flags `(?imsU)` and `(?imsU:…)`, alternation, and the quantifiers `* + ? {n} {n,}
 * {n,m}` (greedy or lazy; laziness does not change whether a match exists).
 */

/** Limits, matching RE2's where RE2 has one. */
export const safeRegexLimits = {
  /** Longest pattern accepted (TextPattern.regex: 1-512 characters). */
  maxPatternLength: 512,
  /** Largest repetition count in `{n,m}` (RE2: 1000). */
  maxRepeat: 1000,
  /** Largest compiled program; bounds memory and the per-character cost. */
  maxProgramSize: 10_000,
  /** DFA states cached before the cache is flushed; bounds memory, not correctness. */
  maxCachedStates: 2_000,
} as const;

/** A compiled pattern. `test` never throws and runs in time linear in the text's length. */
export interface SafeRegex {
  readonly source: string;
  test(text: string): boolean;
}

/** Why a pattern was refused, with the 0-based offset in the pattern where it was noticed. */
export interface SafeRegexSyntaxError {
  message: string;
  offset: number;
}

export type SafeRegexCompileResult = { ok: true; regex: SafeRegex } | ({ ok: false } & SafeRegexSyntaxError);

/** Compiles a pattern, or says why it is refused. Never throws. */
export function compileSafeRegex(source: string): SafeRegexCompileResult {
  if (source.length === 0) return { ok: false, message: 'the pattern is empty', offset: 0 };
  if (source.length > safeRegexLimits.maxPatternLength) {
    return {
      ok: false,
      message: `the pattern is longer than ${safeRegexLimits.maxPatternLength} characters`,
      offset: safeRegexLimits.maxPatternLength,
    };
  }
  try {
    const ast = new Parser(source).parse();
    if (programSize(ast) > safeRegexLimits.maxProgramSize) {
      throw new PatternError('the pattern is too complex (its repetitions expand beyond the size limit)', 0);
    }
    const program = compile(ast);
    return { ok: true, regex: new LazyDfaMatcher(source, program) };
  } catch (error) {
    if (error instanceof PatternError) return { ok: false, message: error.message, offset: error.offset };
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Syntax tree

type AssertKind = 'begin-text' | 'end-text' | 'begin-line' | 'end-line' | 'word-boundary' | 'not-word-boundary';

/** A set of UTF-16 code units as sorted, non-overlapping inclusive ranges [lo, hi, lo, hi, …]. */
type Ranges = readonly number[];

type Node =
  | { kind: 'empty' }
  | { kind: 'set'; ranges: Ranges; negated: boolean }
  | { kind: 'literal'; code: number }
  | { kind: 'any'; dotAll: boolean }
  | { kind: 'assert'; assert: AssertKind }
  | { kind: 'concat'; items: Node[] }
  | { kind: 'alternate'; items: Node[] }
  | { kind: 'repeat'; item: Node; min: number; max: number };

class PatternError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const code = (char: string): number => char.charCodeAt(0);
const DIGIT: Ranges = [0x30, 0x39];
const WORD: Ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
const SPACE: Ranges = [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20];
const POSIX: Record<string, Ranges> = {
  alnum: [0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a],
  alpha: [0x41, 0x5a, 0x61, 0x7a],
  ascii: [0x00, 0x7f],
  blank: [0x09, 0x09, 0x20, 0x20],
  cntrl: [0x00, 0x1f, 0x7f, 0x7f],
  digit: DIGIT,
  graph: [0x21, 0x7e],
  lower: [0x61, 0x7a],
  print: [0x20, 0x7e],
  punct: [0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e],
  space: [0x09, 0x0d, 0x20, 0x20],
  upper: [0x41, 0x5a],
  word: WORD,
  xdigit: [0x30, 0x39, 0x41, 0x46, 0x61, 0x66],
};
const SIMPLE_ESCAPES: Record<string, number> = { a: 0x07, f: 0x0c, t: 0x09, n: 0x0a, r: 0x0d, v: 0x0b, '0': 0x00 };

function normalizeRanges(input: readonly number[]): Ranges {
  const pairs: [number, number][] = [];
  for (let i = 0; i + 1 < input.length; i += 2) pairs.push([input[i] as number, input[i + 1] as number]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    const last = out.length - 1;
    if (last > 0 && lo <= (out[last] as number) + 1) out[last] = Math.max(out[last] as number, hi);
    else out.push(lo, hi);
  }
  return out;
}

function complement(ranges: Ranges): Ranges {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    const lo = ranges[i] as number;
    if (lo > next) out.push(next, lo - 1);
    next = (ranges[i + 1] as number) + 1;
  }
  if (next <= 0xffff) out.push(next, 0xffff);
  return out;
}

interface Flags {
  dotAll: boolean;
  multiline: boolean;
}

class Parser {
  private pos = 0;
  private flags: Flags = { dotAll: false, multiline: false };
  private depth = 0;

  constructor(private readonly src: string) {}

  parse(): Node {
    const node = this.parseAlternation();
    if (this.pos < this.src.length) throw new PatternError("unmatched ')'", this.pos);
    return node;
  }

  private fail(message: string, offset = this.pos): never {
    throw new PatternError(message, offset);
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  private parseAlternation(): Node {
    const items = [this.parseConcatenation()];
    while (this.peek() === '|') {
      this.pos++;
      items.push(this.parseConcatenation());
    }
    return items.length === 1 ? (items[0] as Node) : { kind: 'alternate', items };
  }

  private parseConcatenation(): Node {
    const items: Node[] = [];
    while (this.pos < this.src.length) {
      const char = this.peek();
      if (char === '|' || char === ')') break;
      const atomStart = this.pos;
      const atom = this.parseAtom();
      if (atom === undefined) continue; // a flag group such as (?i) changes state, adds nothing
      items.push(this.parseQuantifiers(atom, atomStart));
    }
    if (items.length === 0) return { kind: 'empty' };
    return items.length === 1 ? (items[0] as Node) : { kind: 'concat', items };
  }

  private parseQuantifiers(atom: Node, atomStart: number): Node {
    const quantifier = this.tryParseQuantifier();
    if (!quantifier) return atom;
    if (atom.kind === 'assert' || atom.kind === 'empty') this.fail('nothing to repeat', atomStart);
    if (this.peek() === '?')
      this.pos++; // lazy: same matches, same answer
    else if (this.peek() === '+') this.fail('possessive quantifiers are not supported', this.pos);
    const at = this.pos;
    if (this.tryParseQuantifier()) this.fail('a quantifier cannot follow another quantifier', at);
    return { kind: 'repeat', item: atom, min: quantifier[0], max: quantifier[1] };
  }

  /** `*`, `+`, `?` or a count at pos, consumed; undefined (pos unchanged) when there is none. */
  private tryParseQuantifier(): [number, number] | undefined {
    const char = this.peek();
    if (char === '{') return this.tryParseCount(); // not a count: a literal '{', as in RE2
    const bounds: Record<string, [number, number]> = { '*': [0, Infinity], '+': [1, Infinity], '?': [0, 1] };
    const found = char === undefined ? undefined : bounds[char];
    if (found) this.pos++;
    return found;
  }

  /** `{n}`, `{n,}` or `{n,m}` at pos; undefined (pos unchanged) when it is not a count. */
  private tryParseCount(): [number, number] | undefined {
    const match = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos, this.pos + 16));
    if (!match) return undefined;
    const min = Number(match[1]);
    const max = match[2] === undefined ? min : match[3] === '' ? Infinity : Number(match[3]);
    if (min > safeRegexLimits.maxRepeat || (max !== Infinity && max > safeRegexLimits.maxRepeat)) {
      this.fail(`a repetition count is above ${safeRegexLimits.maxRepeat}`);
    }
    if (max < min) this.fail('a repetition range has its maximum below its minimum');
    this.pos += match[0].length;
    return [min, max];
  }

  private parseAtom(): Node | undefined {
    const start = this.pos;
    const char = this.src[this.pos++] as string;
    switch (char) {
      case '(':
        return this.parseGroup(start);
      case '[':
        return this.parseClass(start);
      case '.':
        return { kind: 'any', dotAll: this.flags.dotAll };
      case '^':
        return { kind: 'assert', assert: this.flags.multiline ? 'begin-line' : 'begin-text' };
      case '$':
        return { kind: 'assert', assert: this.flags.multiline ? 'end-line' : 'end-text' };
      case '\\':
        return this.parseEscape(start, false);
      case '*':
      case '+':
      case '?':
        return this.fail('nothing to repeat', start);
      default:
        return { kind: 'literal', code: code(char) };
    }
  }

  private parseGroup(start: number): Node | undefined {
    if (++this.depth > 100) this.fail('groups are nested too deeply', start);
    const saved = { ...this.flags };
    if (this.peek() === '?') {
      const rest = this.src.slice(this.pos + 1);
      if (/^(=|!|<=|<!)/.test(rest)) this.fail('lookahead and lookbehind are not supported (RE2 syntax)', start);
      if (rest.startsWith('>')) this.fail('atomic groups are not supported (RE2 syntax)', start);
      const named = /^(P?<)([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
      if (named) {
        this.pos += 1 + named[0].length;
      } else {
        const flagGroup = /^(-?[imsU]+|[imsU]+-[imsU]*)(:|\))/.exec(rest) ?? /^()(:)/.exec(rest);
        if (!flagGroup) this.fail('unknown group syntax after (?', start);
        this.pos += 1 + flagGroup[0].length;
        const flags = this.applyFlags(flagGroup[1] ?? '', start);
        if (flagGroup[2] === ')') {
          // (?s) applies to the rest of the enclosing group.
          this.flags = flags;
          this.depth--;
          return undefined;
        }
        this.flags = flags;
      }
    }
    const inner = this.parseAlternation();
    if (this.peek() !== ')') this.fail("missing ')'", start);
    this.pos++;
    this.flags = saved;
    this.depth--;
    return inner;
  }

  private applyFlags(spec: string, start: number): Flags {
    const flags = { ...this.flags };
    let on = true;
    for (const flag of spec) {
      if (flag === '-') {
        if (!on) this.fail('bad flag syntax', start);
        on = false;
      } else if (flag === 's') flags.dotAll = on;
      else if (flag === 'm') flags.multiline = on;
      // 'i': matching is always case-insensitive; 'U': greediness does not change whether a match exists.
    }
    return flags;
  }

  private parseEscape(start: number, inClass: boolean): Node {
    const char = this.src[this.pos++];
    if (char === undefined) this.fail('the pattern ends with a lone backslash', start);
    if (/[1-9]/.test(char) || char === 'k' || char === 'g') {
      this.fail('backreferences are not supported (RE2 syntax runs in linear time)', start);
    }
    if (char === 'p' || char === 'P') this.fail('Unicode classes (\\p) are not supported; use explicit ranges', start);
    if (char === 'Q' || char === 'E' || char === 'C' || char === 'X' || char === 'R')
      this.fail(`\\${char} is not supported`, start);
    const simple = SIMPLE_ESCAPES[char];
    if (simple !== undefined) return { kind: 'literal', code: simple };
    switch (char) {
      case 'd':
        return { kind: 'set', ranges: DIGIT, negated: false };
      case 'D':
        return { kind: 'set', ranges: DIGIT, negated: true };
      case 'w':
        return { kind: 'set', ranges: WORD, negated: false };
      case 'W':
        return { kind: 'set', ranges: WORD, negated: true };
      case 's':
        return { kind: 'set', ranges: SPACE, negated: false };
      case 'S':
        return { kind: 'set', ranges: SPACE, negated: true };
      case 'x':
        return { kind: 'literal', code: this.parseHex(start) };
    }
    if (!inClass) {
      if (char === 'b') return { kind: 'assert', assert: 'word-boundary' };
      if (char === 'B') return { kind: 'assert', assert: 'not-word-boundary' };
      if (char === 'A') return { kind: 'assert', assert: 'begin-text' };
      if (char === 'z') return { kind: 'assert', assert: 'end-text' };
    }
    if (/[A-Za-z0-9]/.test(char)) this.fail(`unknown escape \\${char}`, start);
    return { kind: 'literal', code: code(char) };
  }

  private parseHex(start: number): number {
    const braced = /^\{([0-9A-Fa-f]{1,4})\}/.exec(this.src.slice(this.pos, this.pos + 7));
    const plain = /^[0-9A-Fa-f]{2}/.exec(this.src.slice(this.pos, this.pos + 2));
    const match = braced ?? plain;
    if (!match) this.fail('bad \\x escape (use \\xHH or \\x{HHHH} up to FFFF)', start);
    this.pos += match[0].length;
    return parseInt(braced ? (braced[1] as string) : match[0], 16);
  }

  private parseClass(start: number): Node {
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.pos++;
    }
    const ranges: number[] = [];
    let first = true;
    for (;;) {
      const char = this.peek();
      if (char === undefined) this.fail("missing ']'", start);
      if (char === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (char === '[' && this.peek(1) === ':') {
        const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos, this.pos + 12));
        const set = posix ? POSIX[posix[2] as string] : undefined;
        if (!posix || !set) this.fail('unknown POSIX class', this.pos);
        ranges.push(...(posix[1] ? complement(set) : set));
        this.pos += posix[0].length;
        continue;
      }
      const lo = this.parseClassItem(start);
      if (typeof lo !== 'number') {
        ranges.push(...lo);
        continue;
      }
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.pos++;
        const hi = this.parseClassItem(start);
        if (typeof hi !== 'number') this.fail('a class range ends with a class such as \\d', this.pos);
        if (hi < lo) this.fail('a class range is reversed', this.pos);
        ranges.push(lo, hi);
      } else ranges.push(lo, lo);
    }
    return { kind: 'set', ranges: normalizeRanges(ranges), negated };
  }

  /** One class member: a code unit, or the ranges of an escape such as \d. */
  private parseClassItem(start: number): number | Ranges {
    const char = this.src[this.pos++] as string;
    if (char !== '\\') return code(char);
    const escape = this.parseEscape(start, true);
    if (escape.kind === 'literal') return escape.code;
    if (escape.kind === 'set') return escape.negated ? complement(escape.ranges) : escape.ranges;
    return this.fail('unsupported escape in a class', start);
  }
}

/** Instructions a node compiles to, computed without building them. */
function programSize(node: Node): number {
  switch (node.kind) {
    case 'empty':
      return 0;
    case 'set':
    case 'literal':
    case 'any':
    case 'assert':
      return 1;
    case 'concat':
      return node.items.reduce((sum, item) => sum + programSize(item), 0);
    case 'alternate':
      return node.items.reduce((sum, item) => sum + programSize(item) + 1, 0);
    case 'repeat': {
      const copies = node.max === Infinity ? Math.max(node.min, 1) : node.max;
      return (programSize(node.item) + 1) * copies;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Program (Thompson NFA)

const OP_CHAR = 0;
const OP_SPLIT = 1;
const OP_ASSERT = 2;
const OP_MATCH = 3;

type Instruction =
  | { op: typeof OP_CHAR; test: (unit: number) => boolean; next: number }
  | { op: typeof OP_SPLIT; x: number; y: number }
  | { op: typeof OP_ASSERT; assert: AssertKind; next: number }
  | { op: typeof OP_MATCH };

function inRanges(ranges: Ranges, unit: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) {
    if (unit < (ranges[i] as number)) return false;
    if (unit <= (ranges[i + 1] as number)) return true;
  }
  return false;
}

function caseVariants(unit: number): number[] {
  const char = String.fromCharCode(unit);
  const variants = [unit];
  for (const other of [char.toLowerCase(), char.toUpperCase()]) {
    if (other.length === 1 && other !== char) variants.push(code(other));
  }
  return variants;
}

/** The matcher lower-cases the text, so tests see lower-case units and must accept any case. */
function charTest(node: Extract<Node, { kind: 'set' | 'literal' | 'any' }>): (unit: number) => boolean {
  if (node.kind === 'any') return node.dotAll ? () => true : (unit) => unit !== 0x0a;
  if (node.kind === 'literal') {
    const lowered = String.fromCharCode(node.code).toLowerCase();
    const target = lowered.length === 1 ? code(lowered) : node.code;
    return (unit) => unit === target;
  }
  const { ranges, negated } = node;
  return (unit) => caseVariants(unit).some((variant) => inRanges(ranges, variant)) !== negated;
}

function compile(ast: Node): Instruction[] {
  const program: Instruction[] = [{ op: OP_MATCH }];
  const add = (instruction: Instruction): number => program.push(instruction) - 1;

  /** Emits `node` followed by the instruction at `next`; returns the node's entry. */
  const emit = (node: Node, next: number): number => {
    switch (node.kind) {
      case 'empty':
        return next;
      case 'set':
      case 'literal':
      case 'any':
        return add({ op: OP_CHAR, test: charTest(node), next });
      case 'assert':
        return add({ op: OP_ASSERT, assert: node.assert, next });
      case 'concat':
        return node.items.reduceRight((continuation, item) => emit(item, continuation), next);
      case 'alternate':
        return node.items
          .slice(0, -1)
          .reduceRight(
            (rest, item) => add({ op: OP_SPLIT, x: emit(item, next), y: rest }),
            emit(node.items.at(-1) as Node, next),
          );
      case 'repeat': {
        let entry = next;
        if (node.max === Infinity) {
          const loop = add({ op: OP_SPLIT, x: -1, y: next });
          const body = emit(node.item, loop);
          (program[loop] as { x: number }).x = body;
          entry = node.min === 0 ? loop : body;
        } else {
          for (let i = node.min; i < node.max; i++) entry = add({ op: OP_SPLIT, x: emit(node.item, entry), y: next });
        }
        const mandatory = node.max === Infinity ? Math.max(node.min - 1, 0) : node.min;
        for (let i = 0; i < mandatory; i++) entry = emit(node.item, entry);
        return entry;
      }
    }
  };

  const start = emit(ast, 0);
  // The last instruction is the entry, so the matcher finds it without a separate field.
  program.push({ op: OP_SPLIT, x: start, y: start });
  return program;
}

// ---------------------------------------------------------------------------------------------
// Lazy DFA simulation

const PREV_START = 0;
const PREV_WORD = 1;
const PREV_NEWLINE = 2;
const PREV_OTHER = 3;
const EOF = -1;

const isWordUnit = (unit: number): boolean =>
  (unit >= 0x30 && unit <= 0x39) || (unit >= 0x61 && unit <= 0x7a) || (unit >= 0x41 && unit <= 0x5a) || unit === 0x5f;
const classOf = (unit: number): number => (isWordUnit(unit) ? PREV_WORD : unit === 0x0a ? PREV_NEWLINE : PREV_OTHER);

/**
 * A DFA state: the NFA threads alive after consuming a character (before their epsilon closure,
 * which depends on the next character because of `$` and `\b`) and the class of that character.
 */
interface DfaState {
  readonly threads: Int32Array;
  readonly prev: number;
  readonly ascii: (DfaState | typeof MATCHED | undefined)[];
  readonly other: Map<number, DfaState | typeof MATCHED>;
  atEnd?: boolean;
}

const MATCHED = 'matched' as const;

class LazyDfaMatcher implements SafeRegex {
  private readonly entry: number;
  private states = new Map<string, DfaState>();
  private readonly start: DfaState;
  private readonly seen: Int32Array;
  private stamp = 0;

  constructor(
    readonly source: string,
    private readonly program: readonly Instruction[],
  ) {
    this.entry = program.length - 1;
    this.seen = new Int32Array(program.length);
    this.start = this.state(Int32Array.of(this.entry), PREV_START);
  }

  test(text: string): boolean {
    const lowered = text.toLowerCase();
    let state = this.start;
    for (let i = 0; i < lowered.length; i++) {
      const unit = lowered.charCodeAt(i);
      let next = unit < 128 ? state.ascii[unit] : state.other.get(unit);
      if (next === undefined) {
        next = this.step(state, unit);
        if (unit < 128) state.ascii[unit] = next;
        else state.other.set(unit, next);
      }
      if (next === MATCHED) return true;
      state = next;
    }
    state.atEnd ??= this.closure(state, EOF, undefined);
    return state.atEnd;
  }

  private state(threads: Int32Array, prev: number): DfaState {
    const key = `${prev}:${threads.join(',')}`;
    let state = this.states.get(key);
    if (!state) {
      // Flushing only costs recomputation: the matcher stays linear, memory stays bounded.
      if (this.states.size >= safeRegexLimits.maxCachedStates) this.states = new Map();
      state = { threads, prev, ascii: new Array(128), other: new Map() };
      this.states.set(key, state);
    }
    return state;
  }

  private step(state: DfaState, unit: number): DfaState | typeof MATCHED {
    const consuming: number[] = [];
    if (this.closure(state, unit, consuming)) return MATCHED;
    const next = new Set<number>();
    for (const pc of consuming) {
      const instruction = this.program[pc] as Extract<Instruction, { op: typeof OP_CHAR }>;
      if (instruction.test(unit)) next.add(instruction.next);
    }
    next.add(this.entry); // unanchored: a match may start at every position
    return this.state(Int32Array.from([...next].sort((a, b) => a - b)), classOf(unit));
  }

  /** Follows epsilon edges from the state's threads; true when MATCH is reached. */
  private closure(state: DfaState, nextUnit: number, consuming: number[] | undefined): boolean {
    const stamp = ++this.stamp;
    const stack = Array.from(state.threads);
    while (stack.length > 0) {
      const pc = stack.pop() as number;
      if (this.seen[pc] === stamp) continue;
      this.seen[pc] = stamp;
      const instruction = this.program[pc] as Instruction;
      switch (instruction.op) {
        case OP_MATCH:
          return true;
        case OP_CHAR:
          consuming?.push(pc);
          break;
        case OP_SPLIT:
          stack.push(instruction.y, instruction.x);
          break;
        case OP_ASSERT:
          if (assertionHolds(instruction.assert, state.prev, nextUnit)) stack.push(instruction.next);
          break;
      }
    }
    return false;
  }
}

function assertionHolds(kind: AssertKind, prev: number, nextUnit: number): boolean {
  switch (kind) {
    case 'begin-text':
      return prev === PREV_START;
    case 'begin-line':
      return prev === PREV_START || prev === PREV_NEWLINE;
    case 'end-text':
      return nextUnit === EOF;
    case 'end-line':
      return nextUnit === EOF || nextUnit === 0x0a;
    case 'word-boundary':
    case 'not-word-boundary': {
      const boundary = (prev === PREV_WORD) !== (nextUnit !== EOF && isWordUnit(nextUnit));
      return kind === 'word-boundary' ? boundary : !boundary;
    }
  }
}
