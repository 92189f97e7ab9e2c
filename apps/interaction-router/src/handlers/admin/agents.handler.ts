import { AgentPresence, type Agent } from '@mailroute/contracts';
import { ValidationError } from '@mailroute/platform';
import { encodePageToken, readPageRequest } from '@mailroute/persistence';
import type { AdminContext, AdminHandlers } from './admin-context';

type AgentMethods =
  'createAgent' | 'getAgent' | 'listAgents' | 'updateAgent' | 'deleteAgent' | 'setAgentPresence' | 'listAgentStatuses';

/** Agents: CRUD, a supervisor's SetAgentPresence and the live ListAgentStatuses. */
export function createAgentHandlers(admin: AdminContext): Pick<AdminHandlers, AgentMethods> {
  const { core, presence } = admin;
  const { create, get, update, list, remove, present } = admin.resources;
  return {
    createAgent: async (request, context) => ({ agent: await create(context, 'agent', request.agentId, request.agent) }),
    getAgent: async (request, context) => ({ agent: present('agent', await get(context, 'agent', request.agentId)) }),
    listAgents: async (request, context) => {
      const page = await list(context, 'agent', request.page);
      return {
        agents: (page.items as Agent[]).filter(
          (a) =>
            (!request.queueId || a.queueIds.includes(request.queueId)) &&
            (!request.skill || a.skills.some((s) => s.skill === request.skill)),
        ),
        nextPageToken: page.nextPageToken,
      };
    },
    updateAgent: async (request, context) => ({
      agent: await update(context, 'agent', request.agentId, request.agent, request.updateMask ?? [], request.etag),
    }),
    deleteAgent: async (request, context) => (await remove(context, 'agent', request.agentId, request.etag), {}),
    setAgentPresence: async (request, context) => {
      if (
        request.presence === AgentPresence.AGENT_PRESENCE_UNSPECIFIED ||
        !(request.presence in AgentPresence) ||
        request.presence === AgentPresence.UNRECOGNIZED
      )
        throw new ValidationError('presence', 'is required');
      if (request.reason.length > 64) throw new ValidationError('reason', 'must be at most 64 characters');
      if (!request.agentId) throw new ValidationError('agent_id', 'is required');
      await get(context, 'agent', request.agentId);
      const status = await presence.change(
        context.tenantId,
        request.agentId,
        request.presence,
        request.reason,
        admin.supervisorActor(context),
      );
      return { status };
    },
    listAgentStatuses: async (request, context) => {
      const { pageSize, after } = readPageRequest(request.page ?? {});
      const views = [...(await core.agentViews(context.tenantId)).values()]
        .filter(
          (v) =>
            (after === undefined || v.snapshot.agentId > after) &&
            (!request.queueId || v.agent.queueIds.includes(request.queueId)) &&
            (!request.presence || v.snapshot.presence === request.presence),
        )
        .sort((a, b) => a.snapshot.agentId.localeCompare(b.snapshot.agentId))
        .slice(0, pageSize);
      const last = views[views.length - 1];
      return {
        statuses: views.map((v) => ({
          agentId: v.snapshot.agentId,
          displayName: v.agent.displayName,
          presence: v.snapshot.presence,
          presenceReason: v.presenceReason,
          presenceSince: new Date(v.presenceSince),
          connected: v.connected,
          capacity: v.snapshot.capacity,
          activeInteractions: v.snapshot.activeInteractions,
          pendingOffers: v.snapshot.pendingOffers,
          idleSince: v.snapshot.idleSince === undefined ? undefined : new Date(v.snapshot.idleSince),
          lastAssignedAt: v.snapshot.lastAssignedAt === undefined ? undefined : new Date(v.snapshot.lastAssignedAt),
          queueIds: v.agent.queueIds,
        })),
        nextPageToken: views.length === pageSize && last ? encodePageToken(last.snapshot.agentId) : '',
      };
    },
  };
}
