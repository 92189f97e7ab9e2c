import { Calendar } from '@mailroute/contracts';
import { calendarOf, describeCalendarField, draftOf, invalidRangeOf, stillInvalid, summarizeWeek } from './calendar-draft';

const stored = Calendar.fromPartial({
  calendarId: 'berlin',
  displayName: 'Berlin',
  timeZone: 'Europe/Berlin',
  weeklyHours: [
    { weekday: 3, ranges: [{ start: '09:00', end: '17:00' }] },
    {
      weekday: 1,
      ranges: [
        { start: '09:00', end: '12:00' },
        { start: '13:00', end: '17:00' },
      ],
    },
    { weekday: 2, ranges: [{ start: '09:00', end: '17:00' }] },
    { weekday: 6, ranges: [{ start: '10:00', end: '14:00' }] },
  ],
  exceptions: [{ date: '2027-12-31', ranges: [], note: 'closed' }],
  etag: 'e1',
});

describe('the calendar editor draft', () => {
  it('groups consecutive weekdays with the same hours in the summary, whatever order the API listed them in', () => {
    expect(summarizeWeek(stored)).toBe('Mon 09:00–12:00, 13:00–17:00 · Tue–Wed 09:00–17:00 · Sat 10:00–14:00');
    expect(summarizeWeek(Calendar.fromPartial({}))).toBe('Closed every day');
  });

  it('sends open weekdays in order and a closed-all-day exception without ranges', () => {
    const draft = draftOf(stored);
    draft.exceptions.push({ date: '2028-01-02', closed: true, ranges: [{ start: '09:00', end: '10:00' }], note: '' });
    const calendar = calendarOf(draft);
    expect(calendar.weeklyHours.map((day) => day.weekday)).toEqual([1, 2, 3, 6]);
    expect(calendar.exceptions.map((e) => e.ranges)).toEqual([[], []]);
  });

  it("says where a refused field is in the form's words, counting only the weekdays the request listed", () => {
    const draft = draftOf(stored);
    // weekly_hours[3] of the request is Saturday (Monday, Tuesday, Wednesday, Saturday were sent).
    const message = 'calendar.weekly_hours[3].ranges[0].end: must be after start';
    expect(describeCalendarField(message, draft)).toBe('Saturday, range 1, closing time');
    expect(invalidRangeOf(message, draft)).toEqual({ day: 5, range: 0, part: 'end' });
    expect(invalidRangeOf('calendar.exceptions[0].ranges[1]: overlaps range 0', draft)).toEqual({ exception: 0, range: 1 });
    expect(describeCalendarField('calendar.time_zone: is not a known IANA time zone', draft)).toBe('Time zone');
    expect(describeCalendarField('calendar.holidays[2].end_date: must not be before start_date', draft)).toBe(
      'Holiday 3, last day',
    );
    expect(describeCalendarField('queue support uses calendar berlin', draft)).toBeUndefined();
  });

  it('keeps a refused field marked until that field is edited', () => {
    const sent = draftOf(stored);
    const saturdayEnd = { day: 5, range: 0, part: 'end' as const };
    expect(stillInvalid(saturdayEnd, sent, draftOf(stored))).toEqual(saturdayEnd);
    const otherEndEdited = draftOf(stored);
    otherEndEdited.days[5] = [{ start: '11:00', end: '14:00' }];
    expect(stillInvalid(saturdayEnd, sent, otherEndEdited)).toEqual(saturdayEnd);
    const edited = draftOf(stored);
    edited.days[5] = [{ start: '10:00', end: '15:00' }];
    expect(stillInvalid(saturdayEnd, sent, edited)).toBeUndefined();
    const removed = draftOf(stored);
    removed.days[5] = [];
    expect(stillInvalid(saturdayEnd, sent, removed)).toBeUndefined();
    // A range that overlaps another is marked at both ends: editing either clears it.
    const overlap = { day: 0, range: 1 };
    expect(stillInvalid(overlap, sent, draftOf(stored))).toEqual(overlap);
    const mondayEdited = draftOf(stored);
    mondayEdited.days[0] = [
      { start: '09:00', end: '12:00' },
      { start: '12:30', end: '17:00' },
    ];
    expect(stillInvalid(overlap, sent, mondayEdited)).toBeUndefined();
  });
});
