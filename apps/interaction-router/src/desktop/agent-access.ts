import { InteractionState } from '@mailroute/contracts';
import { NotFoundError, ValidationError } from '@mailroute/platform';
import type { InteractionRecord } from '@mailroute/persistence';
import type { RouterStores } from '../store/router-stores';

/** The signed-in agent a desktop call acts for. */
export interface DesktopAgent {
  tenantId: string;
  agentId: string;
  agentName: string;
}

const S = InteractionState;

/** Whether `agentId` holds the interaction (ASSIGNED or REPLIED to it). */
export const heldBy = (record: InteractionRecord, agentId: string): boolean =>
  (record.state === S.INTERACTION_STATE_ASSIGNED || record.state === S.INTERACTION_STATE_REPLIED) && record.agentId === agentId;

/**
 * An interaction the agent may see (offered to, held or completed by it); NOT_FOUND otherwise,
 * other tenants included.
 */
export async function findVisible(
  stores: Pick<RouterStores, 'interactions'>,
  agent: Pick<DesktopAgent, 'tenantId' | 'agentId'>,
  interactionId: string,
): Promise<InteractionRecord> {
  if (!interactionId) throw new ValidationError('interaction_id', 'is required');
  const record = await stores.interactions.get(agent.tenantId, interactionId);
  if (!record || (record.agentId !== agent.agentId && record.offeredAgentId !== agent.agentId))
    throw new NotFoundError('interaction', interactionId);
  return record;
}
