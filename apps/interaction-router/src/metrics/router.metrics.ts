import type { Meter } from '@opentelemetry/api';
import { AgentPresence, InteractionState, type QueueStatistics } from '@mailroute/contracts';
import type { Logger } from '@mailroute/platform';
import type { InteractionHistoryRecord, Lease } from '@mailroute/persistence';
import { queueAlertThresholds, serviceLevelDueAt, slaDueSoonMs } from '@mailroute/routing-engine';
import { loadQueueStatistics } from '../routing/queue-statistics';
import type { RouterCore } from '../routing/router-core';
import type { RouterStores } from '../store/router-stores';
import { tenantPrefix } from '../store/router-keys';
import { createChangeCounters } from './change-counters';

export interface RouterMetricsOptions {
  /** How often the live queue gauges (waiting, oldest wait, offered, agents) are recomputed, ms. Default 15 s. */
  snapshotIntervalMs?: number;
  /**
   * How often the GetQueueStatistics figures (service level achieved, accepted, assigned) are
   * recomputed, ms: two scans of the interactions per tenant. Default 5 min.
   */
  statisticsIntervalMs?: number;
  /** Window of the service level achieved. Default 1 h (GetQueueStatistics' default). */
  serviceLevelWindowMs?: number;
}

export interface RouterMetricsDeps {
  meter: Meter;
  stores: Pick<RouterStores, 'config' | 'interactions' | 'leases' | 'waiting' | 'offers'>;
  logger: Logger;
  /** Owner name of the snapshot lease. */
  replicaId: string;
  options?: RouterMetricsOptions;
}

/** What the metrics read from the router core. */
export type RouterMetricsCore = Pick<RouterCore, 'clock' | 'agentViews' | 'queuePolicies'>;

export interface RouterMetrics {
  /** RouterCoreOptions.onCommitted: counts offers, timeouts, declines, assignments, completions, routing. */
  onCommitted(entry: InteractionHistoryRecord): void;
  /** Starts the snapshot loop over the core. */
  start(core: RouterMetricsCore): void;
  /** Recomputes the queue snapshot now (when this replica holds the snapshot lease); tests and start. */
  refresh(options?: { statistics?: boolean }): Promise<void>;
  /** Stops the loop and frees the snapshot lease. */
  stop(): Promise<void>;
}

const S = InteractionState;
const snapshotLeaseKey = 'interaction-router/metrics-snapshot';

interface LiveQueue {
  waiting: number;
  oldestQueuedAt: number | undefined;
  /** Waiting interactions whose first-response due time has passed / is within the due-soon window. */
  slaBreached: number;
  slaDueSoon: number;
  offered: number;
  agentsAvailable: number;
  agentsSignedIn: number;
  capacityFree: number;
  targetPercent: number;
  /** The queue's alert thresholds (QueueAlertThresholds; 0 = off). */
  alertThresholds: { waitingCount: number; longestWaitSeconds: number };
}

/**
 * The router's Prometheus metrics.
 *
 * Counters (every replica counts the changes it commits; sum over replicas):
 * `mailroute_router_interactions_routed_total{tenant,queue,by=rule|default}`,
 * `…_unrouted_total{tenant}`, `…_discarded_total{tenant}`, `…_overflowed_total{tenant,queue}` (the
 * queue overflowed to), `mailroute_router_offers_total{tenant,queue,kind=routed|affinity|transfer}`,
 * `mailroute_router_offers_timed_out_total{tenant,queue}`, `mailroute_router_offers_declined_total{tenant,queue}`,
 * `mailroute_router_interactions_assigned_total{tenant,queue,by=offer|supervisor,within_service_level=true|false}`,
 * `mailroute_router_interactions_completed_total{tenant,queue}`.
 *
 * Queue gauges `mailroute_router_queue_*{tenant,queue}` come from a snapshot that ONE replica (the
 * holder of a lease; the others export none) recomputes: every `snapshotIntervalMs` the live figures
 * from the `_id`-keyed indexes (waiting, offers, agents — no scan of the interactions), and every
 * `statisticsIntervalMs` the GetQueueStatistics figures (service level, accepted, assigned), which
 * cost two scans of the interactions collection per tenant on FerretDB v1. Tenants one at a time.
 */
/** The defaults of RouterMetricsOptions: live figures every 15 s, statistics every 5 min over a one-hour service-level window. */
const defaultRouterMetricsOptions = {
  snapshotIntervalMs: 15_000,
  statisticsIntervalMs: 300_000,
  serviceLevelWindowMs: 3_600_000,
} as const;

export function createRouterMetrics(deps: RouterMetricsDeps): RouterMetrics {
  const { meter, stores, logger } = deps;
  const intervalMs = deps.options?.snapshotIntervalMs ?? defaultRouterMetricsOptions.snapshotIntervalMs;
  const statisticsIntervalMs = deps.options?.statisticsIntervalMs ?? defaultRouterMetricsOptions.statisticsIntervalMs;
  const windowMs = deps.options?.serviceLevelWindowMs ?? defaultRouterMetricsOptions.serviceLevelWindowMs;
  const leaseMs = Math.max(4 * intervalMs, 60_000);
  let core: RouterMetricsCore | undefined;

  const count = createChangeCounters(meter, () => core);

  // ---- the queue snapshot ----
  /** The snapshot lease while this replica holds it. */
  let lease: Lease | undefined;
  let live = new Map<string, Map<string, LiveQueue>>();
  let statistics = new Map<string, QueueStatistics>();
  let statisticsAt: number | undefined;
  let lastDurationMs: number | undefined;
  let lastStatisticsDurationMs: number | undefined;
  const gauge = (name: string, description: string, unit?: string) =>
    meter.createObservableGauge(name, { description, ...(unit ? { unit } : {}) });
  const gauges = {
    waiting: gauge('mailroute_router_queue_waiting', 'Interactions waiting in the queue (QUEUED)'),
    offered: gauge('mailroute_router_queue_offered', 'Interactions offered to an agent, not yet answered'),
    oldestWait: gauge(
      'mailroute_router_queue_oldest_wait_seconds',
      'How long the longest-waiting interaction has waited (0 when none waits)',
      's',
    ),
    agentsAvailable: gauge('mailroute_router_queue_agents_available', 'Agents of the queue signed in and AVAILABLE'),
    agentsSignedIn: gauge('mailroute_router_queue_agents_signed_in', 'Agents of the queue signed in (any presence but offline)'),
    capacityFree: gauge(
      'mailroute_router_queue_capacity_free',
      'Free capacity of the queue’s agents (total minus active and pending)',
    ),
    serviceLevelTarget: gauge('mailroute_router_queue_service_level_target_percent', 'The queue’s service-level target'),
    slaBreached: gauge(
      'mailroute_router_queue_sla_breached',
      'Waiting interactions past their first-response due time (service_level_due_at)',
    ),
    slaDueSoon: gauge(
      'mailroute_router_queue_sla_due_soon',
      'Waiting interactions within the queue’s due-soon window of their first-response due time',
    ),
    waitingThreshold: gauge(
      'mailroute_router_queue_waiting_alert_threshold',
      'The queue’s waiting-count alert threshold (when set)',
    ),
    longestWaitThreshold: gauge(
      'mailroute_router_queue_longest_wait_alert_threshold_seconds',
      'The queue’s longest-wait alert threshold (when set)',
      's',
    ),
  };
  const statisticGauges = {
    assigned: gauge(
      'mailroute_router_queue_assigned',
      'Interactions held by agents (ASSIGNED or REPLIED), from the statistics snapshot',
    ),
    serviceLevel: gauge(
      'mailroute_router_queue_service_level_percent',
      'Service level achieved: % of interactions accepted in the last window within the queue threshold (100 when none), from the statistics snapshot',
    ),
    accepted: gauge(
      'mailroute_router_queue_accepted_in_window',
      'Interactions accepted in the service-level window (the base of the percentage), from the statistics snapshot',
    ),
    age: gauge(
      'mailroute_router_queue_statistics_age_seconds',
      'Age of the statistics snapshot (service level, accepted, assigned)',
      's',
    ),
  };
  const duration = gauge(
    'mailroute_router_queue_snapshot_duration_seconds',
    'How long the last live queue snapshot took (this replica computes it)',
    's',
  );
  const statisticsDuration = gauge(
    'mailroute_router_queue_statistics_duration_seconds',
    'How long the last statistics snapshot took (two interaction scans per tenant)',
    's',
  );
  meter.addBatchObservableCallback(
    (result) => {
      // Only while holding the lease: at any moment at most one replica exports the queue gauges.
      if (!lease || lease.expiresAt.getTime() <= Date.now()) return;
      const now = core?.clock() ?? Date.now();
      for (const [tenant, queues] of live) {
        for (const [queue, q] of queues) {
          const labels = { tenant, queue };
          result.observe(gauges.waiting, q.waiting, labels);
          result.observe(gauges.offered, q.offered, labels);
          result.observe(
            gauges.oldestWait,
            q.oldestQueuedAt === undefined ? 0 : Math.max(0, now - q.oldestQueuedAt) / 1000,
            labels,
          );
          result.observe(gauges.agentsAvailable, q.agentsAvailable, labels);
          result.observe(gauges.agentsSignedIn, q.agentsSignedIn, labels);
          result.observe(gauges.capacityFree, q.capacityFree, labels);
          result.observe(gauges.serviceLevelTarget, q.targetPercent, labels);
          result.observe(gauges.slaBreached, q.slaBreached, labels);
          result.observe(gauges.slaDueSoon, q.slaDueSoon, labels);
          const { waitingCount, longestWaitSeconds } = q.alertThresholds;
          if (waitingCount > 0) result.observe(gauges.waitingThreshold, waitingCount, labels);
          if (longestWaitSeconds > 0) result.observe(gauges.longestWaitThreshold, longestWaitSeconds, labels);
          const s = statistics.get(`${tenant}/${queue}`);
          if (!s) continue;
          result.observe(statisticGauges.assigned, s.assigned, labels);
          result.observe(statisticGauges.serviceLevel, s.serviceLevel?.achievedPercent ?? 100, labels);
          result.observe(statisticGauges.accepted, s.acceptedInWindow, labels);
          if (statisticsAt !== undefined) result.observe(statisticGauges.age, Math.max(0, now - statisticsAt) / 1000, labels);
        }
      }
      if (lastDurationMs !== undefined) result.observe(duration, lastDurationMs / 1000);
      if (lastStatisticsDurationMs !== undefined) result.observe(statisticsDuration, lastStatisticsDurationMs / 1000);
    },
    [...Object.values(gauges), ...Object.values(statisticGauges), duration, statisticsDuration],
  );

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  /** Holds the snapshot lease (renewed past half its life), so one replica reads at a time. */
  async function holdLease(now: number): Promise<boolean> {
    if (lease && lease.expiresAt.getTime() - now > leaseMs / 2) return true;
    const held = lease;
    // Forgotten before anything can fail: a renewal that throws half-way must not look held.
    lease = undefined;
    if (held && held.expiresAt.getTime() > now) await stores.leases.release(held);
    lease = await stores.leases.tryAcquire(snapshotLeaseKey, deps.replicaId, leaseMs, new Date(now));
    return lease !== undefined;
  }

  /** Tenants with at least one queue: a walk over the configuration keys (`<tenant>/<kind>/<id>`). */
  async function tenantsWithQueues(): Promise<string[]> {
    const tenants = new Set<string>();
    let after = '';
    for (;;) {
      const page = await stores.config.page(after, 500);
      for (const { key } of page) {
        const [tenant, kind] = key.split('/');
        if (tenant && kind === 'queue') tenants.add(tenant);
      }
      const last = page[page.length - 1];
      if (!last || page.length < 500) return [...tenants];
      after = last.key;
    }
  }

  /** A tenant's live figures: the waiting and offer indexes, an `_id` read per open offer, the agents. */
  async function liveQueues(routerCore: RouterMetricsCore, tenant: string): Promise<Map<string, LiveQueue>> {
    const [policies, views, waiting, offered] = await Promise.all([
      routerCore.queuePolicies(tenant),
      routerCore.agentViews(tenant),
      stores.waiting.list({ prefix: tenantPrefix(tenant), limit: 1_000_000 }),
      stores.offers.list({ prefix: tenantPrefix(tenant), limit: 100_000 }),
    ]);
    const queues = new Map<string, LiveQueue>();
    for (const [queueId, { policy, queue }] of policies) {
      const members = [...views.values()].filter((view) => view.agent.queueIds.includes(queueId)).map((view) => view.snapshot);
      queues.set(queueId, {
        waiting: 0,
        oldestQueuedAt: undefined,
        slaBreached: 0,
        slaDueSoon: 0,
        offered: 0,
        agentsAvailable: members.filter((m) => m.presence === AgentPresence.AGENT_PRESENCE_AVAILABLE).length,
        agentsSignedIn: members.filter((m) => m.presence !== AgentPresence.AGENT_PRESENCE_OFFLINE).length,
        capacityFree: Math.max(
          0,
          members.reduce((sum, m) => sum + m.capacity - m.activeInteractions - m.pendingOffers, 0),
        ),
        targetPercent: policy.serviceLevel.targetPercent,
        alertThresholds: queueAlertThresholds(queue),
      });
    }
    const now = routerCore.clock();
    for (const { document } of waiting) {
      const queue = queues.get(document.queueId);
      const policy = policies.get(document.queueId)?.policy;
      if (!queue || !policy) continue;
      queue.waiting += 1;
      queue.oldestQueuedAt = Math.min(queue.oldestQueuedAt ?? document.queuedAt, document.queuedAt);
      // The waiting index has no due time: it is the queue's threshold after queuedAt, as intake sets it.
      const dueAt = serviceLevelDueAt(policy, document.queuedAt);
      if (now > dueAt) queue.slaBreached += 1;
      else if (now >= dueAt - slaDueSoonMs(policy)) queue.slaDueSoon += 1;
    }
    // The offer index names no queue: read each offered interaction by its `_id` (bounded by agent capacity).
    for (let start = 0; start < offered.length; start += 16) {
      const records = await Promise.all(
        offered.slice(start, start + 16).map(({ key }) => stores.interactions.get(tenant, key.slice(tenant.length + 1))),
      );
      for (const record of records) {
        const queue = record?.state === S.INTERACTION_STATE_OFFERED ? queues.get(record.queueId ?? '') : undefined;
        if (queue) queue.offered += 1;
      }
    }
    return queues;
  }

  /** Exports nothing (another replica holds the lease, or this one lost it). */
  function forget(): void {
    live = new Map();
    statistics = new Map();
    statisticsAt = undefined;
    lastDurationMs = undefined;
    lastStatisticsDurationMs = undefined;
  }

  async function computeSnapshot(withStatistics: boolean | undefined): Promise<void> {
    const routerCore = core;
    if (!routerCore) return;
    const started = Date.now();
    const holding = await holdLease(started).catch((error: unknown) => {
      forget();
      throw error;
    });
    if (!holding) return forget();
    const tenants = await tenantsWithQueues();
    const nextLive = new Map<string, Map<string, LiveQueue>>();
    for (const tenant of tenants) {
      if (stopped) return;
      try {
        nextLive.set(tenant, await liveQueues(routerCore, tenant));
      } catch (error) {
        // Keep the tenant's previous figures rather than report its queues as empty.
        logger.warn(
          { err: error, tenantId: tenant },
          'interaction-router: queue metrics of a tenant failed; keeping the previous figures',
        );
        const previous = live.get(tenant);
        if (previous) nextLive.set(tenant, previous);
      }
    }
    live = nextLive;
    lastDurationMs = Date.now() - started;

    const due = withStatistics ?? (statisticsAt === undefined || Date.now() - statisticsAt >= statisticsIntervalMs);
    if (!due) return;
    const statisticsStarted = Date.now();
    const next = new Map<string, QueueStatistics>();
    for (const tenant of tenants) {
      if (stopped) return;
      try {
        for (const s of await loadQueueStatistics({ core: routerCore, stores }, tenant, undefined, windowMs))
          next.set(`${tenant}/${s.queueId}`, s);
      } catch (error) {
        logger.warn(
          { err: error, tenantId: tenant },
          'interaction-router: queue statistics of a tenant failed; keeping the previous figures',
        );
        for (const [key, s] of statistics) if (key.startsWith(`${tenant}/`)) next.set(key, s);
      }
    }
    statistics = next;
    statisticsAt = statisticsStarted;
    lastStatisticsDurationMs = Date.now() - statisticsStarted;
  }

  function refresh(options: { statistics?: boolean } = {}): Promise<void> {
    // A refresh asked for while one runs waits for it, then runs its own (it may want the statistics).
    const previous = running ?? Promise.resolve();
    const next = previous
      .then(() => computeSnapshot(options.statistics))
      .catch((error: unknown) => logger.warn({ err: error }, 'interaction-router: queue metrics snapshot failed'))
      .finally(() => {
        if (running === next) running = undefined;
      });
    running = next;
    return next;
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      void refresh().finally(() => schedule(intervalMs));
    }, delayMs);
    timer.unref();
  }

  return {
    onCommitted(entry) {
      try {
        count(entry);
      } catch (error) {
        logger.debug({ err: error }, 'interaction-router: counting a change failed');
      }
    },
    start(routerCore) {
      core = routerCore;
      schedule(0);
    },
    refresh,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      if (lease) await stores.leases.release(lease).catch(() => undefined);
      lease = undefined;
    },
  };
}
