import { randomUUID } from 'node:crypto';
import { context as otelContext, trace } from '@opentelemetry/api';
import {
  AgentPresence,
  InboundMessage,
  type InboundEmail,
  InteractionState,
  StateChangeReason,
  OfferReason,
  type Agent,
  type Queue,
} from '@mailroute/contracts';
import { eventKey, toEventMessage, type EventBus, events } from '@mailroute/messaging';
import { contextFromStored, FailedPreconditionError, NotFoundError, ValidationError, type Logger } from '@mailroute/platform';
import type { InteractionHistoryRecord, InteractionRecord } from '@mailroute/persistence';
import {
  compileRuleSet,
  evaluateRules,
  planAssignments,
  serviceLevelDueAt,
  toAgentCapacity,
  toQueuePolicy,
  toSkillLevels,
  transition,
  type AgentSnapshot,
  type InteractionEvent,
  type QueuePolicy,
  type WaitingInteraction,
} from '@mailroute/routing-engine';
import type { RouterStores } from '../store/router-stores';
import { createCalendarCache } from './calendar-cache';
import { createConfigRepository } from './config-repository';
import { createSendOutbox } from '../replies/send-outbox';
import {
  mergeAutomation,
  nextOfferVersion,
  offerIdOf,
  openStates,
  receivedRecord,
  toActorRecord,
  toInteraction,
  toSnapshot,
  withSnapshot,
} from './interaction-mapping';

export interface RouterCoreOptions {
  stores: RouterStores;
  bus: EventBus;
  logger: Logger;
  clock?: () => number;
  /** An agent whose stream has not been seen for this long gets no new offers. Default 20 s. */
  sessionTtlMs?: number;
  /** How long tenant configuration is reused by planning and intake, ms. Default 1000. */
  configCacheMs?: number;
  /** Most QUEUED interactions one planning pass considers per tenant. Default 5000. */
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
  /** Called once per committed change (after its version is stored, before indexes and event); must not throw. */
  onCommitted?(entry: InteractionHistoryRecord): void;
}

export interface ChangeExtras {
  note?: string;
  /** Extra record fields to change with the transition (tags, offer reason, counters…). */
  patch?: Partial<InteractionRecord>;
  actorName?: string;
}

const S = InteractionState;

/**
 * The router's use cases over its stores and the bus. The engine decides; this commits each decision
 * with a unique insert (the interaction's next history version; an agent's capacity slot) and
 * publishes one InteractionStateChanged per committed change.
 */
export function createRouterCore(options: RouterCoreOptions) {
  const { stores, bus, logger } = options;
  const clock = options.clock ?? Date.now;
  const sessionTtlMs = options.sessionTtlMs ?? 20_000;
  const config = createConfigRepository(stores.config);
  const listeners = new Set<(tenantId: string) => void>();
  const sendOutbox = createSendOutbox({ stores, bus, logger, clock });
  const publishWaitMs = options.publishWaitMs ?? 1_000;
  /** Outbox markers whose change this replica is still publishing: the relay leaves them alone. */
  const publishing = new Set<string>();

  // ---- capacity slots: `<tenant>/<agent>/<slot>`, slot < capacity, inserted = claimed ----
  const slotPrefix = (tenantId: string, agentId: string) => `${tenantId}/${agentId}/`;
  /**
   * Claims a free slot `< capacity` of the agent for `interactionId`. Returns the slot key, with
   * `fresh: false` when the interaction already held one (another writer's claim, which the caller
   * must not release), or undefined when the agent is full.
   */
  async function claimSlot(
    tenantId: string,
    agentId: string,
    capacity: number,
    interactionId: string,
    kind: 'offer' | 'assigned',
  ): Promise<{ key: string; fresh: boolean } | undefined> {
    const held = await stores.slots.list({ prefix: slotPrefix(tenantId, agentId), limit: 1000 });
    const existing = held.find((slot) => slot.document.interactionId === interactionId);
    if (existing) return { key: existing.key, fresh: false };
    if (held.length >= capacity) return undefined;
    const used = new Set(held.map((slot) => Number(slot.key.slice(slot.key.lastIndexOf('/') + 1))));
    for (let slot = 0; slot < capacity; slot += 1) {
      if (used.has(slot)) continue;
      const key = `${slotPrefix(tenantId, agentId)}${String(slot).padStart(3, '0')}`;
      if (await stores.slots.insert(key, { interactionId, kind, at: clock() })) return { key, fresh: true };
    }
    return undefined;
  }
  /** Gives back a claim made by `claimSlot` when the change it was for did not commit. */
  async function undoClaim(claim: { key: string; fresh: boolean } | undefined): Promise<void> {
    if (claim?.fresh) await stores.slots.delete(claim.key);
  }
  /** Frees the agent's slots held by `interactionId` (after the interaction left the agent). */
  async function releaseSlot(tenantId: string, agentId: string | undefined, interactionId: string): Promise<void> {
    if (!agentId) return;
    const held = await stores.slots.list({ prefix: slotPrefix(tenantId, agentId), limit: 1000 });
    for (const slot of held) {
      if (slot.document.interactionId !== interactionId) continue;
      await stores.slots.delete(slot.key);
      // Work that ended restarts the agent's idle time (longest-idle routing ranks by it).
      if (slot.document.kind === 'assigned') {
        await stores.activity.put(`${tenantId}/${agentId}`, { lastEndedAt: clock(), lastAssignedAt: slot.document.at });
      }
    }
  }
  async function markSlotAssigned(tenantId: string, agentId: string, interactionId: string): Promise<void> {
    const held = await stores.slots.list({ prefix: slotPrefix(tenantId, agentId), limit: 1000 });
    for (const slot of held) {
      if (slot.document.interactionId === interactionId)
        await stores.slots.put(slot.key, { ...slot.document, kind: 'assigned', at: clock() });
    }
  }

  // ---- changes ----
  async function publish(entry: InteractionHistoryRecord): Promise<void> {
    const interaction = entry.interaction;
    // A change made outside any span (planning, the offer sweep, the relay) joins the e-mail's trace
    // (the intake's context stored on the interaction), so an offer and its delivery to a desktop
    // are found under the e-mail; within a call or a consumer, the change stays in that span.
    const active = otelContext.active();
    const parent =
      trace.getSpan(active) === undefined && interaction.traceContext ? contextFromStored(interaction.traceContext) : active;
    await otelContext.with(parent, () =>
      bus.publish(
        events.interactionStateChanged.topic,
        toEventMessage('interactionStateChanged', eventKey(entry.tenantId, entry.interactionId), {
          eventId: randomUUID(),
          tenantId: entry.tenantId,
          occurredAt: new Date(entry.occurredAt),
          interactionId: entry.interactionId,
          version: entry.version,
          previousState: entry.previousState,
          state: entry.state,
          reason: entry.reason,
          actor: entry.actor,
          queueId: entry.queueId,
          agentId: entry.agentId,
          interaction: toInteraction(interaction),
        }),
      ),
    );
  }

  /** Brings the derived indexes (waiting, offers, conversation) in line with `record`. */
  /**
   * Brings the derived indexes in line with `record`. With `previousState`, the conversation is
   * only touched when the interaction opens or closes (each lookup is a scan on FerretDB v1).
   */
  async function maintainIndexes(record: InteractionRecord, previousState?: number): Promise<void> {
    const wasOpen =
      previousState !== undefined && previousState !== S.INTERACTION_STATE_RECEIVED && openStates.has(previousState);
    const conversationUnchanged = previousState !== undefined && wasOpen === openStates.has(record.state);
    // An entry can only exist when the previous state had one: skip deleting what cannot be there
    // (every write queues behind the others on FerretDB v1's SQLite backend).
    const known = previousState !== undefined;
    const waitingUntouched = known && previousState !== S.INTERACTION_STATE_QUEUED && record.state !== S.INTERACTION_STATE_QUEUED;
    const offerUntouched = known && previousState !== S.INTERACTION_STATE_OFFERED && record.state !== S.INTERACTION_STATE_OFFERED;
    // Three independent keys: written concurrently (one round trip instead of three).
    await Promise.all([
      waitingUntouched ? undefined : maintainWaiting(record),
      offerUntouched ? undefined : maintainOffer(record),
      conversationUnchanged ? undefined : maintainConversation(record),
    ]);
  }
  async function maintainWaiting(record: InteractionRecord): Promise<void> {
    const key = `${record.tenantId}/${record.interactionId}`;
    if (record.state === S.INTERACTION_STATE_QUEUED) {
      const entry: WaitingEntry = {
        version: record.version,
        queueId: record.queueId ?? '',
        priority: record.priority,
        requiredSkills: record.requiredSkills,
        queuedAt: record.queuedAt ?? record.createdAt,
        enteredQueueAt: record.enteredQueueAt ?? record.queuedAt ?? record.createdAt,
        escalationStepsApplied: record.escalationStepsApplied,
        declinedBy: record.declinedBy,
        affinity: record.affinity,
      };
      await stores.waiting.put(key, entry);
      waitingViews.get(record.tenantId)?.entries.set(record.interactionId, entry);
    } else {
      await stores.waiting.delete(key);
      waitingViews.get(record.tenantId)?.entries.delete(record.interactionId);
    }
  }

  // ---- the planner's view of waiting interactions (a scan per pass does not scale: FerretDB v1 reads every document of a range) ----
  type WaitingEntry = Parameters<RouterStores['waiting']['put']>[1];
  interface WaitingView {
    loadedAt: number;
    entries: Map<string, WaitingEntry>;
    /** Interactions another replica changed since; re-read by `_id` before the next pass. */
    changed: Set<string>;
  }
  const waitingViews = new Map<string, WaitingView>();
  const waitingReloadMs = options.waitingReloadMs ?? 30_000;
  async function waitingEntries(tenantId: string): Promise<Array<[string, WaitingEntry]>> {
    let view = waitingViews.get(tenantId);
    if (!view || clock() - view.loadedAt >= waitingReloadMs) {
      // Changes noted while the range is read are re-read after it (the range may predate them).
      const changed = view?.changed ?? new Set<string>();
      const fresh: WaitingView = { loadedAt: clock(), entries: new Map(), changed };
      // The first view is read again soon: changes published before this replica's event consumer started are not observed.
      if (!view) fresh.loadedAt -= Math.max(0, waitingReloadMs - 5_000);
      waitingViews.set(tenantId, fresh);
      const rows = await stores.waiting.list({ prefix: `${tenantId}/`, limit: options.maxWaitingPerPlan ?? 5000 });
      for (const { key, document } of rows) {
        const interactionId = key.slice(tenantId.length + 1);
        if (!fresh.entries.has(interactionId)) fresh.entries.set(interactionId, document);
      }
      view = fresh;
    }
    const current = view;
    if (current.changed.size > 0) {
      const ids = [...current.changed];
      current.changed.clear();
      await forEachLimit(ids, 16, async (interactionId) => {
        const document = await stores.waiting.get(`${tenantId}/${interactionId}`);
        if (document) current.entries.set(interactionId, document);
        else current.entries.delete(interactionId);
      });
    }
    return [...current.entries];
  }
  async function maintainOffer(record: InteractionRecord): Promise<void> {
    const key = `${record.tenantId}/${record.interactionId}`;
    if (record.state === S.INTERACTION_STATE_OFFERED && record.offeredAgentId && record.offerExpiresAt !== undefined) {
      await stores.offers.put(key, { version: record.version, agentId: record.offeredAgentId, expiresAt: record.offerExpiresAt });
    } else await stores.offers.delete(key);
  }
  async function maintainConversation(record: InteractionRecord): Promise<void> {
    if (record.conversationId && record.state !== S.INTERACTION_STATE_RECEIVED && record.state !== S.INTERACTION_STATE_MERGED) {
      const conversationKey = `${record.tenantId}/${record.conversationId}`;
      const conversation = (await stores.conversations.get(conversationKey)) ?? {};
      const open = openStates.has(record.state);
      if (open && conversation.openInteractionId !== record.interactionId) {
        await stores.conversations.put(conversationKey, { ...conversation, openInteractionId: record.interactionId });
      } else if (!open && conversation.openInteractionId === record.interactionId) {
        await stores.conversations.put(conversationKey, {
          openInteractionId: undefined,
          lastClosed:
            record.state === S.INTERACTION_STATE_COMPLETED && record.agentId && record.closedAt !== undefined
              ? { interactionId: record.interactionId, agentId: record.agentId, closedAt: record.closedAt }
              : conversation.lastClosed,
        });
      }
    }
  }

  /**
   * Commits a change. An outbox marker is written first and removed once the indexes are updated
   * and the event is published, so a crash in between is finished by the relay on any replica.
   */
  async function commitEntry(entry: InteractionHistoryRecord): Promise<boolean> {
    const outboxKey = `${entry.tenantId}/${entry.interactionId}/${String(entry.version).padStart(10, '0')}/${randomUUID()}`;
    await stores.outbox.insert(outboxKey, { at: clock() }); // a fresh key: an insert, cheaper than an upsert
    if ((await stores.interactions.commit(entry)) === 'conflict') {
      await stores.outbox.delete(outboxKey);
      return false;
    }
    options.onCommitted?.(entry);
    const unfinished = (error: unknown) =>
      logger.warn(
        { err: error, interactionId: entry.interactionId },
        'router: change committed but not fully published yet; the relay finishes it',
      );
    try {
      await maintainIndexes(entry.interaction, entry.previousState);
    } catch (error) {
      unfinished(error);
      return true;
    }
    // The store is the truth: a bus outage delays the event, never the caller past publishWaitMs.
    publishing.add(outboxKey);
    const published = publish(entry)
      .then(() => stores.outbox.delete(outboxKey))
      .then(() => undefined, unfinished)
      .finally(() => publishing.delete(outboxKey));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([published, new Promise<void>((resolve) => (timer = setTimeout(resolve, publishWaitMs)))]);
    clearTimeout(timer);
    return true;
  }

  /**
   * Applies one state-machine event and commits it as the next version. Undefined when another
   * writer committed first (re-read and decide again); throws FailedPreconditionError when refused.
   */
  async function applyChange(
    record: InteractionRecord,
    event: InteractionEvent,
    extras: ChangeExtras = {},
  ): Promise<InteractionRecord | undefined> {
    const result = transition(toSnapshot(record), event);
    if (!result.ok) throw new FailedPreconditionError(result.message, { reason: result.reason });
    const changed: InteractionRecord = {
      ...withSnapshot(record, result.next),
      ...extras.patch,
      version: result.next.version,
      updatedAt: event.at,
    };
    // One offer per interaction: a change that leaves the offer standing keeps its id.
    const next: InteractionRecord = { ...changed, offerVersion: nextOfferVersion(record, changed) };
    const entry: InteractionHistoryRecord = {
      tenantId: record.tenantId,
      interactionId: record.interactionId,
      version: next.version,
      occurredAt: event.at,
      previousState: result.change.previousState,
      state: result.change.state,
      reason: result.change.reason,
      actor: toActorRecord(result.change.actor, extras.actorName),
      queueId: next.queueId ?? '',
      agentId: result.change.agentId ?? next.agentId ?? '',
      note: extras.note ?? '',
      interaction: next,
    };
    return (await commitEntry(entry)) ? next : undefined;
  }

  /** Re-reads and re-applies `decide` until it commits (or refuses by throwing / returning undefined). */
  async function withRetry<T>(
    tenantId: string,
    interactionId: string,
    decide: (record: InteractionRecord) => Promise<T | undefined | 'retry'>,
    known?: InteractionRecord,
  ): Promise<T | undefined> {
    for (let attempt = 0; attempt < 8; attempt += 1) {
      // The first attempt may use a record just read or written (a lookup is a collection scan on FerretDB v1).
      const record = attempt === 0 && known ? known : await stores.interactions.get(tenantId, interactionId);
      if (!record) throw new NotFoundError('interaction', interactionId);
      const outcome = await decide(record);
      if (outcome !== 'retry') return outcome;
    }
    throw new FailedPreconditionError(`interaction ${interactionId} keeps changing; try again`, { retryable: true });
  }

  function notifyWork(tenantId: string): void {
    for (const listener of listeners) listener(tenantId);
  }

  // ---- configuration snapshots (cached briefly: planning runs many times a second) ----
  const configCache = new Map<string, { at: number; value: Promise<unknown> }>();
  const calendarCache = createCalendarCache({
    onInvalid: (calendarId, error) =>
      logger.warn({ err: error, calendarId }, 'router: stored calendar is invalid; its queues are always open'),
  });
  function cachedAll<K extends 'queue' | 'agent' | 'rule' | 'senderList' | 'calendar'>(
    tenantId: string,
    kind: K,
  ): ReturnType<typeof config.all<K>> {
    const key = `${tenantId}/${kind}`;
    const hit = configCache.get(key);
    if (hit && clock() - hit.at < (options.configCacheMs ?? 1_000)) return hit.value as ReturnType<typeof config.all<K>>;
    const value = config.all(tenantId, kind);
    configCache.set(key, { at: clock(), value });
    value.catch(() => configCache.delete(key));
    return value;
  }
  function invalidateConfig(tenantId: string): void {
    for (const kind of ['queue', 'agent', 'rule', 'senderList', 'calendar']) configCache.delete(`${tenantId}/${kind}`);
    ruleCache.delete(tenantId);
  }

  async function queuePolicies(tenantId: string): Promise<Map<string, { policy: QueuePolicy; queue: Queue }>> {
    const [queues, calendars] = await Promise.all([
      cachedAll(tenantId, 'queue'),
      cachedAll(tenantId, 'calendar').then((stored) => calendarCache.compile(tenantId, stored)),
    ]);
    return new Map(
      queues.map((q) => [q.id, { policy: toQueuePolicy({ ...q.value, queueId: q.id }, calendars), queue: q.value }]),
    );
  }

  interface AgentView {
    agent: Agent;
    snapshot: AgentSnapshot;
    connected: boolean;
    presenceSince: number;
    presenceReason: string;
  }

  async function agentViews(tenantId: string): Promise<Map<string, AgentView>> {
    const now = clock();
    const [agents, presence, sessions, slots, activity] = await Promise.all([
      cachedAll(tenantId, 'agent'),
      stores.presence.list({ prefix: `${tenantId}/`, limit: 100_000 }),
      stores.sessions.list({ prefix: `${tenantId}/`, limit: 100_000 }),
      stores.slots.list({ prefix: `${tenantId}/`, limit: 1_000_000 }),
      stores.activity.list({ prefix: `${tenantId}/`, limit: 100_000 }),
    ]);
    const activityBy = new Map(activity.map((a) => [a.key.slice(tenantId.length + 1), a.document]));
    const presenceBy = new Map(presence.map((p) => [p.key.slice(tenantId.length + 1), p.document]));
    const sessionBy = new Map(sessions.map((s) => [s.key.slice(tenantId.length + 1), s.document]));
    const load = new Map<string, { active: number; pending: number; lastAssignedAt: number | undefined }>();
    for (const slot of slots) {
      const agentId = slot.key.slice(tenantId.length + 1, slot.key.lastIndexOf('/'));
      const entry = load.get(agentId) ?? { active: 0, pending: 0, lastAssignedAt: undefined };
      if (slot.document.kind === 'offer') entry.pending += 1;
      else {
        entry.active += 1;
        entry.lastAssignedAt = Math.max(entry.lastAssignedAt ?? 0, slot.document.at);
      }
      load.set(agentId, entry);
    }
    const views = new Map<string, AgentView>();
    for (const { id, value } of agents) {
      const session = sessionBy.get(id);
      const connected = session !== undefined && session.disconnectedAt === undefined && now - session.lastSeenAt < sessionTtlMs;
      const stored = presenceBy.get(id);
      const presence = connected
        ? (stored?.presence ?? AgentPresence.AGENT_PRESENCE_AVAILABLE)
        : AgentPresence.AGENT_PRESENCE_OFFLINE;
      const l = load.get(id) ?? { active: 0, pending: 0, lastAssignedAt: undefined };
      views.set(id, {
        agent: value,
        connected,
        presenceSince: stored?.since ?? 0,
        presenceReason: stored?.reason ?? '',
        snapshot: {
          agentId: id,
          enabled: value.enabled !== false,
          presence,
          capacity: toAgentCapacity(value.capacity),
          activeInteractions: l.active,
          pendingOffers: l.pending,
          skills: toSkillLevels(value.skills),
          queueIds: value.queueIds,
          // Idle since the later of: becoming available (sign-in, presence change) and the end of the last work.
          idleSince: l.active === 0 ? Math.max(stored?.since ?? 0, activityBy.get(id)?.lastEndedAt ?? 0) : undefined,
          lastAssignedAt: l.lastAssignedAt ?? activityBy.get(id)?.lastAssignedAt,
        },
      });
    }
    return views;
  }

  // ---- intake ----
  const ruleCache = new Map<string, { at: number; set: ReturnType<typeof compileRuleSet> }>();
  async function ruleSet(tenantId: string) {
    const cached = ruleCache.get(tenantId);
    if (cached && clock() - cached.at < 2_000) return cached.set;
    const [rules, lists] = await Promise.all([cachedAll(tenantId, 'rule'), cachedAll(tenantId, 'senderList')]);
    const set = compileRuleSet(
      rules
        .map((r) => ({ ...r.value, ruleId: r.id }))
        .sort((a, b) => a.position - b.position || a.ruleId.localeCompare(b.ruleId)),
      lists.map((l) => ({ ...l.value, senderListId: l.id })),
    );
    ruleCache.set(tenantId, { at: clock(), set });
    return set;
  }

  /** Consumes one InboundEmail: idempotent, since every step is a claimed version of the interaction. */
  async function intake(event: InboundEmail): Promise<void> {
    if (!event.tenantId) throw new ValidationError('tenant_id', 'is required');
    if (!event.interactionId) throw new ValidationError('interaction_id', 'is required');
    if (!event.mailboxId) throw new ValidationError('mailbox_id', 'is required');
    const now = clock();
    const { tenantId, interactionId } = event;
    let record: InteractionRecord | undefined;
    {
      // Version 1 is claimed by an insert; only a redelivery (conflict) reads the stored one.
      const created = receivedRecord(event, now);
      const entry: InteractionHistoryRecord = {
        tenantId,
        interactionId,
        version: 1,
        occurredAt: now,
        previousState: S.INTERACTION_STATE_UNSPECIFIED,
        state: S.INTERACTION_STATE_RECEIVED,
        reason: StateChangeReason.STATE_CHANGE_REASON_RECEIVED,
        actor: toActorRecord({ kind: 'customer' }),
        queueId: '',
        agentId: '',
        note: '',
        interaction: created,
      };
      const fresh = await commitEntry(entry);
      await stores.messages.insert(
        `${tenantId}/${interactionId}/${String(created.receivedAt).padStart(15, '0')}-${created.latestInboundGraphMessageId}`,
        {
          kind: 'inbound',
          json: event.message ? InboundEmailMessage(event) : {},
          at: created.receivedAt,
        },
      );
      record = fresh ? created : await stores.interactions.get(tenantId, interactionId);
      if (!record)
        throw new FailedPreconditionError(`interaction ${interactionId} vanished while being stored`, { retryable: true });
    }
    if (record.state !== S.INTERACTION_STATE_RECEIVED) return;

    // Threading: a message of a conversation with an open interaction joins it.
    if (record.conversationId) {
      const conversation = await stores.conversations.get(`${tenantId}/${record.conversationId}`);
      const candidate =
        conversation?.openInteractionId && conversation.openInteractionId !== interactionId
          ? await stores.interactions.get(tenantId, conversation.openInteractionId)
          : undefined;
      const open =
        candidate && openStates.has(candidate.state) && candidate.state !== S.INTERACTION_STATE_RECEIVED ? candidate : undefined;
      if (open) {
        const joined = await stores.messages.insert(
          `${tenantId}/${open.interactionId}/${String(record.receivedAt).padStart(15, '0')}-${record.latestInboundGraphMessageId}`,
          {
            kind: 'inbound',
            json: event.message ? InboundEmailMessage(event) : {},
            at: record.receivedAt,
          },
        );
        if (joined) {
          const joining = record;
          await withRetry(tenantId, open.interactionId, async (target) => {
            const next = await applyChange(
              target,
              { type: 'customer-reply', at: now },
              {
                patch: {
                  inboundMessageCount: target.inboundMessageCount + 1,
                  latestInboundGraphMessageId: joining.latestInboundGraphMessageId || target.latestInboundGraphMessageId,
                  preview: joining.preview,
                  importance: Math.max(target.importance, joining.importance),
                  hasAttachments: target.hasAttachments || joining.hasAttachments,
                  automation: mergeAutomation(target.automation, joining.automation),
                  latestInboundAutomation: joining.latestInboundAutomation ?? joining.automation,
                },
              },
            );
            return next ?? 'retry';
          });
        }
        await withRetry(tenantId, interactionId, async (current) => {
          if (current.state !== S.INTERACTION_STATE_RECEIVED) return current;
          return (await applyChange(current, { type: 'merge', at: now, intoInteractionId: open.interactionId })) ?? 'retry';
        });
        return;
      }
      const previous = conversation?.lastClosed;
      if (previous && previous.interactionId !== interactionId) {
        record = {
          ...record,
          previousInteractionId: previous.interactionId,
          affinity: { agentId: previous.agentId, previousClosedAt: previous.closedAt },
        };
      }
    }

    const queues = await queuePolicies(tenantId);
    const evaluation = evaluateRules(
      await ruleSet(tenantId),
      { mailboxId: event.mailboxId, message: event.message ?? InboundMessage.fromPartial({}) },
      {
        defaultQueueId: event.defaultQueueId && queues.has(event.defaultQueueId) ? event.defaultQueueId : undefined,
        queueSkills: (queueId) => queues.get(queueId)?.queue.requiredSkills,
      },
    );
    const outcome = evaluation.outcome;
    const base = record;
    await withRetry(
      tenantId,
      interactionId,
      async (current) => {
        if (current.state !== S.INTERACTION_STATE_RECEIVED) return current;
        const carried = { previousInteractionId: base.previousInteractionId, affinity: base.affinity };
        const target = outcome.kind === 'route' ? queues.get(outcome.queueId) : undefined;
        if (outcome.kind === 'route' && target) {
          const policy = target.policy;
          return (
            (await applyChange(
              current,
              {
                type: 'route',
                at: now,
                queueId: outcome.queueId,
                priority: outcome.priority,
                requiredSkills: outcome.requiredSkills,
              },
              {
                patch: {
                  ...carried,
                  tags: [...outcome.tags],
                  matchedRuleId: outcome.ruleId ?? '',
                  serviceLevelDueAt: serviceLevelDueAt(policy, now),
                },
              },
            )) ?? 'retry'
          );
        }
        if (outcome.kind === 'discard') {
          return (
            (await applyChange(
              current,
              { type: 'discard', at: now, reason: outcome.reason },
              { patch: { ...carried, matchedRuleId: outcome.ruleId }, note: outcome.reason },
            )) ?? 'retry'
          );
        }
        return (await applyChange(current, { type: 'no-route', at: now }, { patch: carried })) ?? 'retry';
      },
      record,
    );
    notifyWork(tenantId);
  }

  // ---- planning ----
  /** One planning pass for a tenant: escalations, then offers claimed slot-first. Returns when to plan again. */
  async function planTenant(tenantId: string): Promise<{ offers: number; nextWakeAt: number | undefined }> {
    const now = clock();
    const [queues, views, waitingRecords, cursorRows] = await Promise.all([
      queuePolicies(tenantId),
      agentViews(tenantId),
      waitingEntries(tenantId),
      stores.cursors.list({ prefix: `${tenantId}/`, limit: 10_000 }),
    ]);
    if (waitingRecords.length === 0) return { offers: 0, nextWakeAt: undefined };
    const waiting: WaitingInteraction[] = waitingRecords.map(([interactionId, document]) => ({ ...document, interactionId }));
    const versions = new Map(waitingRecords.map(([interactionId, document]) => [interactionId, document.version]));
    const records = new Map<string, InteractionRecord>();
    /** The current record, when the index entry is current too; a stale entry is repaired and skipped. */
    async function current(interactionId: string): Promise<InteractionRecord | undefined> {
      const known = records.get(interactionId);
      if (known) return known;
      let record = await stores.interactions.get(tenantId, interactionId);
      if (!record || record.version !== versions.get(interactionId) || record.state !== S.INTERACTION_STATE_QUEUED) {
        // Repair from the newest committed version, not a document a slow writer may have left behind.
        record = await stores.interactions.refresh(tenantId, interactionId);
        if (record) await maintainIndexes(record);
        else await stores.waiting.delete(`${tenantId}/${interactionId}`);
        return undefined;
      }
      records.set(interactionId, record);
      return record;
    }
    const plan = planAssignments({
      now,
      queues: [...queues.values()].map((q) => q.policy),
      agents: [...views.values()].map((v) => v.snapshot),
      waiting,
      roundRobinCursors: Object.fromEntries(cursorRows.map((c) => [c.key.slice(tenantId.length + 1), c.document.agentId])),
    });
    const parallel = options.commitConcurrency ?? 16;
    await forEachLimit(plan.escalations, parallel, async (decision) => {
      const record = await current(decision.interactionId);
      if (!record) return;
      const event: InteractionEvent =
        decision.kind === 'relax-skills'
          ? {
              type: 'relax-skills',
              at: now,
              requiredSkills: decision.requiredSkills,
              escalationStepsApplied: decision.escalationStepsApplied,
            }
          : {
              type: 'overflow',
              at: now,
              queueId: decision.toQueueId,
              resetWaitTime: decision.queuedAt !== record.queuedAt,
              requiredSkills: decision.requiredSkills,
            };
      const next = await applyChange(record, event).catch(() => undefined);
      if (next) {
        records.set(next.interactionId, next);
        versions.set(next.interactionId, next.version);
      } else versions.delete(decision.interactionId);
    });
    let made = 0;
    // Offers concern distinct interactions; claims of one agent's slots may race each other and
    // simply take the next free slot (or fail when the agent is full).
    await forEachLimit(plan.offers, parallel, async (offer) => {
      const view = views.get(offer.agentId);
      const record = view ? await current(offer.interactionId) : undefined;
      if (!record || !view) return;
      const claim = await claimSlot(tenantId, offer.agentId, view.snapshot.capacity, offer.interactionId, 'offer');
      if (!claim?.fresh) return;
      let next: InteractionRecord | undefined;
      try {
        next = await applyChange(
          record,
          { type: 'offer', at: now, agentId: offer.agentId, expiresAt: offer.expiresAt, byAffinity: offer.reason === 'affinity' },
          {
            patch: {
              offerReason: offer.reason === 'affinity' ? OfferReason.OFFER_REASON_AFFINITY : OfferReason.OFFER_REASON_ROUTED,
              offerNote: '',
            },
          },
        );
      } catch (error) {
        logger.debug({ err: error, interactionId: offer.interactionId }, 'router: planned offer refused');
      }
      if (next) made += 1;
      else await undoClaim(claim);
    });
    await Promise.all(
      Object.entries(plan.roundRobinCursors).map(([queueId, agentId]) =>
        stores.cursors.put(`${tenantId}/${queueId}`, { agentId }),
      ),
    );
    return { offers: made, nextWakeAt: plan.nextWakeAt };
  }

  /** Returns lapsed offers to their queues (any replica may do it; the version claim picks one). */
  async function sweepExpiredOffers(limit = 500): Promise<Set<string>> {
    const now = clock();
    const tenants = new Set<string>();
    const lapsed = (await stores.offers.list({ prefix: '', limit: 100_000 }))
      .filter((o) => o.document.expiresAt <= now)
      .slice(0, limit);
    for (const { key } of lapsed) {
      const [tenantId = '', interactionId = ''] = key.split('/');
      let record = await stores.interactions.get(tenantId, interactionId);
      if (!record || record.state !== S.INTERACTION_STATE_OFFERED)
        record = await stores.interactions.refresh(tenantId, interactionId);
      if (!record || record.state !== S.INTERACTION_STATE_OFFERED) {
        if (record) await maintainIndexes(record);
        else await stores.offers.delete(key);
        continue;
      }
      const next = await applyChange(record, { type: 'offer-timeout', at: now }).catch(() => undefined);
      if (next) {
        await releaseSlot(record.tenantId, record.offeredAgentId, record.interactionId);
        tenants.add(record.tenantId);
      }
    }
    for (const tenantId of tenants) notifyWork(tenantId);
    return tenants;
  }

  /** Frees slots whose holder no longer holds them (a writer crashed between claim and commit). */
  async function reconcileSlots(tenantId: string, olderThanMs = 30_000): Promise<number> {
    const now = clock();
    let freed = 0;
    for (const slot of await stores.slots.list({ prefix: `${tenantId}/`, limit: 1_000_000 })) {
      if (now - slot.document.at < olderThanMs) continue;
      const agentId = slot.key.slice(tenantId.length + 1, slot.key.lastIndexOf('/'));
      const holds = (record: InteractionRecord | undefined) =>
        record !== undefined &&
        ((record.state === S.INTERACTION_STATE_OFFERED && record.offeredAgentId === agentId) ||
          ((record.state === S.INTERACTION_STATE_ASSIGNED || record.state === S.INTERACTION_STATE_REPLIED) &&
            record.agentId === agentId));
      if (holds(await stores.interactions.get(tenantId, slot.document.interactionId))) continue;
      // Confirm against the newest committed version before freeing capacity.
      if (!holds(await stores.interactions.refresh(tenantId, slot.document.interactionId))) {
        await stores.slots.delete(slot.key);
        freed += 1;
      }
    }
    if (freed > 0) notifyWork(tenantId);
    return freed;
  }

  /**
   * Finishes committed changes whose indexes or event were left behind (a crash or a bus outage in
   * between) and publishes accepted replies not published yet. One pass at a time per replica.
   */
  let relaying: Promise<number> | undefined;
  function relayUnpublished(olderThanMs = 5_000): Promise<number> {
    relaying ??= relayPass(olderThanMs).finally(() => (relaying = undefined));
    return relaying;
  }
  async function relayPass(olderThanMs: number): Promise<number> {
    const now = clock();
    let relayed = 0;
    for (const { key, document } of await stores.outbox.list({ prefix: '', limit: 500 })) {
      if (now - document.at < olderThanMs || publishing.has(key)) continue;
      if (document.sendKey) {
        if (await sendOutbox.relay(key, document)) relayed += 1;
        continue;
      }
      const [tenantId = '', interactionId = '', version = '0'] = key.split('/');
      const entry = await stores.interactions.historyEntry(tenantId, interactionId, Number(version));
      if (entry) {
        const current = await stores.interactions.refresh(tenantId, interactionId);
        if (current) await maintainIndexes(current);
        await publish(entry);
        relayed += 1;
      } else if (now - document.at < 60_000) continue; // its writer may still be committing
      await stores.outbox.delete(key);
    }
    return relayed;
  }

  return {
    config,
    clock,
    /** Tenants with waiting or offered interactions. */
    knownTenants: async () => {
      const [waiting, offers] = await Promise.all([
        stores.waiting.list({ prefix: '', limit: 100_000 }),
        stores.offers.list({ prefix: '', limit: 100_000 }),
      ]);
      return [...new Set([...waiting, ...offers].map((row) => row.key.slice(0, row.key.indexOf('/'))))];
    },
    /** Interactions an agent holds or is offered, from its capacity slots (an `_id` range, not a scan of interactions). */
    async agentInteractions(tenantId: string, agentId: string): Promise<InteractionRecord[]> {
      const slots = await stores.slots.list({ prefix: slotPrefix(tenantId, agentId), limit: 1000 });
      const records = await Promise.all(slots.map((slot) => stores.interactions.get(tenantId, slot.document.interactionId)));
      return records.filter(
        (r): r is InteractionRecord => r !== undefined && (r.offeredAgentId === agentId || r.agentId === agentId),
      );
    },
    applyChange,
    withRetry,
    claimSlot,
    undoClaim,
    releaseSlot,
    markSlotAssigned,
    agentViews,
    queuePolicies,
    intake,
    planTenant,
    sweepExpiredOffers,
    reconcileSlots,
    relayUnpublished,
    /** Accepted replies: recorded with their outbox marker, published by the router (see send-outbox). */
    sendOutbox,
    notifyWork,
    /** Another replica changed an interaction's waiting entry (a state-change event): re-read it before planning. */
    observeChange(tenantId: string, interactionId: string): void {
      waitingViews.get(tenantId)?.changed.add(interactionId);
    },
    /** This replica stopped planning the tenant: its view goes stale, so drop it. */
    forgetWaiting(tenantId: string): void {
      waitingViews.delete(tenantId);
    },
    invalidateRules: invalidateConfig,
    onWork(listener: (tenantId: string) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    offerIdOf,
  };
}

/** Runs `work` over `items`, at most `limit` at a time; the first failure stops further items. */
async function forEachLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let stop = false;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !stop) {
      const item = items[next] as T;
      next += 1;
      await work(item).catch((error: unknown) => {
        stop = true;
        throw error;
      });
    }
  });
  // Every lane finishes before a failure is reported, so no work of this pass outlives it.
  const failed = (await Promise.allSettled(lanes)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The inbound message of an event as stored JSON. */
function InboundEmailMessage(event: InboundEmail): unknown {
  return event.message ? InboundMessage.toJSON(event.message) : {};
}

export type RouterCore = ReturnType<typeof createRouterCore>;
