// The supervisor's "Hours & alerts" tab: business calendars (calendars-section.tsx) and, per queue, its calendar,
// out-of-hours behaviour, first-response target and alert thresholds (queue-hours-section.tsx).
import type { InteractionRouterServiceClient } from '@mailroute/contracts';
import { usePoll } from '../../ui/use-poll';
import { listAll } from '../shared';
import { CalendarsSection } from './calendars-section';
import { QueueHoursSection } from './queue-hours-section';

export function HoursTab(props: { router: InteractionRouterServiceClient }) {
  const { router } = props;
  const calendars = usePoll(
    () =>
      listAll(
        (page) => router.listCalendars({ page }),
        (r) => r.calendars,
      ),
    60_000,
  );
  const queues = usePoll(
    () =>
      listAll(
        (page) => router.listQueues({ page }),
        (r) => r.queues,
      ),
    60_000,
  );
  return (
    <section aria-label="Hours and alerts" class="hours">
      <CalendarsSection
        router={router}
        calendars={calendars.data}
        failure={calendars.failure}
        queues={queues.data ?? []}
        onChanged={() => (calendars.refresh(), queues.refresh())}
      />
      <QueueHoursSection
        router={router}
        queues={queues.data}
        failure={queues.failure}
        calendars={calendars.data ?? []}
        onChanged={() => (calendars.refresh(), queues.refresh())}
      />
    </section>
  );
}
