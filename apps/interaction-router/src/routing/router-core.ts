import type { EventBus } from '@mailroute/messaging';
import type { Logger } from '@mailroute/platform';
import type { InteractionHistoryRecord } from '@mailroute/persistence';
import { createAlertSweep } from '../alerts/alert-sweep';
import { createAlertPublisher, type PublishAlert } from '../alerts/router-alerts';
import { createCapacitySlots } from '../capacity/capacity-slots';
import { createChangeCommits } from '../changes/change-commit';
import { createChangePublisher } from '../changes/change-events';
import { createChangeIndexes } from '../changes/change-indexes';
import { createRereadOnConflict } from '../changes/reread-on-conflict';
import { createAcknowledgements } from '../intake/acknowledgement';
import { createIntake } from '../intake/intake';
import { createInteractionReferences } from '../intake/interaction-references';
import { createPlanner } from '../planning/planner';
import { createWaitingView } from '../planning/waiting-view';
import { createAgentViews } from '../read-models/agent-views';
import { createConfigSnapshots } from '../read-models/config-snapshots';
import { tenantsWithWork } from '../read-models/tenants-with-work';
import { createMarkerRemoval } from '../changes/marker-removal';
import { createSendOutbox } from '../replies/send-outbox';
import type { RouterStores } from '../store/router-stores';
import { createOfferExpirySweep } from '../sweeps/offer-expiry';
import { createOutboxRelay } from '../sweeps/outbox-relay';
import { createSlotReconcileSweep } from '../sweeps/slot-reconcile';
import { parseChangeOutboxKey } from '../store/router-keys';
import { createConfigRepository } from './config-repository';
import { offerIdOf } from './interaction-mapping';

export interface RouterCoreOptions {
  stores: RouterStores;
  bus: EventBus;
  logger: Logger;
  clock?: () => number;
  /** An agent whose stream has not been seen for this long gets no new offers. Default 20 s. */
  sessionTtlMs?: number;
  /** How long tenant configuration is reused by planning and intake, ms. Default 1000. */
  configCacheMs?: number;
  /** Most QUEUED interactions one planning pass considers (and the planner holds in memory) per tenant. Default 5000; see planning/waiting-view.ts. */
  maxWaitingPerPlan?: number;
  /** How many of a planning pass's offers (and escalations) are committed at once. Default 16. */
  commitConcurrency?: number;
  /**
   * The planner keeps the tenants it plans' waiting interactions in memory: read whole once, then
   * kept current by its own changes and by `observeChange` (other replicas' changes, from the
   * state-change events), and read whole again after this long. Default 30 000 ms.
   */
  waitingReloadMs?: number;
  /**
   * How long a change's commit (and so a desktop call: Accept, Decline, Complete, Transfer…) waits
   * for its InteractionStateChanged to reach the bus, ms. Past it the change stands and its outbox
   * marker has the publication finished (by this call in the background, else by the relay).
   * Default 1000.
   */
  publishWaitMs?: number;
  /** Where SLA and queue alerts are published. Default: the bus's alert topic (mailroute.alert.v1). */
  publishAlert?: PublishAlert;
  /**
   * An alert claimed but not published this long ago is published by the next alert sweep (its
   * claimer died or the bus failed). Default 30 000 ms.
   */
  alertRelayAfterMs?: number;
  /**
   * Published alert claims are deleted this long after publication, once their subject is done (an
   * SLA claim once its interaction no longer owes a first response; a queue alert once resolved).
   * Default 7 days.
   */
  alertRetentionMs?: number;
  /** Called once per committed change (after its version is stored, before indexes and event); must not throw. */
  onCommitted?(entry: InteractionHistoryRecord): void;
}

/** The defaults of RouterCoreOptions (documented there), and how long a compiled rule set is reused. */
export const defaultRouterCoreOptions = {
  sessionTtlMs: 20_000,
  configCacheMs: 1_000,
  ruleSetCacheMs: 2_000,
  maxWaitingPerPlan: 5_000,
  commitConcurrency: 16,
  waitingReloadMs: 30_000,
  publishWaitMs: 1_000,
  alertRelayAfterMs: 30_000,
  alertRetentionMs: 7 * 86_400_000,
} as const;

/** RouterCoreOptions with every default applied: the one place they are merged. */
function resolveRouterCoreOptions(options: RouterCoreOptions) {
  const d = defaultRouterCoreOptions;
  return {
    ...options,
    clock: options.clock ?? Date.now,
    sessionTtlMs: options.sessionTtlMs ?? d.sessionTtlMs,
    configCacheMs: options.configCacheMs ?? d.configCacheMs,
    ruleSetCacheMs: d.ruleSetCacheMs,
    maxWaitingPerPlan: options.maxWaitingPerPlan ?? d.maxWaitingPerPlan,
    commitConcurrency: options.commitConcurrency ?? d.commitConcurrency,
    waitingReloadMs: options.waitingReloadMs ?? d.waitingReloadMs,
    publishWaitMs: options.publishWaitMs ?? d.publishWaitMs,
    publishAlert: options.publishAlert ?? createAlertPublisher(options.bus),
    alertRelayAfterMs: options.alertRelayAfterMs ?? d.alertRelayAfterMs,
    alertRetentionMs: options.alertRetentionMs ?? d.alertRetentionMs,
  };
}

/**
 * The router's use cases over its stores and the bus, composed from one module per concern: the
 * engine decides; changes/ commits each decision with a unique insert (the interaction's next history
 * version; capacity/: an agent's capacity slot) and publishes one InteractionStateChanged per
 * committed change; intake/, planning/ and sweeps/ are the flows; read-models/ what they read.
 */
export function createRouterCore(input: RouterCoreOptions) {
  const options = resolveRouterCoreOptions(input);
  const { stores, bus, logger, clock } = options;
  const config = createConfigRepository(stores.config);
  const listeners = new Set<(tenantId: string) => void>();
  const notifyWork = (tenantId: string): void => {
    for (const listener of listeners) listener(tenantId);
  };
  // Outbox markers of published replies, deleted in batches; published changes, marked in batches (one round trip per batch).
  const markers = createMarkerRemoval({ removeBatch: (keys) => stores.outbox.deleteMany(keys) });
  const publishedChanges = createMarkerRemoval({
    removeBatch: (keys) => stores.interactions.markPublished(keys.map(parseChangeOutboxKey)),
  });
  const sendOutbox = createSendOutbox({ stores, bus, logger, clock, markers });
  const snapshots = createConfigSnapshots({
    config,
    clock,
    cacheMs: options.configCacheMs,
    ruleSetCacheMs: options.ruleSetCacheMs,
    onInvalidCalendar: (calendarId, error) =>
      logger.warn({ err: error, calendarId }, 'router: stored calendar is invalid; its queues are always open'),
  });
  const cachedConfig = { get: snapshots.cachedGet };
  const agentViews = createAgentViews({ stores, snapshots, clock, sessionTtlMs: options.sessionTtlMs });
  const waitingView = createWaitingView({
    stores,
    clock,
    reloadMs: options.waitingReloadMs,
    maxEntries: options.maxWaitingPerPlan,
  });
  const slots = createCapacitySlots({ stores, clock });
  const indexes = createChangeIndexes({ stores, waitingView });
  const publishChange = createChangePublisher(bus);
  const commits = createChangeCommits({
    stores,
    logger,
    clock,
    indexes,
    publishChange,
    publishWaitMs: options.publishWaitMs,
    published: publishedChanges,
    onCommitted: options.onCommitted,
  });
  const rereadOnConflict = createRereadOnConflict(stores);
  const references = createInteractionReferences({ stores });

  return {
    config,
    /** Configuration reads reused for configCacheMs (dropped by invalidateRules): for hot paths that can live with that. */
    cachedConfig,
    clock,
    /** Tenants with waiting or offered interactions. */
    knownTenants: () => tenantsWithWork(stores),
    agentInteractions: slots.agentInteractions,
    applyChange: commits.applyChange,
    rereadOnConflict,
    claimSlot: slots.claimSlot,
    undoClaim: slots.undoClaim,
    releaseSlot: slots.releaseSlot,
    markSlotAssigned: slots.markSlotAssigned,
    agentViews,
    queuePolicies: snapshots.queuePolicies,
    intake: createIntake({
      stores,
      clock,
      commits,
      rereadOnConflict,
      snapshots,
      notifyWork,
      acknowledge: createAcknowledgements({ stores, config: cachedConfig, sendOutbox, references, logger }),
      references,
    }),
    planTenant: createPlanner({
      stores,
      logger,
      clock,
      snapshots,
      agentViews,
      waitingView,
      indexes,
      commits,
      slots,
      commitConcurrency: options.commitConcurrency,
    }),
    sweepExpiredOffers: createOfferExpirySweep({ stores, clock, indexes, commits, slots, notifyWork }),
    reconcileSlots: createSlotReconcileSweep({ stores, clock, indexes, notifyWork }),
    sweepAlerts: createAlertSweep({
      stores,
      clock,
      queuePolicies: snapshots.queuePolicies,
      publishAlert: options.publishAlert,
      relayAfterMs: options.alertRelayAfterMs,
      retentionMs: options.alertRetentionMs,
    }),
    /** Removes the outbox markers of the changes and replies published so far (batched, see changes/marker-removal.ts). */
    flushMarkers: () => Promise.all([markers.flush(), publishedChanges.flush()]).then(() => undefined),
    relayUnpublished: createOutboxRelay({ stores, clock, commits, indexes, publishChange, sendOutbox }),
    /** Accepted replies: recorded with their outbox marker, published by the router (see send-outbox). */
    sendOutbox,
    notifyWork,
    /** Another replica changed an interaction's waiting entry (a state-change event): re-read it before planning. */
    observeChange: waitingView.observeChange,
    /** This replica stopped planning the tenant: its view goes stale, so drop it. */
    forgetWaiting: waitingView.forget,
    invalidateRules: snapshots.invalidate,
    onWork(listener: (tenantId: string) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    offerIdOf,
  };
}

export type RouterCore = ReturnType<typeof createRouterCore>;
