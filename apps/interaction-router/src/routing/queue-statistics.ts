import { AgentPresence, InteractionState, type QueueStatistics } from '@mailroute/contracts';
import type { InteractionRecord } from '@mailroute/persistence';
import { defaultQueuePolicy } from '@mailroute/routing-engine';
import type { RouterStores } from '../store/router-stores';
import type { RouterCore } from './router-core';

const S = InteractionState;
const openStates = [
  S.INTERACTION_STATE_QUEUED,
  S.INTERACTION_STATE_OFFERED,
  S.INTERACTION_STATE_ASSIGNED,
  S.INTERACTION_STATE_REPLIED,
];

/**
 * Queue statistics of a tenant as GetQueueStatistics reports them (and the router's queue metrics):
 * waiting, offered, assigned, oldest wait, service level achieved among interactions accepted in
 * `windowMs`, agents signed in / available, capacity.
 *
 * Cost: two searches of the tenant's interactions (open ones; completed ones received within 4
 * windows) whatever the number of queues — each a collection scan on FerretDB v1 — plus the agent
 * views. `queueIds` omitted: every configured queue of the tenant. One result per queue, in order.
 */
export async function loadQueueStatistics(
  deps: { core: Pick<RouterCore, 'clock' | 'agentViews' | 'queuePolicies'>; stores: Pick<RouterStores, 'interactions'> },
  tenantId: string,
  queueIds: readonly string[] | undefined,
  windowMs: number,
): Promise<QueueStatistics[]> {
  const { core, stores } = deps;
  const now = core.clock();
  const only = queueIds ? { queueIds: [...queueIds] } : {};
  const [open, closed, views, queues] = await Promise.all([
    stores.interactions.search(tenantId, { ...only, states: openStates }, undefined, 100_000),
    stores.interactions.search(
      tenantId,
      { ...only, states: [S.INTERACTION_STATE_COMPLETED], receivedAfter: now - windowMs * 4 },
      undefined,
      100_000,
    ),
    core.agentViews(tenantId),
    core.queuePolicies(tenantId),
  ]);
  const byQueue = (records: InteractionRecord[]) => {
    const grouped = new Map<string, InteractionRecord[]>();
    for (const record of records) grouped.set(record.queueId ?? '', [...(grouped.get(record.queueId ?? '') ?? []), record]);
    return grouped;
  };
  const openBy = byQueue(open);
  const closedBy = byQueue(closed);
  const agents = [...views.values()];
  return (queueIds ?? [...queues.keys()].sort()).map((queueId) =>
    computeQueueStatistics({
      queueId,
      now,
      windowMs,
      open: openBy.get(queueId) ?? [],
      closed: closedBy.get(queueId) ?? [],
      members: agents.filter((view) => view.agent.queueIds.includes(queueId)).map((view) => view.snapshot),
      serviceLevel: queues.get(queueId)?.policy.serviceLevel,
    }),
  );
}

export interface QueueStatisticsInput {
  queueId: string;
  now: number;
  windowMs: number;
  /** The queue's QUEUED, OFFERED, ASSIGNED and REPLIED interactions. */
  open: readonly InteractionRecord[];
  /** Its COMPLETED interactions (at least those accepted or closed within the window). */
  closed: readonly InteractionRecord[];
  /** Agents serving the queue. */
  members: readonly { presence: AgentPresence; capacity: number; activeInteractions: number; pendingOffers: number }[];
  /** The queue's service level; default 80 % within 4 h. */
  serviceLevel?: { thresholdMs: number; targetPercent: number } | undefined;
}

/** The statistics of one queue from its records (pure). */
function computeQueueStatistics(input: QueueStatisticsInput): QueueStatistics {
  const { queueId, now, windowMs, open, closed, members } = input;
  const waiting = open.filter((r) => r.state === S.INTERACTION_STATE_QUEUED);
  const oldest = waiting.reduce<number | undefined>(
    (min, r) => (min === undefined || (r.queuedAt ?? now) < min ? (r.queuedAt ?? now) : min),
    undefined,
  );
  const acceptedInWindow = [...open, ...closed].filter((r) => r.assignedAt !== undefined && r.assignedAt >= now - windowMs);
  const thresholdMs = input.serviceLevel?.thresholdMs ?? defaultQueuePolicy.serviceLevel.thresholdMs;
  const waitOf = (r: InteractionRecord) => (r.assignedAt ?? 0) - (r.queuedAt ?? r.assignedAt ?? 0);
  const within = acceptedInWindow.filter((r) => waitOf(r) <= thresholdMs).length;
  const toDuration = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 });
  const averageAccept = acceptedInWindow.length
    ? acceptedInWindow.reduce((sum, r) => sum + waitOf(r), 0) / acceptedInWindow.length
    : 0;
  return {
    queueId,
    computedAt: new Date(now),
    window: toDuration(windowMs),
    waiting: waiting.length,
    offered: open.filter((r) => r.state === S.INTERACTION_STATE_OFFERED).length,
    assigned: open.filter((r) => r.state === S.INTERACTION_STATE_ASSIGNED || r.state === S.INTERACTION_STATE_REPLIED).length,
    oldestWaitingSince: oldest === undefined ? undefined : new Date(oldest),
    longestWait: toDuration(oldest === undefined ? 0 : now - oldest),
    averageTimeToAccept: toDuration(Math.round(averageAccept)),
    serviceLevel: {
      threshold: toDuration(thresholdMs),
      targetPercent: input.serviceLevel?.targetPercent ?? defaultQueuePolicy.serviceLevel.targetPercent,
      achievedPercent: acceptedInWindow.length ? (100 * within) / acceptedInWindow.length : 100,
      interactionsCounted: acceptedInWindow.length,
    },
    agentsSignedIn: members.filter((m) => m.presence !== AgentPresence.AGENT_PRESENCE_OFFLINE).length,
    agentsAvailable: members.filter((m) => m.presence === AgentPresence.AGENT_PRESENCE_AVAILABLE).length,
    capacityTotal: members.reduce((sum, m) => sum + m.capacity, 0),
    capacityUsed: members.reduce((sum, m) => sum + m.activeInteractions + m.pendingOffers, 0),
    acceptedInWindow: acceptedInWindow.length,
    completedInWindow: closed.filter((r) => (r.closedAt ?? 0) >= now - windowMs).length,
    offersTimedOutInWindow: 0,
    offersDeclinedInWindow: 0,
    overflowedInWindow: 0,
  };
}
