import { ValidationError } from '@mailroute/platform';
import { encodePageToken, readPageRequest, type InteractionRecord } from '@mailroute/persistence';
import { toActor, toInteraction } from '../../routing/interaction-mapping';
import { listThreadMessages } from '../thread-messages';
import type { AdminContext, AdminHandlers } from './admin-context';

type InteractionReadMethods = 'searchInteractions' | 'getInteraction' | 'listInteractionMessages' | 'listInteractionHistory';

/** Reading interactions: search, one interaction, its thread's messages, its history. */
export function createInteractionHandlers(admin: AdminContext): Pick<AdminHandlers, InteractionReadMethods> {
  const { stores, interaction } = admin;
  return {
    searchInteractions: async (request, context) => {
      const { pageSize, after } = readPageRequest(request.page ?? {});
      const f = request.filter;
      if (f?.subjectContains && f.subjectContains.length > 200)
        throw new ValidationError('filter.subject_contains', 'must be at most 200 characters');
      const filter = {
        ...(f?.states.length ? { states: f.states } : {}),
        ...(f?.queueIds.length ? { queueIds: f.queueIds } : {}),
        ...(f?.agentIds.length ? { agentIds: f.agentIds } : {}),
        ...(f?.mailboxIds.length ? { mailboxIds: f.mailboxIds } : {}),
        ...(f?.customerAddress ? { customerAddress: f.customerAddress } : {}),
        ...(f?.conversationId ? { conversationId: f.conversationId } : {}),
        ...(f?.internetMessageId ? { internetMessageId: f.internetMessageId } : {}),
        ...(f?.tags.length ? { tags: f.tags } : {}),
        ...(f?.receivedAfter ? { receivedAfter: f.receivedAfter.getTime() } : {}),
        ...(f?.receivedBefore ? { receivedBefore: f.receivedBefore.getTime() } : {}),
      };
      if (!f?.subjectContains) {
        const records = await stores.interactions.search(context.tenantId, filter, after, pageSize);
        const last = records[records.length - 1];
        return {
          interactions: records.map((r) => toInteraction(r)),
          nextPageToken: records.length === pageSize && last ? encodePageToken(last.interactionId) : '',
        };
      }
      // The subject is matched here, not in the store: read on in batches until the page is full
      // (a page of the store's order may hold no match), at most 10 batches per call; the token
      // then continues after the last interaction read.
      const needle = f.subjectContains.toLowerCase();
      const batchSize = Math.max(pageSize, 100);
      const matching: InteractionRecord[] = [];
      let cursor = after;
      let exhausted = false;
      for (let batch = 0; batch < 10 && matching.length < pageSize && !exhausted; batch += 1) {
        const records = await stores.interactions.search(context.tenantId, filter, cursor, batchSize);
        exhausted = records.length < batchSize;
        for (const record of records) {
          cursor = record.interactionId;
          if (!record.subject.toLowerCase().includes(needle)) continue;
          matching.push(record);
          if (matching.length === pageSize) {
            exhausted = exhausted && record === records[records.length - 1];
            break;
          }
        }
      }
      return {
        interactions: matching.map((r) => toInteraction(r)),
        nextPageToken: !exhausted && cursor ? encodePageToken(cursor) : '',
      };
    },
    getInteraction: async (request, context) => ({
      interaction: toInteraction(await interaction(context, request.interactionId)),
    }),
    listInteractionMessages: async (request, context) => {
      const record = await interaction(context, request.interactionId);
      return listThreadMessages({ stores, sanitizer: admin.sanitizer }, context.tenantId, record.interactionId, request.page);
    },
    listInteractionHistory: async (request, context) => {
      await interaction(context, request.interactionId);
      const { pageSize, after } = readPageRequest(request.page ?? {});
      const entries = await stores.interactions.history(
        context.tenantId,
        request.interactionId,
        after === undefined ? 0 : Number(after),
        pageSize,
      );
      const last = entries[entries.length - 1];
      return {
        entries: entries.map((e) => ({
          version: e.version,
          occurredAt: new Date(e.occurredAt),
          previousState: e.previousState,
          state: e.state,
          reason: e.reason,
          actor: toActor(e.actor),
          queueId: e.queueId,
          agentId: e.agentId,
          note: e.note,
        })),
        nextPageToken: entries.length === pageSize && last ? encodePageToken(String(last.version)) : '',
      };
    },
  };
}
