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
 * other tenants included. `wanted`: what the call needs of it (held, say); when the current document
 * does not show that, the newest committed version decides instead (see `readConfirmed`).
 */
export async function findVisible(
  stores: Pick<RouterStores, 'interactions'>,
  agent: Pick<DesktopAgent, 'tenantId' | 'agentId'>,
  interactionId: string,
  wanted: (record: InteractionRecord) => boolean = () => true,
): Promise<InteractionRecord> {
  if (!interactionId) throw new ValidationError('interaction_id', 'is required');
  const visible = (record: InteractionRecord) => record.agentId === agent.agentId || record.offeredAgentId === agent.agentId;
  const record = await readConfirmed(stores, agent.tenantId, interactionId, (r) => visible(r) && wanted(r));
  if (!record || !visible(record)) throw new NotFoundError('interaction', interactionId);
  return record;
}

/**
 * The interaction's current document when it shows what the caller needs (`wanted`), else its
 * newest committed version (`refresh`, which also rolls the document forward). The document can be
 * behind the history: a replica killed with a document write in flight can have that write applied
 * after later versions' writes (FerretDB still applies a dead client's queued write, after writes
 * acknowledged since), and nothing moves it forward until the next commit. A refusal read from it
 * would stand: an agent's Reply and Complete on an interaction it holds were NOT_FOUND for good.
 * The happy path reads once, as before.
 */
async function readConfirmed(
  stores: Pick<RouterStores, 'interactions'>,
  tenantId: string,
  interactionId: string,
  wanted: (record: InteractionRecord) => boolean,
): Promise<InteractionRecord | undefined> {
  const record = await stores.interactions.get(tenantId, interactionId);
  if (record && wanted(record)) return record;
  return (await stores.interactions.refresh(tenantId, interactionId)) ?? record;
}
