import { ValidationError } from '@mailroute/platform';
import { encodePageToken, readPageRequest, type InteractionRecord } from '@mailroute/persistence';
import { interactionSlaState, isSearchableSlaState } from '../../alerts/sla-status';
import { createInteractionReferences } from '../../intake/interaction-references';
import { toActor, toInteraction } from '../../routing/interaction-mapping';
import { streamThreadAttachment } from '../thread-attachments';
import { listThreadMessages } from '../thread-messages';
import type { AdminContext, AdminHandlers } from './admin-context';

type InteractionReadMethods =
  'searchInteractions' | 'getInteraction' | 'listInteractionMessages' | 'getInteractionAttachment' | 'listInteractionHistory';

/** Reading interactions: search, one interaction, its thread's messages and their attachments, its history. */
export function createInteractionHandlers(admin: AdminContext): Pick<AdminHandlers, InteractionReadMethods> {
  const { stores, interaction } = admin;
  const references = createInteractionReferences({ stores });
  return {
    searchInteractions: async (request, context) => {
      const { pageSize, after } = readPageRequest(request.page ?? {});
      const f = request.filter;
      if (f?.subjectContains && f.subjectContains.length > 200)
        throw new ValidationError('filter.subject_contains', 'must be at most 200 characters');
      const slaStates = new Set<number>(f?.slaStates ?? []);
      if (slaStates.size > 5) throw new ValidationError('filter.sla_states', 'must have at most 5 entries');
      for (const state of slaStates)
        if (!isSearchableSlaState(state))
          throw new ValidationError('filter.sla_states', 'must hold SLA states other than SLA_STATE_UNSPECIFIED');
      const now = admin.core.clock();
      const policies = await admin.core.queuePolicies(context.tenantId);
      const toFound = (record: InteractionRecord) => ({
        ...toInteraction(record),
        slaState: interactionSlaState(record, policies, now),
      });
      if (f?.reference) {
        const reference = f.reference.trim().replace(/^\[#/, '').replace(/\]$/, '').toUpperCase();
        if (f.reference.length > 32 || !/^[A-Z]{2,8}-[1-9]\d{0,11}$/.test(reference))
          throw new ValidationError('filter.reference', 'must be an interaction reference such as ABC-1234');
        const interactionId = await references.interactionOf(context.tenantId, reference);
        const found = interactionId ? await stores.interactions.get(context.tenantId, interactionId) : undefined;
        return { interactions: found && !after ? [toFound(found)] : [], nextPageToken: '' };
      }
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
      if (!f?.subjectContains && slaStates.size === 0) {
        const records = await stores.interactions.search(context.tenantId, filter, after, pageSize);
        const last = records[records.length - 1];
        return {
          interactions: records.map(toFound),
          nextPageToken: records.length === pageSize && last ? encodePageToken(last.interactionId) : '',
        };
      }
      // The subject and the SLA state (which moves with the clock) are matched here, not in the
      // store: read on in batches until the page is full (a page of the store's order may hold no
      // match), at most 10 batches per call; the token then continues after the last interaction read.
      const needle = f?.subjectContains?.toLowerCase() ?? '';
      const matches = (record: InteractionRecord): boolean =>
        (!needle || record.subject.toLowerCase().includes(needle)) &&
        (slaStates.size === 0 || slaStates.has(interactionSlaState(record, policies, now)));
      const batchSize = Math.max(pageSize, 100);
      const matching: InteractionRecord[] = [];
      let cursor = after;
      let exhausted = false;
      for (let batch = 0; batch < 10 && matching.length < pageSize && !exhausted; batch += 1) {
        const records = await stores.interactions.search(context.tenantId, filter, cursor, batchSize);
        exhausted = records.length < batchSize;
        for (const record of records) {
          cursor = record.interactionId;
          if (!matches(record)) continue;
          matching.push(record);
          if (matching.length === pageSize) {
            exhausted = exhausted && record === records[records.length - 1];
            break;
          }
        }
      }
      return {
        interactions: matching.map(toFound),
        nextPageToken: !exhausted && cursor ? encodePageToken(cursor) : '',
      };
    },
    getInteraction: async (request, context) => {
      const record = await interaction(context, request.interactionId);
      const policies = await admin.core.queuePolicies(context.tenantId);
      return { interaction: { ...toInteraction(record), slaState: interactionSlaState(record, policies, admin.core.clock()) } };
    },
    listInteractionMessages: async (request, context) => {
      const record = await interaction(context, request.interactionId);
      return listThreadMessages({ stores, sanitizer: admin.sanitizer }, context.tenantId, record.interactionId, request.page);
    },
    // Any interaction of the caller's tenant (a supervisor's view); another tenant's is NOT_FOUND before anything else.
    async *getInteractionAttachment(request, context) {
      const record = await interaction(context, request.interactionId);
      yield* streamThreadAttachment(stores, context.tenantId, record.interactionId, request);
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
