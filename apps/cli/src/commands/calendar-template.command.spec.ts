import { commands } from '../cli';
import { parseCommandLine } from '../command';
import { UsageError } from '../errors';
import { parseExceptions, parseHolidays, parseWeeklyHours } from './calendar.command';
import { formatSignatureRule, parseSignatureRule } from './signature.command';
import { parseTemplateValues } from './template.command';

describe('calendar command values', () => {
  it('reads weekly hours with day ranges and several time ranges, later values replacing earlier ones', () => {
    expect(parseWeeklyHours(['mon-fri 09:00-12:00,13:00-17:00', 'fri 09:00-15:00', 'sun 10:00-14:00'])).toEqual([
      {
        weekday: 1,
        ranges: [
          { start: '09:00', end: '12:00' },
          { start: '13:00', end: '17:00' },
        ],
      },
      {
        weekday: 2,
        ranges: [
          { start: '09:00', end: '12:00' },
          { start: '13:00', end: '17:00' },
        ],
      },
      {
        weekday: 3,
        ranges: [
          { start: '09:00', end: '12:00' },
          { start: '13:00', end: '17:00' },
        ],
      },
      {
        weekday: 4,
        ranges: [
          { start: '09:00', end: '12:00' },
          { start: '13:00', end: '17:00' },
        ],
      },
      { weekday: 5, ranges: [{ start: '09:00', end: '15:00' }] },
      { weekday: 7, ranges: [{ start: '10:00', end: '14:00' }] },
    ]);
    expect(() => parseWeeklyHours(['fri-mon 09:00-17:00'])).toThrow(
      new UsageError('--hours: fri-mon runs backwards (weeks start on Monday)'),
    );
    expect(() => parseWeeklyHours(['mon 9-17'])).toThrow(UsageError);
    expect(() => parseWeeklyHours(['monday 09:00-17:00'])).toThrow(/is not a weekday/);
  });

  it('reads holidays with optional ranges and names, and exceptions with hours or closed', () => {
    expect(parseHolidays(['2026-12-24..2026-12-26=Christmas', '2026-10-03'])).toEqual([
      { name: 'Christmas', startDate: '2026-12-24', endDate: '2026-12-26' },
      { name: '', startDate: '2026-10-03', endDate: '' },
    ]);
    expect(() => parseHolidays(['24.12.2026'])).toThrow(UsageError);
    expect(parseExceptions(['2026-12-31 09:00-12:00', '2026-12-30 closed'])).toEqual([
      { date: '2026-12-31', ranges: [{ start: '09:00', end: '12:00' }], note: '' },
      { date: '2026-12-30', ranges: [], note: '' },
    ]);
    expect(() => parseExceptions(['2026-12-31'])).toThrow(UsageError);
  });

  it('parses the calendar and queue hours command lines', () => {
    const parsed = parseCommandLine(
      ['calendar', 'create', 'office', '--name', 'Office', '--time-zone', 'Europe/Berlin', '--hours', 'mon-fri 09:00-17:00'],
      commands,
    );
    expect(parsed.command?.path).toEqual(['calendar', 'create']);
    expect(parsed.values).toMatchObject({ hours: ['mon-fri 09:00-17:00'], 'time-zone': 'Europe/Berlin' });
    expect(
      parseCommandLine(
        ['queue', 'hours', 'support', '--calendar', 'office', '--when-closed', 'overflow', '--overflow-queue', 'night'],
        commands,
      ).command?.path,
    ).toEqual(['queue', 'hours']);
  });
});

describe('template command values', () => {
  it('reads name=value pairs, values may contain =, and refuses a pair without a name', () => {
    expect(parseTemplateValues(['customer_name=Ann Lee', 'subject=a=b'])).toEqual({ customer_name: 'Ann Lee', subject: 'a=b' });
    expect(() => parseTemplateValues(['=x'])).toThrow(UsageError);
    expect(parseCommandLine(['template', 'create', 'greet', '--name', 'Greet', '--text', 'Hi'], commands).command?.path).toEqual([
      'template',
      'create',
    ]);
  });
});

describe('signature rule command values', () => {
  it('reads one part per argument, sources separated by | or comma, and shows the rule the same way', () => {
    const rule = parseSignatureRule(['agent', 'queue|mailbox']);
    expect(rule.parts).toEqual([{ sources: [1] }, { sources: [2, 3] }]);
    expect(formatSignatureRule(rule)).toBe('agent, then queue|mailbox');
    expect(parseSignatureRule(['mailbox,agent']).parts).toEqual([{ sources: [3, 1] }]);
    expect(formatSignatureRule(parseSignatureRule([]))).toBe('no signatures');
    expect(() => parseSignatureRule(['robot'])).toThrow(UsageError);
  });
});
