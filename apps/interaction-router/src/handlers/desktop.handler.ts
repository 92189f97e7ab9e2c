import {
  AgentPresence,
  InteractionState,
  type AgentDesktopServiceImplementation,
  type AgentStatus,
  type ConnectResponse,
  type Interaction,
} from '@mailroute/contracts';
import type { EventBus } from '@mailroute/messaging';
import { idRules, readId, PermissionDeniedError, UnauthenticatedError, ValidationError } from '@mailroute/platform';
import { readPageRequest, encodePageToken } from '@mailroute/persistence';
import { createAgentDirectory, type AgentCallContext } from '../auth/agent-caller';
import { findVisible, heldBy } from '../desktop/agent-access';
import type { DesktopHub } from '../desktop/desktop-hub';
import { offerFromInteraction } from '../desktop/desktop-hub';
import type { HtmlSanitizer } from '../desktop/html-sanitizer';
import { createPresence } from '../desktop/presence';
import { createHeldInteractions } from '../desktop/held-interactions';
import { createOfferAnswers } from '../desktop/offer-answers';
import { createDesktopAttachments } from '../desktop/desktop-attachments';
import { createAgentReplies } from '../replies/agent-reply';
import { offerIdOf, toInteraction } from '../routing/interaction-mapping';
import type { RouterCore } from '../routing/router-core';
import { createDesktopTemplateHandlers } from './desktop-templates';
import { listThreadMessages } from './thread-messages';
import type { RouterStores } from '../store/router-stores';
import { agentKey } from '../store/router-keys';

export interface DesktopHandlerDeps {
  core: RouterCore;
  stores: RouterStores;
  hub: DesktopHub;
  bus: EventBus;
  sanitizer: HtmlSanitizer;
  replicaId: string;
  /** How often a stream refreshes its session lease. Default 5 s. */
  sessionRefreshMs?: number;
  /** How long a reply upload no reply references is kept. Default 24 hours. */
  uploadTtlMs?: number | undefined;
}

const S = InteractionState;

/** The default of DesktopHandlerDeps.sessionRefreshMs (documented there). */
const defaultDesktopHandlerOptions = { sessionRefreshMs: 5_000 } as const;

/** AgentDesktopService: the agent's stream and actions; every lookup is scoped to the caller's tenant and agent. */
export function createDesktopHandlers(deps: DesktopHandlerDeps): AgentDesktopServiceImplementation<AgentCallContext> {
  const { core, stores, hub } = deps;
  const presenceOf = createPresence({ core, stores, hub });
  /** One cached agent list per tenant for every stream of this replica (a disabled or deleted agent's stream ends). */
  const agents = createAgentDirectory({ config: core.config });
  const offers = createOfferAnswers({ core, stores });
  const held = createHeldInteractions({ core, stores });
  const replies = createAgentReplies({ core, stores });
  const attachments = createDesktopAttachments({ stores, clock: core.clock, uploadTtlMs: deps.uploadTtlMs });

  /** An interaction the agent may see (offered to, held or completed by it); NOT_FOUND otherwise, other tenants included. */
  const visible = (context: AgentCallContext, interactionId: string) => findVisible(stores, context, interactionId);

  async function status(context: AgentCallContext): Promise<AgentStatus> {
    return presenceOf.status(context.tenantId, context.agentId);
  }

  return {
    ...createDesktopTemplateHandlers({ core, stores }),

    async *connect(request, context) {
      // Required; its shape is the shared rule the gRPC server checks on every request (platform request-fields).
      const instance = readId(request.clientInstanceId, idRules.clientInstance, 'client_instance_id');
      if (request.initialPresence === AgentPresence.AGENT_PRESENCE_OFFLINE)
        throw new ValidationError('initial_presence', 'cannot be OFFLINE');
      const heartbeatMs = request.heartbeatInterval
        ? request.heartbeatInterval.seconds * 1000 + Math.round(request.heartbeatInterval.nanos / 1e6)
        : 15_000;
      if (heartbeatMs < 5_000 || heartbeatMs > 60_000)
        throw new ValidationError('heartbeat_interval', 'must be between 5s and 60s');
      const session = hub.open(context.tenantId, context.agentId, instance);
      const sessionKey = agentKey(context.tenantId, context.agentId);
      let sequence = 0;
      const envelope = (event: NonNullable<ConnectResponse['event']>): ConnectResponse => ({
        sequence: (sequence += 1),
        sentAt: new Date(),
        event,
      });
      try {
        const previous = await stores.presence.get(sessionKey);
        const lastSession = await stores.sessions.get(sessionKey);
        const withinGrace = lastSession !== undefined && core.clock() - lastSession.lastSeenAt < 60_000;
        const presence =
          request.initialPresence !== AgentPresence.AGENT_PRESENCE_UNSPECIFIED
            ? request.initialPresence
            : withinGrace && previous && previous.presence !== AgentPresence.AGENT_PRESENCE_OFFLINE
              ? previous.presence
              : AgentPresence.AGENT_PRESENCE_AVAILABLE;
        await stores.sessions.put(sessionKey, {
          replicaId: deps.replicaId,
          clientInstanceId: instance,
          lastSeenAt: core.clock(),
        });
        const told = !previous || previous.presence !== presence ? { presence, reason: '', since: core.clock() } : previous;
        if (told !== previous) await stores.presence.put(sessionKey, told);
        presenceOf.seen(session, told);
        const mine = await core.agentInteractions(context.tenantId, context.agentId);
        const pendingOffers = [];
        const assigned: Interaction[] = [];
        for (const record of mine) {
          session.snapshotVersions.set(record.interactionId, record.version);
          if (record.state === S.INTERACTION_STATE_OFFERED && record.offeredAgentId === context.agentId) {
            session.offers.set(record.interactionId, offerIdOf(record));
            pendingOffers.push(offerFromInteraction(offerIdOf(record), toInteraction(record)));
          } else if (heldBy(record, context.agentId)) {
            session.held.add(record.interactionId);
            assigned.push(toInteraction(record));
          }
        }
        yield envelope({ $case: 'snapshot', value: { status: await status(context), pendingOffers, assigned } });
        core.notifyWork(context.tenantId);
        let lastRefresh = core.clock();
        const refreshMs = deps.sessionRefreshMs ?? defaultDesktopHandlerOptions.sessionRefreshMs;
        for (;;) {
          if (Date.now() >= context.tokenExpiresAt)
            throw new UnauthenticatedError('the sign-in token expired; sign in again and reconnect');
          const next = await session.next(context.signal, Math.min(heartbeatMs, refreshMs));
          if (core.clock() - lastRefresh >= refreshMs) {
            const stored = await stores.sessions.get(sessionKey);
            if (stored && stored.clientInstanceId !== instance && stored.lastSeenAt > lastRefresh) {
              yield envelope({ $case: 'sessionReplaced', value: { newClientInstanceId: stored.clientInstanceId } });
              return;
            }
            // A store hiccup is no verdict: access is checked again on the next refresh.
            const access = await agents.byId(context.tenantId, context.agentId).then(
              (me) => (me ? (me.enabled ? 'ok' : 'disabled') : 'deleted'),
              () => 'ok',
            );
            if (access !== 'ok')
              throw new PermissionDeniedError(access === 'disabled' ? 'the agent is disabled' : 'the agent was deleted');
            lastRefresh = core.clock();
            await stores.sessions.put(sessionKey, {
              replicaId: deps.replicaId,
              clientInstanceId: instance,
              lastSeenAt: lastRefresh,
            });
            // Presence set through another replica (or by a supervisor) reaches this stream here.
            await presenceOf.poll(session);
          }
          if (next === 'closed') {
            while (true) {
              const rest = await session.next(context.signal, 0);
              if (rest === 'closed' || rest === 'timeout') break;
              yield envelope(rest);
            }
            return;
          }
          if (next === 'timeout') {
            yield envelope({ $case: 'heartbeat', value: { interval: { seconds: Math.floor(heartbeatMs / 1000), nanos: 0 } } });
            continue;
          }
          yield envelope(next);
          if (next.$case === 'sessionReplaced' || next.$case === 'draining') return;
        }
      } finally {
        hub.release(session);
        if (hub.get(context.tenantId, context.agentId) === undefined) {
          const stored = await stores.sessions.get(sessionKey).catch(() => undefined);
          if (stored?.clientInstanceId === instance && stored.replicaId === deps.replicaId) {
            await stores.sessions
              .put(sessionKey, { ...stored, lastSeenAt: core.clock(), disconnectedAt: core.clock() })
              .catch(() => undefined);
          }
        }
      }
    },

    accept: async (request, context) => ({ interaction: await offers.accept(context, request) }),

    decline: async (request, context) => {
      await offers.decline(context, request);
      return {};
    },

    complete: async (request, context) => ({ interaction: await held.complete(context, request) }),

    transfer: async (request, context) => ({ interaction: await held.transfer(context, request) }),

    reply: (request, context) => replies.reply(context, request),

    async setPresence(request, context) {
      if (request.presence === AgentPresence.AGENT_PRESENCE_UNSPECIFIED || !(request.presence in AgentPresence))
        throw new ValidationError('presence', 'is required (AVAILABLE, BUSY, AWAY or OFFLINE)');
      if (request.reason.length > 64) throw new ValidationError('reason', 'must be at most 64 characters');
      const current = await presenceOf.change(context.tenantId, context.agentId, request.presence, request.reason, {
        kind: 2,
        id: context.agentId,
        displayName: context.agentName,
      });
      return { status: current };
    },

    async listMyInteractions(request, context) {
      const { pageSize, after } = readPageRequest(request.page ?? {});
      const states =
        request.states.length > 0
          ? request.states
          : [S.INTERACTION_STATE_OFFERED, S.INTERACTION_STATE_ASSIGNED, S.INTERACTION_STATE_REPLIED];
      const records = (
        await stores.interactions.search(context.tenantId, { agentIds: [context.agentId], states }, after, pageSize)
      ).filter((r) => r.agentId === context.agentId || r.offeredAgentId === context.agentId);
      const last = records[records.length - 1];
      return {
        interactions: records.map((r) => toInteraction(r)),
        nextPageToken: records.length === pageSize && last ? encodePageToken(last.interactionId) : '',
      };
    },

    async getMyInteraction(request, context) {
      return { interaction: toInteraction(await visible(context, request.interactionId)) };
    },

    async listMyInteractionMessages(request, context) {
      const record = await visible(context, request.interactionId);
      return listThreadMessages(deps, context.tenantId, record.interactionId, request.page);
    },

    downloadAttachment(request, context) {
      return attachments.download(context, request);
    },

    uploadReplyAttachment(requests, context) {
      return attachments.upload(context, requests);
    },

    async listTransferTargets(request, context) {
      const { pageSize } = readPageRequest(request.page ?? {});
      const filter = request.nameContains.toLowerCase();
      const queues = (await core.config.all(context.tenantId, 'queue')).filter((q) =>
        q.value.displayName.toLowerCase().includes(filter),
      );
      const views = [...(await core.agentViews(context.tenantId)).values()].filter(
        (v) =>
          v.snapshot.agentId !== context.agentId &&
          v.snapshot.presence !== AgentPresence.AGENT_PRESENCE_OFFLINE &&
          v.agent.displayName.toLowerCase().includes(filter),
      );
      const targets = [
        ...(request.kind !== 2
          ? queues.map((q) => ({
              target: { target: { $case: 'queueId' as const, value: q.id } },
              displayName: q.value.displayName,
              presence: 0,
              freeCapacity: 0,
              waiting: 0,
            }))
          : []),
        ...(request.kind !== 1
          ? views.map((v) => ({
              target: { target: { $case: 'agentId' as const, value: v.snapshot.agentId } },
              displayName: v.agent.displayName,
              presence: v.snapshot.presence,
              freeCapacity: Math.max(0, v.snapshot.capacity - v.snapshot.activeInteractions - v.snapshot.pendingOffers),
              waiting: 0,
            }))
          : []),
      ];
      return { targets: targets.slice(0, pageSize), nextPageToken: '' };
    },
  };
}
