// One queue's hours and alerts: its calendar, what happens while it is closed (wait, agents may work out of hours, or
// overflow to another queue), the service-level first-response target, its due-soon window and whether it counts business
// time, and the alert thresholds (waiting count, longest wait). One UpdateQueue with the etag, the fields the CLI's `queue hours`,
// `queue alerts` and the service-level options set.
import {
  OutOfHoursMode,
  type Calendar,
  type Duration,
  type InteractionRouterServiceClient,
  type Queue,
  type QueueAlertThresholds,
  type QueueHours,
  type ServiceLevelTarget,
} from '@mailroute/contracts';
import { useEffect, useRef, useState } from 'preact/hooks';
import { toFailure, type Failure } from '../../api/errors';
import { FailureLine } from '../shared';
import { DurationInput } from './duration-input';

const UPDATED_FIELDS = ['hours', 'service_level', 'alert_thresholds'];

interface QueueHoursDraft {
  calendarId: string;
  overflow: boolean;
  overflowQueueId: string;
  agentsWorkOutOfHours: boolean;
  serviceLevelBusinessTime: boolean;
  escalationBusinessTime: boolean;
  threshold: Duration | undefined;
  /** Empty: the router's default (a quarter of the target, at most 1 h). */
  dueSoonBefore: Duration | undefined;
  targetPercent: string;
  waitingCount: string;
  longestWait: Duration | undefined;
}

function draftOf(queue: Queue): QueueHoursDraft {
  const h = queue.hours;
  return {
    calendarId: h?.calendarId ?? '',
    overflow: h?.whenClosed === OutOfHoursMode.OUT_OF_HOURS_MODE_OVERFLOW,
    overflowQueueId: h?.overflowQueueId ?? '',
    agentsWorkOutOfHours: h?.agentsWorkOutOfHours ?? false,
    serviceLevelBusinessTime: h?.serviceLevelBusinessTime ?? false,
    escalationBusinessTime: h?.escalationBusinessTime ?? false,
    threshold: queue.serviceLevel?.threshold ?? { seconds: 4 * 3600, nanos: 0 },
    dueSoonBefore: queue.serviceLevel?.dueSoonBefore,
    targetPercent: String(queue.serviceLevel?.targetPercent || 80),
    waitingCount: queue.alertThresholds?.waitingCount ? String(queue.alertThresholds.waitingCount) : '',
    longestWait: queue.alertThresholds?.longestWait,
  };
}

function changesOf(draft: QueueHoursDraft) {
  const hours: QueueHours | undefined = draft.calendarId
    ? {
        calendarId: draft.calendarId,
        whenClosed: draft.overflow ? OutOfHoursMode.OUT_OF_HOURS_MODE_OVERFLOW : OutOfHoursMode.OUT_OF_HOURS_MODE_WAIT,
        overflowQueueId: draft.overflow ? draft.overflowQueueId : '',
        agentsWorkOutOfHours: draft.agentsWorkOutOfHours,
        serviceLevelBusinessTime: draft.serviceLevelBusinessTime,
        escalationBusinessTime: draft.escalationBusinessTime,
      }
    : undefined;
  const serviceLevel: ServiceLevelTarget = {
    threshold: draft.threshold,
    targetPercent: Number(draft.targetPercent) || 0,
    dueSoonBefore: draft.dueSoonBefore,
  };
  const count = draft.waitingCount.trim() === '' ? 0 : Number(draft.waitingCount);
  const alertThresholds: QueueAlertThresholds | undefined =
    count || draft.longestWait ? { waitingCount: count, longestWait: draft.longestWait } : undefined;
  return { hours, serviceLevel, alertThresholds };
}

export function QueueHoursForm(props: {
  router: InteractionRouterServiceClient;
  queue: Queue;
  queues: Queue[];
  calendars: Calendar[];
  onSaved: () => void;
  onCancel: () => void;
}) {
  const { queue } = props;
  const [draft, setDraft] = useState(() => draftOf(queue));
  const [failure, setFailure] = useState<Failure>();
  const formRef = useRef<HTMLFormElement>(null);
  // Opened from a button further down the page: bring the form into view.
  useEffect(() => formRef.current?.scrollIntoView({ block: 'start' }), []);
  const [saving, setSaving] = useState(false);
  const change = (patch: Partial<QueueHoursDraft>) => setDraft((current) => ({ ...current, ...patch }));
  const save = async (event: Event) => {
    event.preventDefault();
    setSaving(true);
    setFailure(undefined);
    try {
      await props.router.updateQueue({
        queueId: queue.queueId,
        queue: { ...queue, ...changesOf(draft) },
        updateMask: UPDATED_FIELDS,
        etag: queue.etag,
      });
      props.onSaved();
    } catch (error) {
      setFailure(toFailure(error));
    } finally {
      setSaving(false);
    }
  };
  const hasCalendar = draft.calendarId !== '';
  const outOfHoursTemplate = queue.acknowledgement?.enabled ? queue.acknowledgement.outOfHoursTemplateId : '';
  return (
    <form class="card queue-hours-form" ref={formRef} aria-label={`Hours and alerts of ${queue.displayName}`} onSubmit={save}>
      <h3>{queue.displayName}: hours and alerts</h3>
      <fieldset>
        <legend>Business hours</legend>
        <label>
          Calendar
          <select aria-label="Calendar" value={draft.calendarId} onChange={(e) => change({ calendarId: e.currentTarget.value })}>
            <option value="">Always open (no calendar)</option>
            {props.calendars.map((c) => (
              <option key={c.calendarId} value={c.calendarId}>
                {c.displayName} ({c.timeZone})
              </option>
            ))}
          </select>
        </label>
        <div role="radiogroup" aria-label="While closed" class="choices">
          <span class="muted small">While closed, waiting mail…</span>
          <label class="check">
            <input
              type="radio"
              name="when-closed"
              disabled={!hasCalendar}
              checked={!draft.overflow}
              onChange={() => change({ overflow: false })}
            />
            waits here until the queue opens
          </label>
          <label class="check">
            <input
              type="radio"
              name="when-closed"
              disabled={!hasCalendar}
              checked={draft.overflow}
              onChange={() => change({ overflow: true })}
            />
            overflows to another queue that is open
          </label>
          {draft.overflow && hasCalendar ? (
            <label>
              Overflow queue
              <select
                aria-label="Overflow queue"
                value={draft.overflowQueueId}
                onChange={(e) => change({ overflowQueueId: e.currentTarget.value })}
              >
                <option value="">Choose a queue…</option>
                {props.queues
                  .filter((q) => q.queueId !== queue.queueId)
                  .map((q) => (
                    <option key={q.queueId} value={q.queueId}>
                      {q.displayName}
                    </option>
                  ))}
              </select>
            </label>
          ) : null}
        </div>
        <label class="check">
          <input
            type="checkbox"
            disabled={!hasCalendar}
            checked={draft.agentsWorkOutOfHours}
            onChange={(e) => change({ agentsWorkOutOfHours: e.currentTarget.checked })}
          />
          Agents may work this queue out of hours (they still get offers while it is closed)
        </label>
        <label class="check">
          <input
            type="checkbox"
            disabled={!hasCalendar}
            checked={draft.escalationBusinessTime}
            onChange={(e) => change({ escalationBusinessTime: e.currentTarget.checked })}
          />
          Escalation steps count open hours only
        </label>
        <p class="muted small">
          Out-of-hours acknowledgement: {outOfHoursTemplate ? `template ${outOfHoursTemplate}` : 'none'} (set in Replies).
        </p>
      </fieldset>
      <fieldset>
        <legend>First-response target (service level)</legend>
        <div class="filters">
          <label>
            Answered within
            <DurationInput label="Answered within" value={draft.threshold} onChange={(threshold) => change({ threshold })} />
          </label>
          <label>
            Target %
            <input
              type="number"
              min="1"
              max="100"
              value={draft.targetPercent}
              onInput={(e) => change({ targetPercent: e.currentTarget.value })}
            />
          </label>
          <label>
            Due soon within
            <DurationInput
              label="Due soon within"
              placeholder="default"
              value={draft.dueSoonBefore}
              onChange={(dueSoonBefore) => change({ dueSoonBefore })}
            />
          </label>
        </div>
        <p class="muted small">
          Due soon: an unanswered interaction this close to its due time is marked due soon (and raises the due-soon alert).
          Empty: a quarter of the target time, at most 1 hour.
        </p>
        <label class="check">
          <input
            type="checkbox"
            disabled={!hasCalendar}
            checked={draft.serviceLevelBusinessTime && hasCalendar}
            onChange={(e) => change({ serviceLevelBusinessTime: e.currentTarget.checked })}
          />
          Count business hours only (“answered within 4 business hours”){hasCalendar ? '' : ' — needs a calendar'}
        </label>
      </fieldset>
      <fieldset>
        <legend>Alerts</legend>
        <p class="muted small">
          An alert event when the queue reaches a threshold; resolved when it is back at 80 % of it. Empty: off.
        </p>
        <div class="filters">
          <label>
            Waiting interactions
            <input
              type="number"
              min="0"
              placeholder="off"
              value={draft.waitingCount}
              onInput={(e) => change({ waitingCount: e.currentTarget.value })}
            />
          </label>
          <label>
            Longest wait
            <DurationInput
              label="Longest wait"
              placeholder="off"
              value={draft.longestWait}
              onChange={(longestWait) => change({ longestWait })}
            />
          </label>
        </div>
      </fieldset>
      <div class="actions form-actions">
        <button type="submit" class="primary" disabled={saving}>
          {saving ? 'Saving…' : 'Save queue'}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
      <FailureLine failure={failure} />
    </form>
  );
}
