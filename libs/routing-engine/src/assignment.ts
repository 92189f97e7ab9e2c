/**
 * The assignment planner: from one snapshot of waiting interactions and agents, which interaction is
 * offered to which agent now, after escalation, hours, skills, affinity and capacity. One algorithm in
 * one pass over shared working state, hence the file's size (over 400 lines): split, its steps would
 * pass that state between files.
 */
import { AgentPresence, type SkillRequirement } from '@mailroute/contracts';
import { applyDueEscalations, type EscalationDecision, type OutOfHoursOverflowDecision } from './escalation';
import { BinaryHeap } from './binary-heap';
import type { AgentSnapshot, EpochMillis, WaitingInteraction } from './model';
import { nextClosing, nextOpening } from './business-calendar';
import { effectivePriority, isQueueOpen, type QueuePolicy } from './queue-policy';
import { meetsRequirements, mergeRequirements, requirementsKey, skillSurplus } from './skills';

/** What the assignment step decides from: one consistent snapshot and the time. */
export interface AssignmentInput {
  now: EpochMillis;
  queues: ReadonlyMap<string, QueuePolicy> | readonly QueuePolicy[];
  agents: readonly AgentSnapshot[];
  /** QUEUED interactions. Duplicated ids are considered once. */
  waiting: readonly WaitingInteraction[];
  /** ROUND_ROBIN rotation per queue: the agent id last offered from it. */
  roundRobinCursors?: Readonly<Record<string, string>> | undefined;
  /** Stop after this many offers (default: no limit). */
  maxOffers?: number | undefined;
}

/** An offer the engine decided; the service claims the agent's capacity and the interaction, then persists it. */
export interface PlannedOffer {
  interactionId: string;
  agentId: string;
  /** The queue it is offered from (after any overflow in this plan). */
  queueId: string;
  /** `affinity`: the conversation's previous agent (STATE_CHANGE_REASON_OFFERED_BY_AFFINITY). */
  reason: 'routed' | 'affinity';
  /** now + the queue's offer timeout. */
  expiresAt: EpochMillis;
  /** The priority it was ordered by (Interaction.effective_priority). */
  effectivePriority: number;
  /**
   * Every open agent who could take the interaction had passed on it (declined or let an offer time
   * out), so the passes were set aside and it is offered again; the offer clears `declinedBy`.
   */
  passesForgotten?: true;
}

export interface AssignmentPlan {
  /** Offers in decision order (best interaction first). */
  offers: PlannedOffer[];
  /** Escalation steps that fired, to persist before (or with) the offers. */
  escalations: (EscalationDecision | OutOfHoursOverflowDecision)[];
  /** ROUND_ROBIN cursors of the queues whose rotation moved. */
  roundRobinCursors: Record<string, string>;
  /**
   * The earliest future time at which re-planning could decide something new without any other
   * change (an escalation step or an affinity owner-wait ending); undefined when none.
   */
  nextWakeAt: EpochMillis | undefined;
  /** Interactions held for their conversation's previous agent (owner_wait). */
  heldForAffinity: string[];
  /** Interactions whose queue is not in `queues`; they are left alone. */
  unknownQueue: string[];
  /** Escalation steps that could not fire (overflow to a missing queue). */
  blockedEscalations: { interactionId: string; message: string }[];
  /** Interactions not offered because their queue is closed (and its agents do not work out of hours). */
  closedQueue: string[];
}

/** An interaction after escalation, with its ordering score and affinity state. */
interface Candidate {
  readonly interaction: WaitingInteraction;
  readonly queue: QueuePolicy;
  readonly score: number;
  readonly declined: ReadonlySet<string> | undefined;
  /** Every open agent who could take it had passed: `declined` was set aside (see forgetExhaustedPasses). */
  readonly passesForgotten?: true;
  /** Set while conversation affinity applies. */
  readonly owner: string | undefined;
  /** Set while the interaction waits for its owner (owner_wait not over). */
  readonly holdUntil: EpochMillis | undefined;
}

/** An agent's working state during one plan. */
interface AgentState {
  readonly snapshot: AgentSnapshot;
  readonly id: string;
  /** Enabled and AVAILABLE. */
  readonly open: boolean;
  free: number;
  used: number;
  idleKey: number;
  lastAssignedKey: number;
  version: number;
}

/** Candidates in queue order: highest effective priority, then oldest, then id. */
function candidateBefore(a: Candidate, b: Candidate): boolean {
  if (a.score !== b.score) return a.score > b.score;
  if (a.interaction.queuedAt !== b.interaction.queuedAt) return a.interaction.queuedAt < b.interaction.queuedAt;
  return a.interaction.interactionId < b.interaction.interactionId;
}

const compareCandidates = (a: Candidate, b: Candidate): number => (candidateBefore(a, b) ? -1 : candidateBefore(b, a) ? 1 : 0);

/** What strategies compare, frozen when an agent enters a pool heap (live values change on offers). */
interface AgentKeys {
  readonly id: string;
  readonly capacity: number;
  readonly used: number;
  readonly idleKey: number;
  readonly lastAssignedKey: number;
  /** Skill surplus over the requirement list (BEST_SKILL_MATCH only; 0 otherwise). */
  readonly surplus: number;
}

const keysOf = (agent: AgentState, surplus: number): AgentKeys => ({
  id: agent.id,
  capacity: agent.snapshot.capacity,
  used: agent.used,
  idleKey: agent.idleKey,
  lastAssignedKey: agent.lastAssignedKey,
  surplus,
});

/**
 * True when `a` is preferred over `b` by a (non-rotation) strategy. Every strategy ends with
 * longest idle: earliest idle_since (idle agents before working ones), then earliest
 * last_assigned_at, then agent id, so the order is total and plans are deterministic.
 */
function agentBefore(strategy: QueuePolicy['strategy'], a: AgentKeys, b: AgentKeys): boolean {
  if (strategy === 'least-occupied') {
    // used/capacity compared without division.
    const left = a.used * b.capacity;
    const right = b.used * a.capacity;
    if (left !== right) return left < right;
  } else if (strategy === 'best-skill-match') {
    if (a.surplus !== b.surplus) return a.surplus > b.surplus;
  }
  if (a.idleKey !== b.idleKey) return a.idleKey < b.idleKey;
  if (a.lastAssignedKey !== b.lastAssignedKey) return a.lastAssignedKey < b.lastAssignedKey;
  return a.id < b.id;
}

/** Offers made in this plan rank agents after every snapshot value of last_assigned_at. */
const IN_PLAN_ASSIGNED_BASE = 1e15;

interface Prepared {
  now: EpochMillis;
  candidates: Candidate[];
  agents: AgentState[];
  agentsById: Map<string, AgentState>;
  plan: AssignmentPlan;
  cursors: Record<string, string>;
  maxOffers: number;
  offerSeq: number;
}

function toQueueMap(queues: AssignmentInput['queues']): ReadonlyMap<string, QueuePolicy> {
  return queues instanceof Map ? queues : new Map((queues as readonly QueuePolicy[]).map((queue) => [queue.queueId, queue]));
}

/** Escalation, scoring and affinity, shared by both planners so they differ only in agent search. */
function prepare(input: AssignmentInput): Prepared {
  const { now } = input;
  const queues = toQueueMap(input.queues);
  const plan: AssignmentPlan = {
    offers: [],
    escalations: [],
    roundRobinCursors: {},
    nextWakeAt: undefined,
    heldForAffinity: [],
    unknownQueue: [],
    blockedEscalations: [],
    closedQueue: [],
  };
  const wake = (at: EpochMillis | undefined): void => {
    if (at !== undefined && at > now && (plan.nextWakeAt === undefined || at < plan.nextWakeAt)) plan.nextWakeAt = at;
  };
  const seen = new Set<string>();
  const candidates: Candidate[] = [];
  for (const original of input.waiting) {
    if (seen.has(original.interactionId)) continue;
    seen.add(original.interactionId);
    if (!queues.has(original.queueId)) {
      plan.unknownQueue.push(original.interactionId);
      continue;
    }
    let interaction = original;
    const first = queues.get(original.queueId) as QueuePolicy;
    if (original.escalationStepsApplied < first.escalationSteps.length) {
      const escalated = applyDueEscalations(original, queues, now);
      interaction = escalated.interaction;
      if (escalated.decisions.length > 0) plan.escalations.push(...escalated.decisions);
      if (escalated.blocked)
        plan.blockedEscalations.push({ interactionId: original.interactionId, message: escalated.blocked.message });
      wake(escalated.nextDueAt);
    }
    let queue = queues.get(interaction.queueId) as QueuePolicy;
    const hours = queue.hours;
    if (hours && !isQueueOpen(queue, now)) {
      if (hours.whenClosed.kind === 'overflow') {
        const target = queues.get(hours.whenClosed.queueId);
        if (target && target.queueId !== queue.queueId && isQueueOpen(target, now)) {
          const requiredSkills = mergeRequirements(interaction.requiredSkills, target.requiredSkills);
          interaction = {
            ...interaction,
            queueId: target.queueId,
            requiredSkills,
            enteredQueueAt: now,
            escalationStepsApplied: 0,
          };
          plan.escalations.push({
            kind: 'out-of-hours-overflow',
            interactionId: interaction.interactionId,
            fromQueueId: queue.queueId,
            toQueueId: target.queueId,
            requiredSkills,
            queuedAt: interaction.queuedAt,
            enteredQueueAt: now,
            escalationStepsApplied: 0,
          });
          queue = target;
          const next = target.escalationSteps[0];
          if (next) wake(now + next.afterWaitMs);
        } else if (!target || target.queueId === queue.queueId) {
          plan.blockedEscalations.push({
            interactionId: interaction.interactionId,
            message: `queue ${queue.queueId} overflows out of hours to unknown queue ${hours.whenClosed.queueId}`,
          });
        } else if (target.hours) wake(nextOpening(target.hours.calendar, now));
      }
      if (!isQueueOpen(queue, now) && !hours.agentsWorkOutOfHours) {
        plan.closedQueue.push(interaction.interactionId);
        wake(nextOpening(hours.calendar, now));
        continue;
      }
    } else if (hours?.whenClosed.kind === 'overflow') {
      // Overflow fires at the closing instant itself: plan again then.
      wake(nextClosing(hours.calendar, now));
    }
    const declinedBy = interaction.declinedBy;
    const declined = declinedBy && declinedBy.length > 0 ? new Set(declinedBy) : undefined;
    let owner: string | undefined;
    let holdUntil: EpochMillis | undefined;
    const hint = interaction.affinity;
    if (
      hint &&
      queue.affinity.enabled &&
      now - hint.previousClosedAt <= queue.affinity.windowMs &&
      !declined?.has(hint.agentId)
    ) {
      owner = hint.agentId;
      const windowEnd = hint.previousClosedAt + queue.affinity.windowMs + 1;
      const waitEnd = interaction.enteredQueueAt + queue.affinity.ownerWaitMs;
      if (now < waitEnd) holdUntil = Math.min(waitEnd, windowEnd);
    }
    candidates.push({
      interaction,
      queue,
      score: effectivePriority(queue.aging, interaction.priority, interaction.queuedAt, now),
      declined,
      owner,
      holdUntil,
    });
  }

  const agents: AgentState[] = [];
  const agentsById = new Map<string, AgentState>();
  for (const snapshot of input.agents) {
    if (agentsById.has(snapshot.agentId)) continue;
    const free = snapshot.capacity - snapshot.activeInteractions - snapshot.pendingOffers;
    const state: AgentState = {
      snapshot,
      id: snapshot.agentId,
      open: snapshot.enabled && snapshot.presence === AgentPresence.AGENT_PRESENCE_AVAILABLE,
      free,
      used: snapshot.capacity - free,
      idleKey: snapshot.idleSince ?? Infinity,
      lastAssignedKey: snapshot.lastAssignedAt ?? -Infinity,
      version: 0,
    };
    agents.push(state);
    agentsById.set(state.id, state);
  }
  forgetExhaustedPasses(candidates, agents);
  return {
    now,
    candidates,
    agents,
    agentsById,
    plan,
    cursors: { ...input.roundRobinCursors },
    maxOffers: input.maxOffers ?? Infinity,
    offerSeq: 0,
  };
}

/**
 * A pass (a decline, or an offer left to time out) keeps an interaction from that agent while someone
 * else could take it. Once every open agent (enabled, AVAILABLE) who is a member of its queue with the
 * required skills has passed, the passes are set aside and it is offered again by the queue's strategy —
 * otherwise an interaction every agent let time out would wait for good. With no open eligible agent the
 * passes stand (nobody could be offered it anyway). Cost: per candidate with passes, one scan of the agents.
 */
function forgetExhaustedPasses(candidates: Candidate[], agents: readonly AgentState[]): void {
  candidates.forEach((candidate, index) => {
    const { declined, queue } = candidate;
    if (!declined) return;
    let eligible = 0;
    for (const agent of agents) {
      if (!agent.open || !agent.snapshot.queueIds.includes(queue.queueId)) continue;
      if (!meetsRequirements(agent.snapshot.skills, candidate.interaction.requiredSkills)) continue;
      if (!declined.has(agent.id)) return;
      eligible += 1;
    }
    if (eligible > 0) candidates[index] = { ...candidate, declined: undefined, passesForgotten: true };
  });
}

/** Interactions waiting for their owner without an offer are held; the earliest hold end is a wake-up. */
function finish(context: Prepared): AssignmentPlan {
  const { plan } = context;
  const offered = new Set(plan.offers.map((offer) => offer.interactionId));
  for (const candidate of context.candidates) {
    const until = candidate.holdUntil;
    if (until === undefined || offered.has(candidate.interaction.interactionId)) continue;
    plan.heldForAffinity.push(candidate.interaction.interactionId);
    if (plan.nextWakeAt === undefined || until < plan.nextWakeAt) plan.nextWakeAt = until;
  }
  return plan;
}

function makeOffer(context: Prepared, candidate: Candidate, agent: AgentState, reason: PlannedOffer['reason']): void {
  agent.free--;
  agent.used++;
  agent.version++;
  agent.idleKey = Infinity;
  agent.lastAssignedKey = IN_PLAN_ASSIGNED_BASE + context.offerSeq++;
  const { queue, interaction } = candidate;
  context.plan.offers.push({
    interactionId: interaction.interactionId,
    agentId: agent.id,
    queueId: queue.queueId,
    reason,
    expiresAt: context.now + queue.offerTimeoutMs,
    effectivePriority: candidate.score,
    ...(candidate.passesForgotten ? { passesForgotten: true as const } : {}),
  });
  if (reason === 'routed' && queue.strategy === 'round-robin') {
    context.cursors[queue.queueId] = agent.id;
    context.plan.roundRobinCursors[queue.queueId] = agent.id;
  }
}

/** The owner takes the offer when open with free capacity (declined owners never get affinity). */
function ownerAvailable(context: Prepared, candidate: Candidate): AgentState | undefined {
  const owner = candidate.owner === undefined ? undefined : context.agentsById.get(candidate.owner);
  return owner && owner.open && owner.free > 0 ? owner : undefined;
}

/**
 * The assignment step: fires due escalation steps, then offers waiting interactions to agents in
 * queue order (effective priority with aging, then oldest, then id) and returns the decisions.
 *
 * Guarantees, relative to the snapshot it is given:
 * - an agent gets offers only while enabled, AVAILABLE and below capacity (pending offers count),
 *   so no agent ends above capacity;
 * - an interaction gets at most one offer, never to an agent in its `declinedBy` while an open member
 *   of its queue with the required skills has not passed (then the passes are set aside:
 *   `passesForgotten`);
 * - a routed offer goes to a member of the interaction's queue with every required skill, chosen
 *   by the queue's strategy; an affinity offer goes to the conversation's previous agent, and only
 *   when that agent is enabled, AVAILABLE and has free capacity (queue membership and skills are not
 *   required: the agent handled the conversation), within the queue's affinity window;
 *   while owner_wait runs the interaction waits for its owner, afterwards it is routed normally;
 * - deterministic: the same input gives the same plan.
 *
 * Cost: O(W log W) to order W waiting interactions, plus per offer O(log W + log A) amortised heap
 * work; agents are indexed by queue and requirement list, so a pool is built once per distinct
 * (queue, skills) pair and exhausted pools retire all their waiting interactions at once.
 */
export function planAssignments(input: AssignmentInput): AssignmentPlan {
  const context = prepare(input);
  const { candidates, plan } = context;

  let totalFree = 0;
  for (const agent of context.agents) if (agent.open && agent.free > 0) totalFree += agent.free;

  // Agents who can take offers, by queue and, within a queue, by skill: a pool is built from the
  // holders of its rarest required skill, not from every member.
  const membersByQueue = new Map<string, QueueMembers>();
  for (const agent of context.agents) {
    if (!agent.open || agent.free <= 0) continue;
    for (const queueId of agent.snapshot.queueIds) {
      let members = membersByQueue.get(queueId);
      if (!members) membersByQueue.set(queueId, (members = { all: [], bySkill: new Map() }));
      members.all.push(agent);
      for (const skill in agent.snapshot.skills) {
        let holders = members.bySkill.get(skill);
        if (!holders) members.bySkill.set(skill, (holders = []));
        holders.push(agent);
      }
    }
  }
  const noMembers: QueueMembers = { all: [], bySkill: new Map() };

  const groups = new Map<string, Group>();
  const groupOf = (candidate: Candidate): Group => {
    const requirements = candidate.interaction.requiredSkills;
    const key = `${candidate.queue.queueId}\u0000${requirementsKey(requirements)}`;
    let group = groups.get(key);
    if (!group) {
      group = new Group(candidate.queue, requirements, membersByQueue.get(candidate.queue.queueId) ?? noMembers, context.cursors);
      groups.set(key, group);
    }
    return group;
  };

  interface Entry {
    group: Group | undefined;
    candidate: Candidate;
  }
  const entries: Entry[] = [];
  const byGroup = new Map<Group, Candidate[]>();
  for (const candidate of candidates) {
    if (candidate.owner !== undefined) {
      entries.push({ group: undefined, candidate });
      continue;
    }
    const group = groupOf(candidate);
    let list = byGroup.get(group);
    if (!list) byGroup.set(group, (list = []));
    list.push(candidate);
  }
  for (const [group, list] of byGroup) {
    list.sort(compareCandidates);
    group.items = new BinaryHeap(candidateBefore, list); // a sorted array is already a heap
    entries.push({ group, candidate: list[0] as Candidate });
  }
  const queue = new BinaryHeap<Entry>((a, b) => candidateBefore(a.candidate, b.candidate), entries);

  while (queue.size > 0 && totalFree > 0 && plan.offers.length < context.maxOffers) {
    const entry = queue.pop() as Entry;
    const candidate = entry.candidate;
    let group = entry.group;
    if (!group) {
      const owner = ownerAvailable(context, candidate);
      if (owner) {
        makeOffer(context, candidate, owner, 'affinity');
        totalFree--;
        continue;
      }
      if (candidate.holdUntil !== undefined) continue; // waits for its owner: see finish()
      // Affinity did not apply: route normally, from its place in the queue order.
      group = groupOf(candidate);
      if (group.dead) continue;
      group.items.push(candidate);
      if (group.items.peek() === candidate) queue.push({ group, candidate });
      continue;
    }
    if (group.dead || group.items.peek() !== candidate) continue; // superseded entry
    group.items.pop();
    const pick = group.select(candidate);
    if (pick === EXHAUSTED) {
      group.dead = true; // capacity only shrinks during a plan: nobody here can be served
      continue;
    }
    if (pick !== NONE) {
      makeOffer(context, candidate, pick, 'routed');
      totalFree--;
    }
    const next = group.items.peek();
    if (next) queue.push({ group, candidate: next });
  }
  return finish(context);
}

/** Open agents with free capacity that are members of one queue, also indexed by skill held. */
interface QueueMembers {
  all: AgentState[];
  bySkill: Map<string, AgentState[]>;
}

const NONE = 'none' as const;
const EXHAUSTED = 'exhausted' as const;

/** An agent in a pool heap with its keys as they were when it was filed. */
interface PoolEntry extends AgentKeys {
  readonly agent: AgentState;
  readonly version: number;
}

/** The agents that can serve one (queue, requirement list), and the interactions waiting for them. */
class Group {
  items: BinaryHeap<Candidate> = new BinaryHeap(candidateBefore, []);
  dead = false;
  private heap: BinaryHeap<PoolEntry> | undefined;
  private rotation: AgentState[] | undefined;
  private readonly surplus = new Map<AgentState, number>();

  constructor(
    private readonly queue: QueuePolicy,
    private readonly requirements: readonly SkillRequirement[],
    private readonly members: QueueMembers,
    private readonly cursors: Record<string, string>,
  ) {}

  /** The queue strategy's pick among agents with free capacity that did not decline; NONE if all declined; EXHAUSTED if none has capacity. */
  select(candidate: Candidate): AgentState | typeof NONE | typeof EXHAUSTED {
    return this.queue.strategy === 'round-robin' ? this.selectInRotation(candidate) : this.selectFromHeap(candidate);
  }

  private eligibleMembers(): AgentState[] {
    let scan = this.members.all;
    for (const { skill } of this.requirements) {
      const holders = this.members.bySkill.get(skill) ?? [];
      if (holders.length < scan.length) scan = holders;
    }
    const eligible: AgentState[] = [];
    for (const agent of scan) {
      if (agent.free > 0 && meetsRequirements(agent.snapshot.skills, this.requirements)) {
        eligible.push(agent);
        if (this.queue.strategy === 'best-skill-match')
          this.surplus.set(agent, skillSurplus(agent.snapshot.skills, this.requirements));
      }
    }
    return eligible;
  }

  private entryOf(agent: AgentState): PoolEntry {
    return {
      id: agent.id,
      capacity: agent.snapshot.capacity,
      used: agent.used,
      idleKey: agent.idleKey,
      lastAssignedKey: agent.lastAssignedKey,
      surplus: this.surplus.get(agent) ?? 0,
      agent,
      version: agent.version,
    };
  }

  private selectFromHeap(candidate: Candidate): AgentState | typeof NONE | typeof EXHAUSTED {
    if (!this.heap) {
      const strategy = this.queue.strategy;
      const members = this.eligibleMembers();
      this.heap = new BinaryHeap<PoolEntry>(
        (a, b) => agentBefore(strategy, a, b),
        members.map((agent) => this.entryOf(agent)),
      );
    }
    const heap = this.heap;
    let declinedOnly: PoolEntry[] | undefined;
    let pick: AgentState | undefined;
    while (heap.size > 0) {
      const entry = heap.peek() as PoolEntry;
      const agent = entry.agent;
      if (agent.free <= 0) {
        heap.pop(); // full for the rest of the plan
        continue;
      }
      if (entry.version !== agent.version) {
        // Keys only get worse after an offer, so a stale entry is re-filed with its new keys.
        heap.pop();
        heap.push(this.entryOf(agent));
        continue;
      }
      if (candidate.declined?.has(agent.id)) {
        (declinedOnly ??= []).push(heap.pop() as PoolEntry);
        continue;
      }
      pick = agent;
      break;
    }
    if (declinedOnly) for (const entry of declinedOnly) heap.push(entry);
    return pick ?? (declinedOnly ? NONE : EXHAUSTED);
  }

  private selectInRotation(candidate: Candidate): AgentState | typeof NONE | typeof EXHAUSTED {
    this.rotation ??= this.eligibleMembers().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const rotation = this.rotation;
    if (rotation.length === 0) return EXHAUSTED;
    const cursor = this.cursors[this.queue.queueId];
    let start = 0;
    if (cursor !== undefined) {
      // First agent after the cursor, wrapping around.
      let lo = 0;
      let hi = rotation.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((rotation[mid] as AgentState).id <= cursor) lo = mid + 1;
        else hi = mid;
      }
      start = lo % rotation.length;
    }
    let full = 0;
    let sawDeclined = false;
    let pick: AgentState | undefined;
    for (let i = 0; i < rotation.length; i++) {
      const agent = rotation[(start + i) % rotation.length] as AgentState;
      if (agent.free <= 0) full++;
      else if (candidate.declined?.has(agent.id)) sawDeclined = true;
      else {
        pick = agent;
        break;
      }
    }
    if (full > 0) this.rotation = rotation.filter((agent) => agent.free > 0);
    return pick ?? (sawDeclined ? NONE : EXHAUSTED);
  }
}

/**
 * The same decisions as `planAssignments`, by scanning every agent for every interaction
 * (O(W × A)). A reference for tests and the benchmark's baseline; not for production use.
 */
export function planAssignmentsNaive(input: AssignmentInput): AssignmentPlan {
  const context = prepare(input);
  const { plan } = context;
  const ordered = [...context.candidates].sort(compareCandidates);
  for (const candidate of ordered) {
    if (plan.offers.length >= context.maxOffers) break;
    if (candidate.owner !== undefined) {
      const owner = ownerAvailable(context, candidate);
      if (owner) {
        makeOffer(context, candidate, owner, 'affinity');
        continue;
      }
      if (candidate.holdUntil !== undefined) continue;
    }
    const { queue } = candidate;
    const requirements = candidate.interaction.requiredSkills;
    const cursor = context.cursors[queue.queueId];
    let best: AgentState | undefined;
    let bestKeys: AgentKeys | undefined;
    for (const agent of context.agents) {
      if (!agent.open || agent.free <= 0 || !agent.snapshot.queueIds.includes(queue.queueId)) continue;
      if (!meetsRequirements(agent.snapshot.skills, requirements) || candidate.declined?.has(agent.id)) continue;
      const keys = keysOf(agent, queue.strategy === 'best-skill-match' ? skillSurplus(agent.snapshot.skills, requirements) : 0);
      if (!best || !bestKeys) {
        [best, bestKeys] = [agent, keys];
      } else if (queue.strategy === 'round-robin') {
        // Rotation order: ids after the cursor first (ascending), then the rest (ascending).
        const rank = (id: string): [number, string] => [cursor !== undefined && id <= cursor ? 1 : 0, id];
        const [ra, ia] = rank(agent.id);
        const [rb, ib] = rank(best.id);
        if (ra < rb || (ra === rb && ia < ib)) best = agent;
      } else if (agentBefore(queue.strategy, keys, bestKeys)) {
        [best, bestKeys] = [agent, keys];
      }
    }
    if (best) makeOffer(context, candidate, best, 'routed');
  }
  return finish(context);
}
