import { fromEventMessage, events, type EventBus, type Subscription } from '@mailroute/messaging';
import { InteractionState } from '@mailroute/contracts';
import type { Logger } from '@mailroute/platform';
import type { RouterCore } from './router-core';

export interface RouterRuntimeOptions {
  core: RouterCore;
  bus: EventBus;
  logger: Logger;
  /** Consumer group of the inbound-email consumer, shared by replicas. Default "interaction-router". */
  groupId?: string;
  /** Where a new consumer group starts. Default true (nothing published earlier is lost). */
  fromBeginning?: boolean;
  /** Plan each known tenant at least this often (other replicas' changes are seen this way). Default 1000 ms. */
  pollIntervalMs?: number;
  /** Delay that batches planning triggers. Default 20 ms. */
  debounceMs?: number;
  /** How often lapsed offers are swept. Default 500 ms. */
  sweepIntervalMs?: number;
}

/**
 * The router's background work on one replica: consumes InboundEmail, plans tenants on events
 * (debounced), at the plan's `nextWakeAt` and on a poll, sweeps lapsed offers, frees leaked
 * capacity slots and relays unpublished events.
 */
export function createRouterRuntime(options: RouterRuntimeOptions) {
  const { core, bus, logger } = options;
  const pollMs = options.pollIntervalMs ?? 1000;
  const debounceMs = options.debounceMs ?? 20;
  const tenants = new Set<string>();
  const pending = new Set<string>();
  const running = new Map<string, Promise<void>>();
  const wakeTimers = new Map<string, NodeJS.Timeout>();
  const timers: NodeJS.Timeout[] = [];
  let subscription: Subscription | undefined;
  let debounce: NodeJS.Timeout | undefined;
  let stopped = false;

  async function planOnce(tenantId: string): Promise<void> {
    try {
      const result = await core.planTenant(tenantId);
      clearTimeout(wakeTimers.get(tenantId));
      if (result.nextWakeAt !== undefined && !stopped) {
        const delay = Math.max(0, Math.min(result.nextWakeAt - core.clock(), 2 ** 31 - 1));
        wakeTimers.set(tenantId, setTimeout(() => trigger(tenantId), delay + 5));
      }
    } catch (error) {
      logger.warn({ err: error, tenantId }, 'router: planning pass failed; retrying on the next trigger');
    }
  }

  function flush(): void {
    debounce = undefined;
    for (const tenantId of [...pending]) {
      if (running.has(tenantId)) continue; // re-run after the pass in flight
      pending.delete(tenantId);
      const pass = planOnce(tenantId).finally(() => {
        running.delete(tenantId);
        if (pending.has(tenantId) && !stopped) schedule();
      });
      running.set(tenantId, pass);
    }
  }

  function schedule(): void {
    if (!debounce && !stopped) debounce = setTimeout(flush, debounceMs);
  }

  function trigger(tenantId: string): void {
    tenants.add(tenantId);
    pending.add(tenantId);
    schedule();
  }

  const unsubscribe = core.onWork(trigger);

  return {
    trigger,
    /** True once the inbound consumer owns partitions. */
    consuming: () => (subscription?.assignments().length ?? 0) > 0,
    async start(): Promise<void> {
      await bus.ensureTopics([
        { topic: events.inboundEmail.topic, partitions: 8 },
        { topic: events.interactionStateChanged.topic, partitions: 8 },
        { topic: events.outboundRequest.topic, partitions: 8 },
        { topic: events.outboundResult.topic, partitions: 8 },
      ]);
      for (const tenantId of await core.knownTenants()) trigger(tenantId);
      subscription = await bus.subscribe({
        groupId: options.groupId ?? 'interaction-router',
        topics: [events.inboundEmail.topic],
        fromBeginning: options.fromBeginning ?? true,
        handler: async (message) => {
          const started = performance.now();
          await core.intake(fromEventMessage('inboundEmail', message));
          logger.debug({ ms: Math.round(performance.now() - started), offset: message.offset, partition: message.partition }, 'router: inbound e-mail routed');
        },
      });
      timers.push(
        setInterval(() => {
          for (const tenantId of tenants) trigger(tenantId);
          void core.knownTenants().then((found) => found.forEach((t) => tenants.add(t)), () => undefined);
        }, pollMs),
        setInterval(() => void core.sweepExpiredOffers().catch((error: unknown) => logger.warn({ err: error }, 'router: offer sweep failed')), options.sweepIntervalMs ?? 500),
        setInterval(() => {
          void core.relayUnpublished().catch((error: unknown) => logger.warn({ err: error }, 'router: event relay failed'));
          for (const tenantId of tenants) void core.reconcileSlots(tenantId).catch(() => undefined);
        }, 10_000),
      );
    },
    async stop(): Promise<void> {
      stopped = true;
      unsubscribe();
      timers.forEach(clearInterval);
      clearTimeout(debounce);
      wakeTimers.forEach(clearTimeout);
      await subscription?.close({ graceMs: 5_000 });
      await Promise.allSettled(running.values());
    },
  };
}

export const workingStates = [InteractionState.INTERACTION_STATE_QUEUED, InteractionState.INTERACTION_STATE_OFFERED];
export type RouterRuntime = ReturnType<typeof createRouterRuntime>;
