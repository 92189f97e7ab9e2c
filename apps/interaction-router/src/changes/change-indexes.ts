import { InteractionState } from '@mailroute/contracts';
import type { InteractionRecord } from '@mailroute/persistence';
import { openStates } from '../routing/interaction-mapping';
import { conversationKey, interactionKey } from '../store/router-keys';
import type { ConversationDocument, RouterStores, WaitingDocument } from '../store/router-stores';
import type { WaitingView } from '../planning/waiting-view';

const S = InteractionState;

/** A QUEUED interaction's entry in the waiting index (what planning reads of it). */
export function toWaitingDocument(record: InteractionRecord): WaitingDocument {
  return {
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
}

/**
 * Which derived indexes a change from `previousState` to `record.state` can touch. An entry can only
 * exist when the previous state had one, so what cannot be there is not deleted (every write queues
 * behind the others on FerretDB v1's SQLite backend); the conversation is only touched when the
 * interaction opens or closes (each lookup is a scan on FerretDB v1). Without `previousState`, all.
 */
export function indexesTouched(record: Pick<InteractionRecord, 'state'>, previousState?: number) {
  const known = previousState !== undefined;
  const wasOpen = known && previousState !== S.INTERACTION_STATE_RECEIVED && openStates.has(previousState);
  return {
    waiting: !(known && previousState !== S.INTERACTION_STATE_QUEUED && record.state !== S.INTERACTION_STATE_QUEUED),
    offer: !(known && previousState !== S.INTERACTION_STATE_OFFERED && record.state !== S.INTERACTION_STATE_OFFERED),
    conversation: !(known && wasOpen === openStates.has(record.state)),
  };
}

/** Keeps the derived indexes (waiting, offers, conversations) in line with each committed interaction. */
export function createChangeIndexes(deps: {
  stores: Pick<RouterStores, 'waiting' | 'offers' | 'conversations'>;
  waitingView: Pick<WaitingView, 'noteCommitted'>;
}) {
  const { stores, waitingView } = deps;

  async function maintainWaiting(record: InteractionRecord): Promise<void> {
    const key = interactionKey(record.tenantId, record.interactionId);
    if (record.state === S.INTERACTION_STATE_QUEUED) {
      const entry = toWaitingDocument(record);
      await stores.waiting.put(key, entry);
      waitingView.noteCommitted(record.tenantId, record.interactionId, entry);
    } else {
      await stores.waiting.delete(key);
      waitingView.noteCommitted(record.tenantId, record.interactionId, undefined);
    }
  }

  async function maintainOffer(record: InteractionRecord): Promise<void> {
    const key = interactionKey(record.tenantId, record.interactionId);
    if (record.state === S.INTERACTION_STATE_OFFERED && record.offeredAgentId && record.offerExpiresAt !== undefined) {
      await stores.offers.put(key, { version: record.version, agentId: record.offeredAgentId, expiresAt: record.offerExpiresAt });
    } else await stores.offers.delete(key);
  }

  async function maintainConversation(record: InteractionRecord, known?: ConversationDocument | null): Promise<void> {
    if (record.conversationId && record.state !== S.INTERACTION_STATE_RECEIVED && record.state !== S.INTERACTION_STATE_MERGED) {
      const key = conversationKey(record.tenantId, record.conversationId);
      const conversation = (known !== undefined ? known : await stores.conversations.get(key)) ?? {};
      const open = openStates.has(record.state);
      if (open && conversation.openInteractionId !== record.interactionId) {
        await stores.conversations.put(key, { ...conversation, openInteractionId: record.interactionId });
      } else if (!open && conversation.openInteractionId === record.interactionId) {
        await stores.conversations.put(key, {
          openInteractionId: undefined,
          lastClosed:
            record.state === S.INTERACTION_STATE_COMPLETED && record.agentId && record.closedAt !== undefined
              ? { interactionId: record.interactionId, agentId: record.agentId, closedAt: record.closedAt }
              : conversation.lastClosed,
        });
      }
    }
  }

  return {
    /**
     * Brings the derived indexes in line with `record`. With `previousState`, only the indexes the
     * change can touch (see indexesTouched). `conversation`: the conversation's document as the
     * caller just read it (null: none), so it is not read again.
     */
    async maintain(record: InteractionRecord, previousState?: number, conversation?: ConversationDocument | null): Promise<void> {
      const touched = indexesTouched(record, previousState);
      // Three independent keys: written concurrently (one round trip instead of three).
      await Promise.all([
        touched.waiting ? maintainWaiting(record) : undefined,
        touched.offer ? maintainOffer(record) : undefined,
        touched.conversation ? maintainConversation(record, conversation) : undefined,
      ]);
    },
  };
}

export type ChangeIndexes = ReturnType<typeof createChangeIndexes>;
