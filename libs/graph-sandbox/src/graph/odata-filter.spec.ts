import { evaluateFilter, FilterSyntaxError, parseFilter } from './odata-filter';

describe('parseFilter', () => {
  const message = { receivedDateTime: '2026-03-01T10:00:00Z', isRead: false, subject: "O'Brien's order", importance: 'high' };
  const read = (path: string) => (message as Record<string, unknown>)[path];

  it('parses a received-time comparison with an unquoted date-time', () => {
    expect(parseFilter('receivedDateTime ge 2026-03-01T00:00:00Z')).toEqual({
      kind: 'compare',
      path: 'receivedDateTime',
      op: 'ge',
      value: { dateTime: Date.parse('2026-03-01T00:00:00Z') },
    });
  });

  it('evaluates and/or/not with parentheses and the usual precedence', () => {
    expect(evaluateFilter(parseFilter('receivedDateTime gt 2026-02-01T00:00:00Z and isRead eq false'), read)).toBe(true);
    expect(evaluateFilter(parseFilter("isRead eq true or importance eq 'high' and isRead eq false"), read)).toBe(true);
    expect(evaluateFilter(parseFilter('not (isRead eq false)'), read)).toBe(false);
    expect(evaluateFilter(parseFilter('receivedDateTime lt 2026-03-01T10:00:00Z'), read)).toBe(false);
  });

  it("unescapes '' inside string literals and compares strings case-insensitively", () => {
    expect(evaluateFilter(parseFilter("subject eq 'o''brien''s ORDER'"), read)).toBe(true);
  });

  it.each([
    '',
    'receivedDateTime',
    'isRead eq',
    'isRead equals true',
    "subject eq 'open",
    '(isRead eq true',
    'isRead eq true extra',
  ])('rejects %j', (input) => {
    expect(() => parseFilter(input)).toThrow(FilterSyntaxError);
  });
});
