import { Status, type ClientError } from 'nice-grpc';
import {
  Agent,
  InteractionState,
  OutOfHoursMode,
  type ConnectResponse,
  type InteractionRouterServiceClient,
} from '@mailroute/contracts';
import { randomId, testInfra, waitFor } from '@mailroute/testing';
import { collectStream, createTestIdentityProvider, startHarness, type Harness } from '../test/router-harness';

/**
 * Business calendars through the workload-manager API and the planner: one router replica on real
 * Kafka, FerretDB and gRPC over sockets.
 */
const slow = { timeoutMs: 90_000, intervalMs: 100 };
const allWeek = (start: string, end: string) => [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({ weekday, ranges: [{ start, end }] }));

async function failure(call: Promise<unknown>): Promise<{ code: Status | undefined; details: string }> {
  const error = (await call.then(
    () => undefined,
    (e: unknown) => e,
  )) as ClientError | undefined;
  return { code: error?.code, details: error?.details ?? '' };
}

describe('business hours through the router', () => {
  const directory = randomId('dir-hours');
  const tenants = { api: randomId('t-cal'), plan: randomId('t-hours'), overflow: randomId('t-ooh') };
  let idp: Awaited<ReturnType<typeof createTestIdentityProvider>>;
  let harness: Harness;
  const streams: AbortController[] = [];
  const dirs = Object.fromEntries(Object.values(tenants).map((tenant) => [tenant, `${directory}-${tenant}`]));

  beforeAll(async () => {
    idp = await createTestIdentityProvider(new Map(Object.values(tenants).map((tenant) => [dirs[tenant] ?? '', tenant])));
    harness = await startHarness({
      infra: testInfra(),
      replicas: 1,
      tenants: Object.values(tenants),
      verifier: idp.verifier,
    });
  });

  afterAll(async () => {
    streams.forEach((stream) => stream.abort());
    await harness?.close();
  });

  async function connectAgent(tenant: string, agentId: string, queueIds: string[]) {
    await harness.admin(tenant).createAgent({
      agentId,
      agent: Agent.fromPartial({ displayName: agentId, entraObjectId: `oid-${agentId}`, queueIds, capacity: 3 }),
    });
    const abort = new AbortController();
    streams.push(abort);
    const desktop = harness.desktop(await idp.token(dirs[tenant] ?? '', `oid-${agentId}`));
    const stream = collectStream(desktop.connect({ clientInstanceId: `${agentId}-desk` }, { signal: abort.signal }));
    await waitFor(() => stream.received.some((m) => m.event?.$case === 'snapshot'), slow);
    return stream;
  }

  const offers = (received: ConnectResponse[]) =>
    received.flatMap((m) => (m.event?.$case === 'offer' ? [m.event.value.interaction?.interactionId ?? ''] : []));

  async function mail(tenant: string, queueId: string): Promise<string> {
    const interactionId = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId,
      defaultQueueId: queueId,
      message: { subject: 'Hello', conversationId: `conv-${interactionId}`, graphMessageId: `g-${interactionId}` } as never,
    });
    return interactionId;
  }

  it('keeps calendars with validation, holiday import, status, and refuses to delete one a queue uses', async () => {
    const admin: InteractionRouterServiceClient = harness.admin(tenants.api);
    expect(
      await failure(
        admin.createCalendar({ calendarId: 'bad', calendar: { displayName: 'Bad', timeZone: 'Mars/Olympus' } as never }),
      ),
    ).toEqual({ code: Status.INVALID_ARGUMENT, details: 'calendar.time_zone: is not a known IANA time zone' });
    const created = await admin.createCalendar({
      calendarId: 'office',
      calendar: {
        displayName: 'Office',
        timeZone: 'Europe/Berlin',
        weeklyHours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, ranges: [{ start: '09:00', end: '17:00' }] })),
        holidays: [],
        exceptions: [],
      },
    });
    expect(created.calendar?.etag).toBe('1');
    // Monday 7 December 2026, 10:00 in Berlin.
    const monday = new Date('2026-12-07T09:00:00Z');
    expect(await admin.getCalendarStatus({ calendarId: 'office', at: monday })).toEqual({
      open: true,
      nextOpening: monday,
      nextClosing: new Date('2026-12-07T16:00:00Z'),
      localDate: '2026-12-07',
    });
    const imported = await admin.importCalendarHolidays({
      calendarId: 'office',
      icalendar: [
        'BEGIN:VCALENDAR',
        'VERSION:2.0',
        'PRODID:-//test//EN',
        'BEGIN:VEVENT',
        'UID:h1',
        'SUMMARY:Company day',
        'DTSTART;VALUE=DATE:20261207',
        'DTEND;VALUE=DATE:20261208',
        'END:VEVENT',
        'END:VCALENDAR',
      ].join('\r\n'),
      fromDate: '2026-01-01',
      toDate: '2026-12-31',
      replace: false,
      etag: '',
    });
    expect(imported.imported).toBe(1);
    expect(imported.calendar?.holidays).toEqual([{ name: 'Company day', startDate: '2026-12-07', endDate: '2026-12-07' }]);
    expect(await admin.getCalendarStatus({ calendarId: 'office', at: monday })).toMatchObject({
      open: false,
      nextOpening: new Date('2026-12-08T08:00:00Z'),
    });
    expect(
      await failure(
        admin.importCalendarHolidays({
          calendarId: 'office',
          icalendar: 'nonsense',
          fromDate: '2026-01-01',
          toDate: '2026-12-31',
          replace: false,
          etag: '',
        }),
      ),
    ).toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringMatching(/^icalendar: is not valid iCalendar/) });

    expect(
      await failure(
        admin.createQueue({ queueId: 'q1', queue: { displayName: 'Q1', hours: { calendarId: 'nowhere' } as never } }),
      ),
    ).toEqual({ code: Status.INVALID_ARGUMENT, details: 'queue.hours.calendar_id: calendar "nowhere" does not exist' });
    expect(
      await failure(
        admin.createQueue({
          queueId: 'q1',
          queue: {
            displayName: 'Q1',
            hours: { calendarId: 'office', whenClosed: OutOfHoursMode.OUT_OF_HOURS_MODE_OVERFLOW } as never,
          },
        }),
      ),
    ).toEqual({ code: Status.INVALID_ARGUMENT, details: 'queue.hours.overflow_queue_id: is required with OVERFLOW: a queue id' });
    await admin.createQueue({ queueId: 'q1', queue: { displayName: 'Q1', hours: { calendarId: 'office' } as never } });
    expect(await failure(admin.deleteCalendar({ calendarId: 'office', etag: '' }))).toEqual({
      code: Status.FAILED_PRECONDITION,
      details: 'queue q1 uses calendar office',
    });
  });

  it('offers nothing from a closed queue, and offers its mail once the calendar opens', async () => {
    const tenant = tenants.plan;
    const admin = harness.admin(tenant);
    await admin.createCalendar({
      calendarId: 'hours',
      calendar: { displayName: 'Closed for now', timeZone: 'UTC', weeklyHours: [], holidays: [], exceptions: [] },
    });
    await admin.createQueue({ queueId: 'day', queue: { displayName: 'Day', hours: { calendarId: 'hours' } as never } });
    await admin.createQueue({ queueId: 'always', queue: { displayName: 'Always' } });
    const stream = await connectAgent(tenant, 'ann', ['day', 'always']);

    const afterHours = await mail(tenant, 'day');
    await waitFor(
      async () =>
        (await admin.getInteraction({ interactionId: afterHours }).catch(() => undefined))?.interaction?.state ===
        InteractionState.INTERACTION_STATE_QUEUED,
      slow,
    );
    // A later mail in an open queue is offered to the same agent: the planner has passed over the closed queue's mail.
    const open = await mail(tenant, 'always');
    await waitFor(() => offers(stream.received).includes(open), slow);
    expect(offers(stream.received)).toEqual([open]);
    expect((await admin.getInteraction({ interactionId: afterHours })).interaction?.state).toBe(
      InteractionState.INTERACTION_STATE_QUEUED,
    );

    const calendar = (await admin.getCalendar({ calendarId: 'hours' })).calendar;
    await admin.updateCalendar({
      calendarId: 'hours',
      calendar: { ...calendar, weeklyHours: allWeek('00:00', '24:00') } as never,
      updateMask: ['weekly_hours'],
      etag: calendar?.etag ?? '',
    });
    await waitFor(() => offers(stream.received).includes(afterHours), slow);
  });

  it('overflows a closed queue out of hours to an open queue, keeping the waiting time', async () => {
    const tenant = tenants.overflow;
    const admin = harness.admin(tenant);
    await admin.createCalendar({
      calendarId: 'never',
      calendar: { displayName: 'Never open', timeZone: 'Europe/Berlin', weeklyHours: [], holidays: [], exceptions: [] },
    });
    await admin.createQueue({ queueId: 'night', queue: { displayName: 'Night' } });
    await admin.createQueue({
      queueId: 'day',
      queue: {
        displayName: 'Day',
        hours: { calendarId: 'never', whenClosed: OutOfHoursMode.OUT_OF_HOURS_MODE_OVERFLOW, overflowQueueId: 'night' } as never,
      },
    });
    const stream = await connectAgent(tenant, 'nick', ['night']);
    const interactionId = await mail(tenant, 'day');
    await waitFor(() => offers(stream.received).includes(interactionId), slow);
    const moved = (await admin.getInteraction({ interactionId })).interaction;
    expect(moved?.queueId).toBe('night');
    expect(moved?.queuedAt?.getTime()).toBeLessThanOrEqual(moved?.updatedAt?.getTime() ?? 0);
  });
});
