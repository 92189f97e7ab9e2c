import fc from 'fast-check';
import { compileSafeRegex, safeRegexLimits, type SafeRegex } from './safe-regex';

function compiled(pattern: string): SafeRegex {
  const result = compileSafeRegex(pattern);
  if (!result.ok) throw new Error(`${pattern}: ${result.message}`);
  return result.regex;
}

describe('compileSafeRegex', () => {
  it.each([
    ['invoice', 'Your INVOICE is attached', true],
    ['^re:', 'RE: hello', true],
    ['^re:', 'fw: re: hello', false],
    ['\\bstatus\\b', 'order status?', true],
    ['\\bstatus\\b', 'orderstatus', false],
    ['order #?\\d{5,8}$', 'ORDER #1234567', true],
    ['order #?\\d{5,8}$', 'ORDER #1234', false],
    ['[A-Z]{3}-\\d+', 'ticket abc-42', true],
    ['[^a-z]', 'ABC', false],
    ['a.c', 'a\nc', false],
    ['(?s)a.c', 'a\nc', true],
    ['(?m)^end$', 'x\nend\ny', true],
    ['^end$', 'x\nend\ny', false],
    ['(?P<word>foo|bar)baz', 'xxBARBAZ', true],
    ['[[:digit:]]+x', 'a12x', true],
    ['\\x41\\x{42}', 'ab', true],
    ['a{,2}', 'a{,2}', true],
  ])('matches /%s/ against %j: %s', (pattern, text, expected) => {
    expect(compiled(pattern).test(text)).toBe(expected);
  });

  it.each([
    ['(a)\\1', /backreferences/],
    ['(?<name>a)\\k<name>', /backreferences/],
    ['(?=x)y', /lookahead and lookbehind/],
    ['(?<!x)y', /lookahead and lookbehind/],
    ['(?>a)', /atomic groups/],
    ['a++', /possessive/],
    ['a**', /quantifier cannot follow/],
    ['\\p{L}', /Unicode classes/],
    [`a{${safeRegexLimits.maxRepeat + 1}}`, /above 1000/],
    ['((a{1000}){1000})', /too complex/],
    ['[z-a]', /reversed/],
    ['(abc', /missing '\)'/],
    ['abc)', /unmatched '\)'/],
    ['*a', /nothing to repeat/],
    ['\\q', /unknown escape/],
    ['', /empty/],
    ['a'.repeat(513), /longer than 512/],
  ])('refuses %j with a clear message', (pattern, message) => {
    const result = compileSafeRegex(pattern);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it('runs the classic ReDoS patterns in linear time where RegExp backtracks exponentially', () => {
    const text = `${'a'.repeat(100_000)}!`;
    for (const pattern of ['(a+)+$', '(a|a)*b', '(a|aa)+$', '(.*a){12}$', '^(a?){25}a{25}$']) {
      const started = performance.now();
      expect(compiled(pattern).test(text)).toBe(false);
      expect(performance.now() - started).toBeLessThan(2000);
    }
  });

  it('agrees with RegExp (case-insensitive) on patterns both support', () => {
    const atom = fc.oneof(
      fc.constantFrom('a', 'b', 'A', '-', ' ', '.', '\\d', '\\w', '\\s', '[ab]', '[^a]', '[a-c]', '\\b', '^', '$', '1'),
    );
    const pattern: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        atom,
        fc.tuple(tie('node'), tie('node')).map(([a, b]) => a + b),
        fc.tuple(tie('node'), tie('node')).map(([a, b]) => `(${a}|${b})`),
        fc.tuple(tie('node'), fc.constantFrom('*', '+', '?', '{2}', '{1,3}', '*?')).map(([a, q]) => `(?:${a})${q}`),
      ),
    })).node;
    const text = fc.stringMatching(/^[abA1 \n-]{0,12}$/);
    fc.assert(
      fc.property(pattern, text, (source, input) => {
        const ours = compileSafeRegex(source);
        if (!ours.ok) return; // e.g. a quantified anchor: refused, fine
        expect(ours.regex.test(input)).toBe(new RegExp(source, 'i').test(input));
      }),
      { numRuns: 1500 },
    );
  });
});
