import { AgentPresence, type SkillRequirement } from '@mailroute/contracts';
import type { SkillLevels } from './skills';

/** Milliseconds since the Unix epoch. The engine never reads a clock: callers pass `now`. */
export type EpochMillis = number;

/**
 * An agent as the assignment step sees it: a snapshot the service reads from its store. Capacity
 * counts pending offers too (Agent.capacity in the proto), so free capacity is
 * `capacity - activeInteractions - pendingOffers`.
 */
export interface AgentSnapshot {
  agentId: string;
  /** Disabled agents get no offers. */
  enabled: boolean;
  /** Only AVAILABLE agents get offers. */
  presence: AgentPresence;
  /** Concurrent interactions the agent may hold, pending offers included (proto 0 → 5: `toAgentCapacity`). */
  capacity: number;
  /** Interactions held (ASSIGNED or REPLIED). */
  activeInteractions: number;
  /** Offers pending for the agent. */
  pendingOffers: number;
  skills: SkillLevels;
  /** Queues whose interactions the agent may be offered by strategy. */
  queueIds: readonly string[];
  /** Since when available with no active interaction; undefined while working (LONGEST_IDLE). */
  idleSince?: EpochMillis | undefined;
  /** When the agent was last assigned an interaction; undefined when never. */
  lastAssignedAt?: EpochMillis | undefined;
}

/** Conversation affinity: who handled the conversation's previous interaction, and when it closed. */
export interface AffinityHint {
  agentId: string;
  previousClosedAt: EpochMillis;
}

/** A QUEUED interaction as the assignment step sees it. */
export interface WaitingInteraction {
  interactionId: string;
  queueId: string;
  /** Priority set by routing, 0-1000. */
  priority: number;
  /** Skills required now (rule's and queue's, after any relaxation). */
  requiredSkills: readonly SkillRequirement[];
  /** When it entered its queue for aging, ordering and service level (kept across overflow unless reset). */
  queuedAt: EpochMillis;
  /** When it entered its current queue: escalation steps count from here. */
  enteredQueueAt: EpochMillis;
  /** How many of the current queue's escalation steps were applied (0 on entering a queue). */
  escalationStepsApplied: number;
  /** Agents that declined it or let an offer of it lapse; they are not offered it again. */
  declinedBy?: readonly string[] | undefined;
  affinity?: AffinityHint | undefined;
}

/** Proto Agent.capacity: 0 means 5. */
export function toAgentCapacity(capacity: number): number {
  return capacity > 0 ? capacity : 5;
}

/** Free capacity: capacity minus held interactions and pending offers (negative when lowered below the load). */
export function freeCapacity(agent: AgentSnapshot): number {
  return agent.capacity - agent.activeInteractions - agent.pendingOffers;
}

/** True when the agent may get a new offer from a queue's strategy or affinity (ignores queue and skills). */
export function canTakeOffer(agent: AgentSnapshot): boolean {
  return agent.enabled && agent.presence === AgentPresence.AGENT_PRESENCE_AVAILABLE && freeCapacity(agent) > 0;
}

export type DirectOfferRefusal = 'agent-disabled' | 'agent-offline' | 'agent-at-capacity';

/**
 * Whether a supervisor's assignment or a transfer to this agent is allowed (TransferTarget.agent_id:
 * enabled, not OFFLINE, free capacity; queue membership and skills are not required).
 */
export function checkDirectOffer(
  agent: AgentSnapshot,
): { ok: true } | { ok: false; reason: DirectOfferRefusal; message: string } {
  if (!agent.enabled) return { ok: false, reason: 'agent-disabled', message: `agent ${agent.agentId} is disabled` };
  if (agent.presence === AgentPresence.AGENT_PRESENCE_OFFLINE || agent.presence === AgentPresence.AGENT_PRESENCE_UNSPECIFIED) {
    return { ok: false, reason: 'agent-offline', message: `agent ${agent.agentId} is offline` };
  }
  if (freeCapacity(agent) <= 0)
    return { ok: false, reason: 'agent-at-capacity', message: `agent ${agent.agentId} has no free capacity` };
  return { ok: true };
}
