// Per queue: its calendar, what happens while it is closed, the first-response target (and whether it counts business
// time) and the alert thresholds, one row each; "Edit" opens the queue's form (queue-hours-form.tsx). In a narrow window
// each row is a card, its cells stacked under their column names (data-label; styles.css, "Hours & alerts").
import { OutOfHoursMode, type Calendar, type InteractionRouterServiceClient, type Queue } from '@mailroute/contracts';
import { useState } from 'preact/hooks';
import type { Failure } from '../../api/errors';
import { formatDuration } from '../../ui/format';
import { Empty, FailureLine } from '../shared';
import { QueueHoursForm } from './queue-hours-form';

const duration = (d: { seconds: number } | undefined) => (d ? formatDuration(d.seconds * 1000) : '');

function whenClosed(queue: Queue, queueName: (id: string) => string): string {
  const h = queue.hours;
  if (!h) return '—';
  const mode =
    h.whenClosed === OutOfHoursMode.OUT_OF_HOURS_MODE_OVERFLOW ? `overflow to ${queueName(h.overflowQueueId)}` : 'mail waits';
  return `${mode}${h.agentsWorkOutOfHours ? '; agents may work' : ''}`;
}

function serviceLevel(queue: Queue): string {
  const sl = queue.serviceLevel;
  const within = sl?.threshold ? duration(sl.threshold) : '4 h';
  const dueSoon = sl?.dueSoonBefore ? `; due soon ${duration(sl.dueSoonBefore)} before` : '';
  return `${sl?.targetPercent || 80} % within ${within}${queue.hours?.serviceLevelBusinessTime ? ' business time' : ''}${dueSoon}`;
}

function alerts(queue: Queue): string {
  const t = queue.alertThresholds;
  const parts = [t?.waitingCount ? `${t.waitingCount} waiting` : '', t?.longestWait ? `wait ${duration(t.longestWait)}` : ''];
  return parts.filter(Boolean).join(' or ') || 'off';
}

export function QueueHoursSection(props: {
  router: InteractionRouterServiceClient;
  queues: Queue[] | undefined;
  failure: Failure | undefined;
  calendars: Calendar[];
  onChanged: () => void;
}) {
  const [editing, setEditing] = useState<string>();
  const queues = props.queues ?? [];
  const queueName = (id: string) => queues.find((q) => q.queueId === id)?.displayName ?? id;
  const calendarName = (id: string) => props.calendars.find((c) => c.calendarId === id)?.displayName ?? id;
  const open = queues.find((q) => q.queueId === editing);
  return (
    <section aria-label="Queue hours and alerts" class="queue-hours">
      <h2>Queues: hours, service level, alerts</h2>
      <FailureLine failure={props.failure} what="queues" />
      {open ? (
        <QueueHoursForm
          key={`${open.queueId}/${open.etag}`}
          router={props.router}
          queue={open}
          queues={queues}
          calendars={props.calendars}
          onSaved={() => {
            setEditing(undefined);
            props.onChanged();
          }}
          onCancel={() => setEditing(undefined)}
        />
      ) : null}
      <div class="table-wrap">
        <table class="grid stacks">
          <thead>
            <tr>
              <th>Queue</th>
              <th>Calendar</th>
              <th>While closed</th>
              <th>First response</th>
              <th>Alerts at</th>
            </tr>
          </thead>
          <tbody>
            {queues.map((q) => (
              <tr key={q.queueId} data-testid="queue-hours-row" data-queue-id={q.queueId}>
                <td data-label="Queue">
                  <div class="queue-name">
                    <span>
                      {q.displayName}
                      <span class="muted small"> {q.queueId}</span>
                    </span>
                    <button type="button" aria-label={`Edit ${q.displayName}`} onClick={() => setEditing(q.queueId)}>
                      Edit
                    </button>
                  </div>
                </td>
                <td data-label="Calendar">{q.hours ? calendarName(q.hours.calendarId) : 'always open'}</td>
                <td class="small" data-label="While closed">
                  {whenClosed(q, queueName)}
                </td>
                <td class="small" data-label="First response">
                  {serviceLevel(q)}
                </td>
                <td class="small" data-label="Alerts at">
                  {alerts(q)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Empty list={props.queues} text="No queues." />
    </section>
  );
}
