import { eventTopics, fromEventMessage, events, type EventBus, type Subscription } from '@mailroute/messaging';
import { InteractionState } from '@mailroute/contracts';
import type { Logger } from '@mailroute/platform';
import { type Lease, type LeaseRepository, withStoreStep } from '@mailroute/persistence';
import type { RouterCore } from './router-core';
import type { SendResultHandler } from '../results/send-results';
import { plannerLeaseKey } from '../store/router-keys';

export interface RouterRuntimeOptions {
  core: RouterCore;
  sendResults: SendResultHandler;
  bus: EventBus;
  /** Planner leases shared by the replicas. */
  leases: LeaseRepository;
  /** Owner name in the leases. */
  replicaId: string;
  /** How long a planner lease lasts; a dead planner's tenants are taken over after at most this. Default 5 s. */
  plannerLeaseMs?: number;
  logger: Logger;
  /** Consumer group of the inbound-email consumer, shared by replicas. Default "interaction-router". */
  groupId?: string;
  /** Where a new consumer group starts. Default true (nothing published earlier is lost). */
  fromBeginning?: boolean;
  /** Plan each known tenant at least this often (other replicas' changes are seen this way). Default 1000 ms. */
  pollIntervalMs?: number;
  /** Delay that batches planning triggers. Default 20 ms. */
  debounceMs?: number;
  /** Least time between the starts of two planning passes of one tenant (each pass reads the agents' state). Default 200 ms. */
  minPassIntervalMs?: number;
  /** How often the tenants with waiting or offered work are looked up in the store (a scan). Default 10 000 ms. */
  tenantDiscoveryMs?: number;
  /** How often lapsed offers are swept. Default 500 ms. */
  sweepIntervalMs?: number;
  /**
   * How often the outbox relay publishes what was committed but not published (changes, accepted
   * replies) 5 s or more ago — after a bus outage, the delay before a reply goes out. Default 5000 ms.
   */
  relayIntervalMs?: number;
  /** How often the alert sweep runs (SLA due soon / breached, queue thresholds; relay and pruning of claims). Default 15 000 ms. */
  alertSweepIntervalMs?: number;
}

/** The defaults of RouterRuntimeOptions (documented there). */
const defaultRouterRuntimeOptions = {
  plannerLeaseMs: 5_000,
  groupId: 'interaction-router',
  fromBeginning: true,
  pollIntervalMs: 1_000,
  debounceMs: 20,
  minPassIntervalMs: 200,
  tenantDiscoveryMs: 10_000,
  sweepIntervalMs: 500,
  relayIntervalMs: 5_000,
  alertSweepIntervalMs: 15_000,
} as const;

/** RouterRuntimeOptions with every default applied: the one place they are merged. */
function resolveRouterRuntimeOptions(options: RouterRuntimeOptions) {
  const d = defaultRouterRuntimeOptions;
  return {
    ...options,
    plannerLeaseMs: options.plannerLeaseMs ?? d.plannerLeaseMs,
    groupId: options.groupId ?? d.groupId,
    fromBeginning: options.fromBeginning ?? d.fromBeginning,
    pollIntervalMs: options.pollIntervalMs ?? d.pollIntervalMs,
    debounceMs: options.debounceMs ?? d.debounceMs,
    minPassIntervalMs: options.minPassIntervalMs ?? d.minPassIntervalMs,
    tenantDiscoveryMs: options.tenantDiscoveryMs ?? d.tenantDiscoveryMs,
    sweepIntervalMs: options.sweepIntervalMs ?? d.sweepIntervalMs,
    relayIntervalMs: options.relayIntervalMs ?? d.relayIntervalMs,
    alertSweepIntervalMs: options.alertSweepIntervalMs ?? d.alertSweepIntervalMs,
  };
}

/**
 * The router's background work on one replica: consumes InboundEmail and OutboundResult, plans
 * tenants on events (debounced), at the plan's `nextWakeAt` and on a poll, sweeps lapsed offers,
 * frees leaked capacity slots, relays unpublished events and publishes SLA and queue alerts.
 *
 * One replica plans a tenant at a time: it holds the tenant's planner lease (a unique-insert lease,
 * renewed while it plans). Others skip the tenant until the lease lapses, so replicas don't plan
 * the same interactions and lose each other's races; their changes (intake, declines, completions)
 * are seen by the planner's poll. Correctness never rests on the lease: every offer is still a
 * capacity-slot claim plus a version claim.
 */
export function createRouterRuntime(input: RouterRuntimeOptions) {
  const options = resolveRouterRuntimeOptions(input);
  const { core, bus, logger } = options;
  const pollMs = options.pollIntervalMs;
  const debounceMs = options.debounceMs;
  const tenants = new Set<string>();
  const pending = new Set<string>();
  const running = new Map<string, Promise<void>>();
  const wakeTimers = new Map<string, NodeJS.Timeout>();
  const timers: NodeJS.Timeout[] = [];
  let subscription: Subscription | undefined;
  let resultSubscription: Subscription | undefined;
  let changeSubscription: Subscription | undefined;
  const minPassMs = options.minPassIntervalMs;
  const lastPassAt = new Map<string, number>();
  let debounce: NodeJS.Timeout | undefined;
  let stopped = false;
  const leaseMs = options.plannerLeaseMs;
  const plannerLeases = new Map<string, Lease>();

  /** True when this replica holds (or just took) the tenant's planner lease; renews it past half its life. */
  async function holdPlanner(tenantId: string): Promise<boolean> {
    const now = Date.now();
    const held = plannerLeases.get(tenantId);
    if (held && held.expiresAt.getTime() - now > leaseMs / 2) return true;
    plannerLeases.delete(tenantId);
    // Renewal is release + the next epoch (leases are unique inserts); another replica may take it in between, which is fine.
    if (held && held.expiresAt.getTime() > now) await options.leases.release(held);
    const lease = await options.leases.tryAcquire(plannerLeaseKey(tenantId), options.replicaId, leaseMs, new Date(now));
    if (lease) plannerLeases.set(tenantId, lease);
    else core.forgetWaiting(tenantId); // another replica plans it now; a view kept here would go stale
    return lease !== undefined;
  }

  async function planOnce(tenantId: string): Promise<void> {
    try {
      if (!(await holdPlanner(tenantId))) return; // another replica plans it; the poll retries
      const result = await core.planTenant(tenantId);
      clearTimeout(wakeTimers.get(tenantId));
      if (result.nextWakeAt !== undefined && !stopped) {
        const delay = Math.max(0, Math.min(result.nextWakeAt - core.clock(), 2 ** 31 - 1));
        wakeTimers.set(
          tenantId,
          setTimeout(() => trigger(tenantId), delay + 5),
        );
      }
    } catch (error) {
      logger.warn({ err: error, tenantId }, 'router: planning pass failed; retrying on the next trigger');
    }
  }

  function flush(): void {
    debounce = undefined;
    const now = Date.now();
    let soonest: number | undefined;
    for (const tenantId of [...pending]) {
      if (running.has(tenantId)) continue; // re-run after the pass in flight
      const due = (lastPassAt.get(tenantId) ?? 0) + minPassMs;
      if (due > now) {
        soonest = Math.min(soonest ?? due, due);
        continue;
      }
      pending.delete(tenantId);
      lastPassAt.set(tenantId, now);
      const pass = withStoreStep('plan', () => planOnce(tenantId)).finally(() => {
        running.delete(tenantId);
        if (pending.has(tenantId) && !stopped) schedule();
      });
      running.set(tenantId, pass);
    }
    if (soonest !== undefined) schedule(soonest - now);
  }

  function schedule(delayMs = debounceMs): void {
    if (!debounce && !stopped) debounce = setTimeout(flush, Math.max(delayMs, debounceMs));
  }

  function trigger(tenantId: string): void {
    tenants.add(tenantId);
    pending.add(tenantId);
    schedule();
  }

  const unsubscribe = core.onWork(trigger);

  return {
    trigger,
    /** Tenants this replica plans now. */
    planning: () => [...plannerLeases.keys()],
    /** True once the inbound and the send-result consumers own partitions. */
    consuming: () =>
      (subscription?.assignments().length ?? 0) > 0 &&
      (resultSubscription?.assignments().length ?? 0) > 0 &&
      (changeSubscription?.assignments().length ?? 0) > 0,
    async start(): Promise<void> {
      await bus.ensureTopics(
        eventTopics('inboundEmail', 'interactionStateChanged', 'outboundRequest', 'outboundResult', 'alert'),
      );
      for (const tenantId of await withStoreStep('sweep', () => core.knownTenants())) trigger(tenantId);
      subscription = await bus.subscribe({
        groupId: options.groupId,
        topics: [events.inboundEmail.topic],
        fromBeginning: options.fromBeginning,
        handler: async (message) => {
          const started = performance.now();
          await withStoreStep('intake', () => core.intake(fromEventMessage('inboundEmail', message)));
          logger.debug(
            { ms: Math.round(performance.now() - started), offset: message.offset, partition: message.partition },
            'router: inbound e-mail routed',
          );
        },
      });
      resultSubscription = await bus.subscribe({
        groupId: `${options.groupId}-send-results`,
        // Requests too: a send the router did not originate (the workload-manager API) is recorded on its interaction's thread.
        topics: [events.outboundResult.topic, events.outboundRequest.topic],
        fromBeginning: options.fromBeginning,
        handler: (message) =>
          withStoreStep('send-result', async () => {
            if (message.topic === events.outboundRequest.topic) {
              const request = fromEventMessage('outboundRequest', message);
              const outcome = await options.sendResults.handleRequest(request);
              logger.debug({ sendId: request.sendId, outcome }, 'router: outbound request seen');
              return;
            }
            const result = fromEventMessage('outboundResult', message);
            const outcome = await options.sendResults.handle(result);
            logger.debug({ sendId: result.sendId, state: result.state, outcome }, 'router: outbound result recorded');
          }),
      });
      // Other replicas' changes to waiting interactions reach this replica's planner view through the
      // state-change events (a group per replica; only what happens from now on matters).
      changeSubscription = await bus.subscribe({
        groupId: `${options.groupId}-planner-${options.replicaId}`,
        ephemeralGroup: true,
        topics: [events.interactionStateChanged.topic],
        fromBeginning: false,
        handler: async (message) => {
          const change = fromEventMessage('interactionStateChanged', message);
          if (
            change.state !== InteractionState.INTERACTION_STATE_QUEUED &&
            change.previousState !== InteractionState.INTERACTION_STATE_QUEUED
          )
            return;
          core.observeChange(change.tenantId, change.interactionId);
          if (change.state === InteractionState.INTERACTION_STATE_QUEUED && plannerLeases.has(change.tenantId))
            trigger(change.tenantId);
        },
      });
      timers.push(
        setInterval(() => {
          for (const tenantId of tenants) trigger(tenantId);
        }, pollMs),
        setInterval(
          () =>
            void withStoreStep('sweep', () => core.knownTenants()).then(
              (found) => found.forEach((t) => tenants.add(t)),
              () => undefined,
            ),
          options.tenantDiscoveryMs,
        ),
        setInterval(
          () =>
            void withStoreStep('sweep', () => core.sweepExpiredOffers()).catch((error: unknown) =>
              logger.warn({ err: error }, 'router: offer sweep failed'),
            ),
          options.sweepIntervalMs,
        ),
        setInterval(
          () =>
            void withStoreStep('sweep', () => core.relayUnpublished()).catch((error: unknown) =>
              logger.warn({ err: error }, 'router: outbox relay failed'),
            ),
          options.relayIntervalMs,
        ),
        setInterval(
          () =>
            void withStoreStep('sweep', () => core.sweepAlerts()).catch((error: unknown) =>
              logger.warn({ err: error }, 'router: alert sweep failed'),
            ),
          options.alertSweepIntervalMs,
        ),
        setInterval(() => {
          for (const tenantId of tenants) void withStoreStep('sweep', () => core.reconcileSlots(tenantId)).catch(() => undefined);
        }, 10_000),
      );
    },
    async stop(): Promise<void> {
      stopped = true;
      unsubscribe();
      timers.forEach(clearInterval);
      clearTimeout(debounce);
      wakeTimers.forEach(clearTimeout);
      await Promise.all([
        subscription?.close({ graceMs: 5_000 }),
        resultSubscription?.close({ graceMs: 5_000 }),
        changeSubscription?.close({ graceMs: 1_000 }),
      ]);
      await Promise.allSettled(running.values());
      // Hand the tenants over at once instead of after the lease's expiry.
      await Promise.allSettled([...plannerLeases.values()].map((lease) => options.leases.release(lease)));
      plannerLeases.clear();
    },
  };
}

export type RouterRuntime = ReturnType<typeof createRouterRuntime>;
