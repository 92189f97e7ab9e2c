import { AlertKind } from '@mailroute/contracts';
import { nextThresholdPhase, queueAlertThresholds, type ThresholdPhase } from '@mailroute/routing-engine';
import type { QueuePolicies } from '../read-models/config-snapshots';
import { tenantPrefix } from '../store/router-keys';
import type { RouterStores } from '../store/router-stores';
import type { RouterAlertClaims } from './router-alerts';

interface QueueFigures {
  waiting: number;
  longestWaitSeconds: number;
}

/** The two queue thresholds: the kind, the name in the subject key, and the figure each compares. */
const measures = [
  { name: 'queue-waiting-count', kind: AlertKind.ALERT_KIND_QUEUE_WAITING_COUNT, figure: 'waitingCount' },
  { name: 'queue-longest-wait', kind: AlertKind.ALERT_KIND_QUEUE_LONGEST_WAIT, figure: 'longestWaitSeconds' },
] as const;
const queueSubject = /^([^/]+)\/([^/]+)\/queue-(waiting-count|longest-wait)$/;

/** A queue alert's subject key: `<tenant>/<queue>/<queue-waiting-count|queue-longest-wait>`. */
const subjectKey = (tenantId: string, queueId: string, name: string): string => `${tenantId}/${queueId}/${name}`;

/**
 * Raises and resolves queue threshold alerts (QueueAlertThresholds): a queue whose waiting count or
 * longest wait reaches its threshold fires once, and resolves once it is back at or below 80 % of
 * it (see nextThresholdPhase) — or its threshold is removed, or the queue deleted — whichever
 * replica sweeps (episode claims, see createAlertClaims).
 *
 * Reads, for each tenant given and each tenant with a firing queue alert: the cached queue
 * configuration and, when a queue has a threshold, the waiting index (an `_id` range, as the queue
 * gauges read it); claims only for a queue at or over a threshold or already firing.
 */
export function createQueueAlertSweep(deps: {
  stores: Pick<RouterStores, 'waiting'>;
  clock: () => number;
  queuePolicies: (tenantId: string) => Promise<QueuePolicies>;
  claims: RouterAlertClaims;
}) {
  async function waitingFigures(tenantId: string, now: number): Promise<Map<string, QueueFigures>> {
    const figures = new Map<string, QueueFigures>();
    for (const { document } of await deps.stores.waiting.list({ prefix: tenantPrefix(tenantId), limit: 1_000_000 })) {
      const entry = figures.get(document.queueId) ?? { waiting: 0, longestWaitSeconds: 0 };
      entry.waiting += 1;
      entry.longestWaitSeconds = Math.max(entry.longestWaitSeconds, Math.max(0, now - document.queuedAt) / 1000);
      figures.set(document.queueId, entry);
    }
    return figures;
  }

  return async function sweepQueueAlerts(tenantsWithWork: readonly string[]): Promise<number> {
    const firing = new Map<string, Set<string>>(); // tenant → queues with a firing alert
    for (const key of await deps.claims.firing('')) {
      const [, tenantId = '', queueId = ''] = queueSubject.exec(key) ?? [];
      if (tenantId) firing.set(tenantId, (firing.get(tenantId) ?? new Set()).add(queueId));
    }
    let published = 0;
    for (const tenantId of new Set([...tenantsWithWork, ...firing.keys()])) {
      const policies = await deps.queuePolicies(tenantId);
      const queueIds = new Set(firing.get(tenantId));
      for (const [queueId, { queue }] of policies) {
        const thresholds = queueAlertThresholds(queue);
        if (thresholds.waitingCount > 0 || thresholds.longestWaitSeconds > 0) queueIds.add(queueId);
      }
      if (queueIds.size === 0) continue;
      const now = deps.clock();
      const figures = await waitingFigures(tenantId, now);
      for (const queueId of queueIds) {
        const thresholds = queueAlertThresholds(policies.get(queueId)?.queue); // a deleted queue: off, so it resolves
        const measured = figures.get(queueId) ?? { waiting: 0, longestWaitSeconds: 0 };
        const values = { waitingCount: measured.waiting, longestWaitSeconds: measured.longestWaitSeconds };
        for (const measure of measures) {
          const key = subjectKey(tenantId, queueId, measure.name);
          const threshold = thresholds[measure.figure];
          const value = values[measure.figure];
          const isFiring = firing.get(tenantId)?.has(queueId) ?? false;
          // Nothing to read when the queue is under its threshold and has no firing alert.
          if (!isFiring && (threshold <= 0 || value < threshold)) continue;
          const changed = await deps.claims.settle(key, (phase: ThresholdPhase) => {
            const next = nextThresholdPhase(phase, value, threshold);
            return next && { phase: next, payload: { kind: measure.kind, tenantId, queueId, value, threshold } };
          });
          if (changed) published += 1;
        }
      }
    }
    return published;
  };
}
