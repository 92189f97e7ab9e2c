// The supervisor's "Hours & alerts" tab in real Chromium, through the web gateway, against the real router and the
// graph sandbox: business calendars (create, iCalendar import, a refused range, delete refused while a queue uses
// it) and a queue's calendar, out-of-hours behaviour, service level (with its due-soon window) and alert thresholds. Every change is read back
// through the workload-manager API. Screenshots (1280×800 and a narrow window): .cache/screenshots/web-console-hours/.
import { OutOfHoursMode } from '@mailroute/contracts';
import { waitFor } from '@mailroute/testing';
import { ClientError, Status } from 'nice-grpc';
import type { Page } from 'playwright-core';
import { screenshots, sidewaysOverflowWhenNarrow, signIn, startConsoleStack, users, type ConsoleStack } from './console-stack';

const shots = screenshots('hours');

/**
 * A screenshot at 1280×800 and in a narrow window. The field being typed in loses focus first: Chromium scrolls a
 * focused field back into view after the window is resized, which would move the page under the test's next click.
 */
async function shoot(name: string): Promise<void> {
  await page.evaluate('document.activeElement?.blur()');
  await shots.take(page, name);
}

/** Christmas as an all-day event (DTEND exclusive: the 25th and 26th), and a timed event the import skips. */
const holidaysIcs = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//mailroute test//EN',
  'BEGIN:VEVENT',
  'UID:xmas-2027@test',
  'DTSTAMP:20260101T000000Z',
  'DTSTART;VALUE=DATE:20271225',
  'DTEND;VALUE=DATE:20271227',
  'SUMMARY:Christmas',
  'END:VEVENT',
  'BEGIN:VEVENT',
  'UID:party-2027@test',
  'DTSTAMP:20260101T000000Z',
  'DTSTART:20271217T160000Z',
  'DTEND:20271217T200000Z',
  'SUMMARY:Team party',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

let stack: ConsoleStack;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  stack = await startConsoleStack();
  // The overflow target of the test queue.
  await stack.admin.createQueue({ queueId: 'after-hours', queue: { displayName: 'After hours' } });
  const opened = await stack.browser.newPage();
  page = opened.page;
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await signIn(page, stack, users.supervisor);
  await page.goto(`${stack.consoleUrl}#/supervisor/hours`);
  await page.locator('[data-testid=queue-hours-row][data-queue-id=support]').waitFor({ timeout: 60_000 });
}, 400_000);

afterAll(async () => {
  await stack?.stop();
});

// The screen as each test left it (also what a failure looked like).
afterEach(async () => {
  await shots
    .take(page, `after-${expect.getState().currentTestName?.split(' ').slice(6, 10).join('-') ?? 'test'}`)
    .catch(() => undefined);
  expect(pageErrors).toEqual([]);
});

const calendarCard = (id: string) => page.locator(`[data-testid=calendar][data-calendar-id="${id}"]`);

describe('Hours & alerts in the supervisor console', () => {
  it('creates a calendar with two ranges on Monday, a holiday and a closing-early exception; the router stores them', async () => {
    await shoot('empty');
    await page.getByRole('button', { name: 'New calendar' }).click();
    const form = page.getByRole('form', { name: 'New calendar' });
    await form.getByLabel('Id (optional)').fill('berlin');
    await form.locator('.filters').getByLabel('Name', { exact: true }).fill('Berlin office');
    await form.getByLabel('Time zone').fill('Europe/Berlin');
    await form.getByLabel('Monday range 1 closes').fill('12:00');
    await form.getByRole('button', { name: 'Add a range to Monday' }).click();
    await form.getByLabel('Monday range 2 opens').fill('13:00');
    await form.getByLabel('Monday range 2 closes').fill('17:00');
    await form.getByRole('button', { name: 'Add holiday' }).click();
    const holiday = form.locator('[data-testid=holiday-row]').first();
    await holiday.getByLabel('Name').fill('Unity Day');
    await holiday.getByLabel('First day').fill('2027-10-03');
    await form.getByRole('button', { name: 'Add exception' }).click();
    const exception = form.locator('[data-testid=exception-row]').first();
    await exception.getByLabel('Date').fill('2027-12-31');
    await exception.getByLabel('Note').fill("New Year's Eve: close at noon");
    await shoot('new-calendar');
    await form.getByRole('button', { name: 'Create calendar' }).click();
    await calendarCard('berlin').waitFor();

    const { calendar } = await stack.admin.getCalendar({ calendarId: 'berlin' });
    expect(calendar?.timeZone).toBe('Europe/Berlin');
    expect(calendar?.weeklyHours.find((day) => day.weekday === 1)?.ranges).toEqual([
      { start: '09:00', end: '12:00' },
      { start: '13:00', end: '17:00' },
    ]);
    expect(calendar?.weeklyHours.map((day) => day.weekday)).toEqual([1, 2, 3, 4, 5]);
    expect(calendar?.holidays).toEqual([{ name: 'Unity Day', startDate: '2027-10-03', endDate: '' }]);
    expect(calendar?.exceptions).toEqual([
      { date: '2027-12-31', ranges: [{ start: '09:00', end: '12:00' }], note: "New Year's Eve: close at noon" },
    ]);
    await expect(calendarCard('berlin').locator('[data-testid=calendar-hours]').textContent()).resolves.toBe(
      'Mon 09:00–12:00, 13:00–17:00 · Tue–Fri 09:00–17:00',
    );
    // Open or closed now, as the router's calendar logic says (read again if the minute turned in between).
    await waitFor(
      async () => {
        const { open } = await stack.admin.getCalendarStatus({ calendarId: 'berlin' });
        const shown = await calendarCard('berlin').locator('[data-testid=calendar-status]').getAttribute('data-open');
        return shown === String(open);
      },
      { timeoutMs: 90_000, description: 'the card to show the calendar open or closed as the router says' },
    );
    await shoot('calendar-created');
  });

  it('imports an iCalendar file: its all-day event becomes a holiday, the timed event is skipped', async () => {
    const card = calendarCard('berlin');
    await card.getByRole('button', { name: 'Import holidays (.ics)' }).click();
    await card.getByLabel('iCalendar file (.ics)').setInputFiles({
      name: 'holidays.ics',
      mimeType: 'text/calendar',
      buffer: Buffer.from(holidaysIcs),
    });
    await card.getByLabel('From', { exact: true }).fill('2027-01-01');
    await card.getByLabel('To', { exact: true }).fill('2027-12-31');
    await card.getByRole('button', { name: 'Import', exact: true }).click();
    const result = card.locator('[data-testid=import-result]');
    await result.waitFor();
    expect(await result.textContent()).toContain('1 holiday imported (2 in all)');
    expect(await result.textContent()).toContain('Skipped');
    await shoot('ics-imported');

    const { calendar } = await stack.admin.getCalendar({ calendarId: 'berlin' });
    expect(calendar?.holidays).toEqual([
      { name: 'Unity Day', startDate: '2027-10-03', endDate: '' },
      { name: 'Christmas', startDate: '2027-12-25', endDate: '2027-12-26' },
    ]);
    await card.locator('[data-testid=calendar-holidays]', { hasText: 'Christmas 2027-12-25–2027-12-26' }).waitFor();
  });

  it("shows the router's refusal of a range that ends before it starts, naming the day and field, and stores nothing", async () => {
    await calendarCard('berlin').getByRole('button', { name: 'Edit' }).click();
    const form = page.getByRole('form', { name: 'Edit calendar Berlin office' });
    await form.getByLabel('Tuesday range 1 closes').fill('08:00');
    await form.getByRole('button', { name: 'Save calendar' }).click();
    const failure = form.locator('[data-testid=failure]');
    await failure.waitFor();
    expect(await failure.textContent()).toMatch(/^calendar\.weekly_hours\[1\]\.ranges\[0\]\.end: must be after start/);
    expect(await form.locator('[data-testid=failure-field]').textContent()).toBe('Check: Tuesday, range 1, closing time');
    expect(await form.getByLabel('Tuesday range 1 closes').getAttribute('aria-invalid')).toBe('true');
    expect(await form.getByLabel('Tuesday range 1 opens').getAttribute('aria-invalid')).toBeNull();
    await shoot('range-refused');

    // Corrected, the field is no longer marked (before the next save).
    await form.getByLabel('Tuesday range 1 closes').fill('17:00');
    expect(await form.getByLabel('Tuesday range 1 closes').getAttribute('aria-invalid')).toBeNull();

    // A zone that does not exist is refused the same way.
    await form.getByLabel('Time zone').fill('Europe/Atlantis');
    await form.getByRole('button', { name: 'Save calendar' }).click();
    await form.locator('[data-testid=failure]', { hasText: 'calendar.time_zone: is not a known IANA time zone' }).waitFor();
    expect(await form.locator('[data-testid=failure-field]').textContent()).toBe('Check: Time zone');

    const { calendar } = await stack.admin.getCalendar({ calendarId: 'berlin' });
    expect(calendar?.timeZone).toBe('Europe/Berlin');
    expect(calendar?.weeklyHours.find((day) => day.weekday === 2)?.ranges).toEqual([{ start: '09:00', end: '17:00' }]);
    await form.getByRole('button', { name: 'Cancel' }).click();
    await form.waitFor({ state: 'detached' });
  });

  it('gives a queue the calendar, overflow when closed, a first-response target in business hours and alert thresholds', async () => {
    await page.getByRole('button', { name: 'Edit support' }).click();
    const form = page.locator('form.queue-hours-form');
    await form.getByLabel('Calendar', { exact: true }).selectOption('berlin');
    await form.getByLabel('overflows to another queue that is open').check();
    await form.getByLabel('Overflow queue').selectOption('after-hours');
    await form.getByLabel('Agents may work this queue out of hours').check();
    await form.getByLabel('Answered within amount').fill('4');
    await form.getByLabel('Answered within unit').selectOption('hours');
    await form.getByLabel('Target %').fill('90');
    await form.getByLabel('Due soon within amount').fill('45');
    await form.getByLabel('Due soon within unit').selectOption('minutes');
    await form.getByLabel('Count business hours only').check();
    await form.getByLabel('Waiting interactions').fill('25');
    await form.getByLabel('Longest wait amount').fill('30');
    await form.getByLabel('Longest wait unit').selectOption('minutes');
    await shoot('queue-form');
    await form.getByRole('button', { name: 'Save queue' }).click();
    await form.waitFor({ state: 'detached' });

    const { queue } = await stack.admin.getQueue({ queueId: 'support' });
    expect(queue?.hours).toEqual({
      calendarId: 'berlin',
      whenClosed: OutOfHoursMode.OUT_OF_HOURS_MODE_OVERFLOW,
      overflowQueueId: 'after-hours',
      agentsWorkOutOfHours: true,
      serviceLevelBusinessTime: true,
      escalationBusinessTime: false,
    });
    expect(queue?.serviceLevel?.threshold?.seconds).toBe(4 * 3600);
    expect(queue?.serviceLevel?.targetPercent).toBe(90);
    expect(queue?.serviceLevel?.dueSoonBefore?.seconds).toBe(45 * 60);
    expect(queue?.alertThresholds?.waitingCount).toBe(25);
    expect(queue?.alertThresholds?.longestWait?.seconds).toBe(30 * 60);

    const row = page.locator('[data-testid=queue-hours-row][data-queue-id=support]');
    await row.locator('td', { hasText: '25 waiting or wait 30 min' }).waitFor();
    expect(await row.textContent()).toContain('90 % within 4 h business time; due soon 45 min before');
    expect(await row.textContent()).toContain('overflow to After hours; agents may work');
    await calendarCard('berlin')
      .locator('dd', { hasText: /^support$/ })
      .waitFor();
    await shoot('queue-saved');
    // In a narrow window each queue is a card: neither the page nor the queue table scrolls sideways.
    expect(await sidewaysOverflowWhenNarrow(page, '.queue-hours .table-wrap')).toBe(0);
  });

  it("shows the router's refusal to delete a calendar a queue uses, and deletes one nobody uses", async () => {
    const card = calendarCard('berlin');
    await card.getByRole('button', { name: 'Delete' }).click();
    await card.getByRole('button', { name: 'Yes, delete' }).click();
    await card.locator('[data-testid=failure]', { hasText: 'Not deleted: queue support uses calendar berlin' }).waitFor();
    await shoot('delete-refused');
    expect((await stack.admin.getCalendar({ calendarId: 'berlin' })).calendar?.calendarId).toBe('berlin');

    await stack.admin.createCalendar({
      calendarId: 'spare',
      calendar: { displayName: 'Spare', timeZone: 'America/New_York', weeklyHours: [], holidays: [], exceptions: [] },
    });
    await page.reload();
    const spare = calendarCard('spare');
    await spare.waitFor({ timeout: 60_000 });
    await spare.getByRole('button', { name: 'Delete' }).click();
    await spare.getByRole('button', { name: 'Yes, delete' }).click();
    await spare.waitFor({ state: 'detached' });
    const gone = await stack.admin.getCalendar({ calendarId: 'spare' }).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(ClientError);
    expect((gone as ClientError).code).toBe(Status.NOT_FOUND);
  });
});
