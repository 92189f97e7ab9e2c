import type { Agent } from '@mailroute/contracts';
import { AlreadyExistsError, MailrouteError } from '@mailroute/platform';
import type { ClaimHolder, ClaimKind, ConfigRepository } from './config-repository';

/** A sign-in identity of an agent that must be unique per tenant. */
interface Identity {
  kind: ClaimKind;
  /** The request field, named in ALREADY_EXISTS. */
  field: 'agent.user_principal_name' | 'agent.entra_object_id';
  /** Lower-cased: UPNs compare case-insensitively, object ids are GUIDs. */
  value: string;
}

/** An identity an agent's write claimed; give it back with `undo` when the write did not happen. */
export interface IdentityClaim extends Identity {
  fresh: boolean;
}

function identitiesOf(agent: Pick<Agent, 'userPrincipalName' | 'entraObjectId'>): Identity[] {
  const out: Identity[] = [];
  if (agent.userPrincipalName)
    out.push({ kind: 'agentUpn', field: 'agent.user_principal_name', value: agent.userPrincipalName.toLowerCase() });
  if (agent.entraObjectId)
    out.push({ kind: 'agentOid', field: 'agent.entra_object_id', value: agent.entraObjectId.toLowerCase() });
  return out;
}

const holds = (agent: Agent | undefined, identity: Identity) =>
  agent !== undefined && identitiesOf(agent).some((own) => own.kind === identity.kind && own.value === identity.value);

/** ALREADY_EXISTS naming the field (the status carries the field path first, like INVALID_ARGUMENT). */
class IdentityTakenError extends AlreadyExistsError {
  constructor(
    readonly field: string,
    holderId: string,
  ) {
    super('agent', holderId);
    this.message = `${field}: is already used by agent ${JSON.stringify(holderId)}; user principal names and Entra object ids are unique per tenant`;
  }
}

/**
 * Keeps agents' user principal names and Entra object ids unique per tenant, so that a sign-in maps
 * to exactly one agent. Each value is held by a claim record (a unique insert), taken before the
 * agent is written and released after it no longer uses the value; agents stored by an older
 * version without claims are found by a scan of the tenant's agents.
 *
 * A claim whose holder does not use the value (the writer crashed between claim and write, or
 * between the write and the release of the old value) is stale; it is taken over once it is older
 * than `staleAfterMs` (default 30 s), which also leaves an in-flight create time to write its agent.
 */
/** The default of createAgentIdentities' `staleAfterMs` (documented above). */
const defaultAgentIdentityOptions = { staleAfterMs: 30_000 } as const;

export function createAgentIdentities(options: { config: ConfigRepository; clock: () => number; staleAfterMs?: number }) {
  const { config, clock } = options;
  const staleAfterMs = options.staleAfterMs ?? defaultAgentIdentityOptions.staleAfterMs;

  async function claimOne(tenantId: string, agentId: string, identity: Identity): Promise<IdentityClaim> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const outcome = await config.claim(tenantId, identity.kind, identity.value, agentId, clock());
      if (outcome === 'claimed') return { ...identity, fresh: true };
      if (outcome.holderId === agentId) return { ...identity, fresh: false };
      const holder = await config.get(tenantId, 'agent', outcome.holderId);
      if (holds(holder?.value, identity) || clock() - outcome.claimedAt < staleAfterMs)
        throw new IdentityTakenError(identity.field, outcome.holderId);
      await config.releaseClaim(tenantId, identity.kind, identity.value, outcome);
    }
    throw new MailrouteError('ABORTED', `${identity.field}: its claim keeps changing; try again`);
  }

  /** Releases `claim` if the agent does not use it (after a failed write, or when the value changed or the agent is gone). */
  async function releaseUnused(tenantId: string, agentId: string, identity: Identity): Promise<void> {
    const holder: ClaimHolder | undefined = await config.claimHolder(tenantId, identity.kind, identity.value);
    if (holder?.holderId !== agentId) return;
    if (holds((await config.get(tenantId, 'agent', agentId))?.value, identity)) return;
    await config.releaseClaim(tenantId, identity.kind, identity.value, holder);
  }

  return {
    /**
     * Claims the identities `next` adds over `previous` (all of them on create) for `agentId`.
     * Throws IdentityTakenError (ALREADY_EXISTS naming the field) when another agent uses one;
     * claims already taken by this call are given back then.
     */
    async claim(tenantId: string, agentId: string, next: Agent, previous?: Agent): Promise<IdentityClaim[]> {
      const wanted = identitiesOf(next).filter((identity) => !previous || !holds(previous, identity));
      if (wanted.length === 0) return [];
      // Agents written by a version without claims.
      for (const other of await config.all(tenantId, 'agent')) {
        const clash = other.id !== agentId ? wanted.find((identity) => holds(other.value, identity)) : undefined;
        if (clash) throw new IdentityTakenError(clash.field, other.id);
      }
      const claimed: IdentityClaim[] = [];
      try {
        for (const identity of wanted) claimed.push(await claimOne(tenantId, agentId, identity));
      } catch (error) {
        await this.undo(tenantId, agentId, claimed);
        throw error;
      }
      return claimed;
    },
    /** Gives back fresh claims whose agent write did not happen. */
    async undo(tenantId: string, agentId: string, claims: readonly IdentityClaim[]): Promise<void> {
      for (const claim of claims) if (claim.fresh) await releaseUnused(tenantId, agentId, claim).catch(() => undefined);
    },
    /** After an update or delete: releases the identities of `previous` the agent no longer uses. */
    async releaseDropped(tenantId: string, agentId: string, previous: Agent): Promise<void> {
      for (const identity of identitiesOf(previous)) await releaseUnused(tenantId, agentId, identity);
    },
  };
}
