/**
 * A small OData `$filter` parser for the message properties Outlook filters on: comparisons
 * (`eq ne gt ge lt le`) of a property path with a literal, joined by `and` / `or`, `not`, and parentheses.
 * Literals: 'strings' ('' escapes a quote), unquoted ISO-8601 date-times, numbers, true, false, null.
 */
export type FilterLiteral = string | number | boolean | null | { dateTime: number };

export type FilterNode =
  | { kind: 'compare'; path: string; op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; value: FilterLiteral }
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; operand: FilterNode };

export class FilterSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FilterSyntaxError';
  }
}

type Token = { type: 'ident' | 'string' | 'datetime' | 'number' | 'lparen' | 'rparen'; text: string };

const dateTimePattern = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?/;

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const char = input[i] as string;
    if (/\s/.test(char)) {
      i += 1;
    } else if (char === '(' || char === ')') {
      tokens.push({ type: char === '(' ? 'lparen' : 'rparen', text: char });
      i += 1;
    } else if (char === "'") {
      let value = '';
      i += 1;
      for (;;) {
        if (i >= input.length) throw new FilterSyntaxError('unterminated string literal');
        if (input[i] === "'") {
          if (input[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        value += input[i];
        i += 1;
      }
      tokens.push({ type: 'string', text: value });
    } else {
      const date = dateTimePattern.exec(input.slice(i));
      if (date && /^\d{4}-/.test(date[0])) {
        tokens.push({ type: 'datetime', text: date[0] });
        i += date[0].length;
        continue;
      }
      const number = /^-?\d+(\.\d+)?/.exec(input.slice(i));
      if (number) {
        tokens.push({ type: 'number', text: number[0] });
        i += number[0].length;
        continue;
      }
      const ident = /^[A-Za-z_][A-Za-z0-9_/.]*/.exec(input.slice(i));
      if (!ident) throw new FilterSyntaxError(`unexpected character '${char}' at position ${i}`);
      tokens.push({ type: 'ident', text: ident[0] });
      i += ident[0].length;
    }
  }
  return tokens;
}

const comparisonOperators = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);

/** Parses `$filter`; throws FilterSyntaxError naming the problem. */
export function parseFilter(input: string): FilterNode {
  const tokens = tokenize(input);
  let position = 0;
  const peek = () => tokens[position];
  const keyword = (word: string) => peek()?.type === 'ident' && peek()?.text.toLowerCase() === word;

  const parseOr = (): FilterNode => {
    let left = parseAnd();
    while (keyword('or')) {
      position += 1;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): FilterNode => {
    let left = parseUnary();
    while (keyword('and')) {
      position += 1;
      left = { kind: 'and', left, right: parseUnary() };
    }
    return left;
  };
  const parseUnary = (): FilterNode => {
    if (keyword('not')) {
      position += 1;
      return { kind: 'not', operand: parseUnary() };
    }
    const token = peek();
    if (token?.type === 'lparen') {
      position += 1;
      const inner = parseOr();
      if (peek()?.type !== 'rparen') throw new FilterSyntaxError("expected ')'");
      position += 1;
      return inner;
    }
    if (token?.type !== 'ident')
      throw new FilterSyntaxError(`expected a property name${token ? ` but found '${token.text}'` : ''}`);
    position += 1;
    const op = peek();
    if (op?.type !== 'ident' || !comparisonOperators.has(op.text.toLowerCase())) {
      throw new FilterSyntaxError(`expected a comparison operator after '${token.text}'`);
    }
    position += 1;
    const literal = peek();
    if (!literal) throw new FilterSyntaxError(`expected a value after '${op.text}'`);
    position += 1;
    let value: FilterLiteral;
    switch (literal.type) {
      case 'string':
        value = literal.text;
        break;
      case 'number':
        value = Number(literal.text);
        break;
      case 'datetime': {
        const ms = Date.parse(literal.text);
        if (Number.isNaN(ms)) throw new FilterSyntaxError(`'${literal.text}' is not a valid date-time`);
        value = { dateTime: ms };
        break;
      }
      case 'ident': {
        const word = literal.text.toLowerCase();
        if (word === 'true' || word === 'false') value = word === 'true';
        else if (word === 'null') value = null;
        else throw new FilterSyntaxError(`'${literal.text}' is not a literal`);
        break;
      }
      default:
        throw new FilterSyntaxError(`unexpected '${literal.text}'`);
    }
    return { kind: 'compare', path: token.text, op: op.text.toLowerCase() as 'eq', value };
  };

  if (tokens.length === 0) throw new FilterSyntaxError('empty filter');
  const tree = parseOr();
  if (position < tokens.length) throw new FilterSyntaxError(`unexpected '${tokens[position]?.text}'`);
  return tree;
}

/** Every property path a filter reads (for "unknown property" errors). */
export function filterPaths(node: FilterNode): string[] {
  switch (node.kind) {
    case 'compare':
      return [node.path];
    case 'not':
      return filterPaths(node.operand);
    default:
      return [...filterPaths(node.left), ...filterPaths(node.right)];
  }
}

function compare(actual: unknown, op: string, expected: FilterLiteral): boolean {
  let left: unknown = actual;
  let right: unknown = expected;
  if (typeof expected === 'object' && expected !== null) {
    right = expected.dateTime;
    left = typeof actual === 'string' ? Date.parse(actual) : actual;
  } else if (typeof actual === 'string' && typeof expected === 'string') {
    left = actual.toLowerCase();
    right = expected.toLowerCase();
  }
  switch (op) {
    case 'eq':
      return left === right;
    case 'ne':
      return left !== right;
    case 'gt':
      return (left as number) > (right as number);
    case 'ge':
      return (left as number) >= (right as number);
    case 'lt':
      return (left as number) < (right as number);
    default:
      return (left as number) <= (right as number);
  }
}

/** Evaluates a parsed filter; `read(path)` returns a property's value (date-times as epoch ms or ISO strings). */
export function evaluateFilter(node: FilterNode, read: (path: string) => unknown): boolean {
  switch (node.kind) {
    case 'compare':
      return compare(read(node.path), node.op, node.value);
    case 'not':
      return !evaluateFilter(node.operand, read);
    case 'and':
      return evaluateFilter(node.left, read) && evaluateFilter(node.right, read);
    default:
      return evaluateFilter(node.left, read) || evaluateFilter(node.right, read);
  }
}
