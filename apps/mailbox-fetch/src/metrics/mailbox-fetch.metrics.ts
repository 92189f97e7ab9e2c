import { MailboxSyncState } from '@mailroute/contracts';
import type { Meter } from '@opentelemetry/api';
import type { SyncRuntime } from '../sync/sync-runtime';

/**
 * Prometheus metrics: ingested messages, intake freshness (receivedDateTime → event published),
 * owned mailboxes by sync state, and the worst lag among owned mailboxes. No per-mailbox labels
 * (thousands of mailboxes); per-mailbox detail is in GetSyncStatus.
 */
export function createMailboxFetchMetrics(meter: Meter, runtime: () => SyncRuntime | undefined) {
  const ingested = meter.createCounter('mailroute_mailbox_fetch_messages_ingested_total', { description: 'E-mails ingested (interaction stored and InboundEmail published)' });
  const freshness = meter.createHistogram('mailroute_mailbox_fetch_intake_freshness_seconds', { description: 'Graph receivedDateTime to InboundEmail published', unit: 's' });
  meter.createObservableGauge('mailroute_mailbox_fetch_mailboxes', { description: 'Mailboxes owned by this replica, by sync state' }).addCallback((result) => {
    const counts = new Map<number, number>();
    for (const entry of runtime()?.statesSnapshot() ?? []) counts.set(entry.state, (counts.get(entry.state) ?? 0) + 1);
    for (const [state, count] of counts) result.observe(count, { state: MailboxSyncState[state] ?? String(state) });
  });
  meter.createObservableGauge('mailroute_mailbox_fetch_max_lag_seconds', { description: 'Largest sync lag among owned mailboxes', unit: 's' }).addCallback((result) => {
    const lags = (runtime()?.statesSnapshot() ?? []).map((entry) => entry.lagMs ?? 0);
    result.observe(lags.length ? Math.max(...lags) / 1000 : 0);
  });
  return {
    onIngested(count: number, _mailbox: unknown, freshnessMs: readonly number[]) {
      ingested.add(count);
      for (const ms of freshnessMs) freshness.record(Math.max(0, ms) / 1000);
    },
  };
}
