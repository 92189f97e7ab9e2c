import { MailboxSyncState } from '@mailroute/contracts';
import type { GraphThrottleEvent } from '@mailroute/graph-mail';
import type { Meter } from '@opentelemetry/api';
import type { MailboxSyncFigure } from '../alerts/mailbox-sync-alerts';
import type { MailboxRecord } from '../store/mailbox-fetch.records';
import type { SyncRuntime } from '../sync/sync-runtime';

/**
 * Prometheus metrics of mailbox-fetch. Per mailbox (labels `tenant`, `mailbox` = mailbox id,
 * `address`; each replica reports the mailboxes it owns, so one series per mailbox overall, at
 * most MAILBOX_FETCH_MAX_MAILBOXES per replica):
 * - `mailroute_mailbox_fetch_mailbox_lag_seconds`: now − start of the last complete sync round
 *   (how far behind intake may be; absent until the first round completes)
 * - `mailroute_mailbox_fetch_mailbox_backlog_messages`: messages known but not yet ingested
 * - `mailroute_mailbox_fetch_messages_ingested_total{tenant,mailbox}`
 * Per replica: owned mailboxes by sync state, the worst lag, intake freshness (Graph
 * receivedDateTime → InboundEmail published, histogram by tenant) and Graph throttling answers
 * `mailroute_mailbox_fetch_graph_throttled_total{tenant,address,status}` with the waits asked for.
 * From the stopped-syncing alert sweep, which every replica runs over every enabled mailbox (owned
 * or not; aggregate with max by tenant, mailbox): `mailroute_mailbox_fetch_mailbox_since_last_sync_seconds`
 * and `mailroute_mailbox_fetch_mailbox_sync_stopped` (1 while stopped: too long without a successful
 * sync, or in a state that needs a person).
 */
export function createMailboxFetchMetrics(
  meter: Meter,
  runtime: () => SyncRuntime | undefined,
  syncFigures: () => readonly MailboxSyncFigure[] = () => [],
) {
  const ingested = meter.createCounter('mailroute_mailbox_fetch_messages_ingested_total', {
    description: 'E-mails ingested (interaction stored and InboundEmail published)',
  });
  const freshness = meter.createHistogram('mailroute_mailbox_fetch_intake_freshness_seconds', {
    description: 'Graph receivedDateTime to InboundEmail published',
    unit: 's',
  });
  const throttled = meter.createCounter('mailroute_mailbox_fetch_graph_throttled_total', {
    description: 'Graph throttling answers (429, or 503 with Retry-After) to mailbox-fetch, by mailbox address',
  });
  const throttledWait = meter.createCounter('mailroute_mailbox_fetch_graph_throttled_wait_seconds_total', {
    description: 'Sum of the Retry-After waits Graph asked mailbox-fetch for, in seconds',
  });
  meter
    .createObservableGauge('mailroute_mailbox_fetch_mailboxes', { description: 'Mailboxes owned by this replica, by sync state' })
    .addCallback((result) => {
      const counts = new Map<number, number>();
      for (const entry of runtime()?.statesSnapshot() ?? []) counts.set(entry.state, (counts.get(entry.state) ?? 0) + 1);
      for (const [state, count] of counts) result.observe(count, { state: MailboxSyncState[state] ?? String(state) });
    });
  meter
    .createObservableGauge('mailroute_mailbox_fetch_max_lag_seconds', {
      description: 'Largest sync lag among owned mailboxes',
      unit: 's',
    })
    .addCallback((result) => {
      const lags = (runtime()?.statesSnapshot() ?? []).map((entry) => entry.lagMs ?? 0);
      result.observe(lags.length ? Math.max(...lags) / 1000 : 0);
    });
  const lag = meter.createObservableGauge('mailroute_mailbox_fetch_mailbox_lag_seconds', {
    description: 'Per owned mailbox: time since the last complete sync round started',
    unit: 's',
  });
  const backlog = meter.createObservableGauge('mailroute_mailbox_fetch_mailbox_backlog_messages', {
    description: 'Per owned mailbox: messages seen in Graph but not ingested yet',
  });
  meter.addBatchObservableCallback(
    (result) => {
      for (const entry of runtime()?.statesSnapshot() ?? []) {
        const labels = { tenant: entry.tenantId, mailbox: entry.mailboxId, address: entry.address.toLowerCase() };
        if (entry.lagMs !== undefined) result.observe(lag, Math.max(0, entry.lagMs) / 1000, labels);
        result.observe(backlog, entry.backlog, labels);
      }
    },
    [lag, backlog],
  );
  const sinceSync = meter.createObservableGauge('mailroute_mailbox_fetch_mailbox_since_last_sync_seconds', {
    description: 'Per enabled mailbox (every replica): time since its last successful sync, or its creation',
    unit: 's',
  });
  const stopped = meter.createObservableGauge('mailroute_mailbox_fetch_mailbox_sync_stopped', {
    description: 'Per enabled mailbox (every replica): 1 while it stopped syncing (too long without a sync, or failing)',
  });
  meter.addBatchObservableCallback(
    (result) => {
      for (const figure of syncFigures()) {
        const labels = { tenant: figure.tenantId, mailbox: figure.mailboxId };
        result.observe(sinceSync, figure.secondsSinceSync, labels);
        result.observe(stopped, figure.stopped ? 1 : 0, labels);
      }
    },
    [sinceSync, stopped],
  );
  return {
    onIngested(count: number, mailbox: Pick<MailboxRecord, 'tenantId' | 'mailboxId'>, freshnessMs: readonly number[]) {
      ingested.add(count, { tenant: mailbox.tenantId, mailbox: mailbox.mailboxId });
      for (const ms of freshnessMs) freshness.record(Math.max(0, ms) / 1000, { tenant: mailbox.tenantId });
    },
    onThrottled(event: GraphThrottleEvent) {
      const labels = { tenant: event.target.tenantId, address: event.target.address.toLowerCase(), status: String(event.status) };
      throttled.add(1, labels);
      throttledWait.add(Math.max(0, event.retryAfterMs) / 1000, labels);
    },
  };
}
