// Routing decisions per second of the pure routing engine (libs/routing-engine) with 10,000 waiting
// interactions and 1,000 agents, built from a fixed seed. Three scenarios, each bounded in time:
//   cold    — one plan over the whole backlog with every agent's free capacity open (the first plan
//             after a restart or a big burst: thousands of offers in one call);
//   steady  — the service's loop: each batch some agents finish work, new mail arrives to keep 10k
//             waiting, and the engine re-plans over the full snapshot (few offers per call);
//   naive   — the same cold input through planAssignmentsNaive (every agent scanned per interaction),
//             the baseline the indexed planner must beat; its decisions are checked to be identical.
// Prints decisions/s, p50/p99 per plan call, and heap/RSS. Run:
//   node tools/scripts/run-ts.mjs bench/routing-engine/routing-engine.bench.ts   (or `nx run bench:routing-engine`)
// Env: BENCH_SECONDS (per scenario, default 12), BENCH_SEED (default 42).
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { AgentPresence } from '@mailroute/contracts';
import {
  createQueuePolicy,
  planAssignments,
  planAssignmentsNaive,
  type AgentSnapshot,
  type AssignmentInput,
  type AssignmentPlan,
  type QueuePolicy,
  type QueueStrategyName,
  type WaitingInteraction,
} from '@mailroute/routing-engine';
import { seededRandom } from '@mailroute/testing';

const WAITING = 10_000;
const AGENTS = 1_000;
const QUEUES = 20;
const SKILLS = 40;
const MINUTE = 60_000;
const secondsPerScenario = Number(process.env['BENCH_SECONDS'] ?? 12);
const seed = Number(process.env['BENCH_SEED'] ?? 42);

/** mulberry32: small, fast, seeded. */

const random = seededRandom(seed);
const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const queueIds = Array.from({ length: QUEUES }, (_, i) => `queue-${i}`);
const skillIds = Array.from({ length: SKILLS }, (_, i) => `skill-${i}`);
const strategies: QueueStrategyName[] = ['longest-idle', 'least-occupied', 'round-robin', 'best-skill-match'];
const START = Date.UTC(2026, 10, 23, 9, 0);

function buildQueues(): QueuePolicy[] {
  return queueIds.map((queueId, i) =>
    createQueuePolicy(queueId, {
      strategy: strategies[i % strategies.length] as QueueStrategyName,
      aging: { intervalMs: 10 * MINUTE, increment: 5, ceiling: 1000 },
      escalationSteps:
        i % 2 === 0
          ? [
              { afterWaitMs: 30 * MINUTE, action: { kind: 'relax-skills', dropAll: false, dropSkills: [], lowerMinLevelBy: 2 } },
              {
                afterWaitMs: 120 * MINUTE,
                action: { kind: 'overflow', queueId: queueIds[(i + 1) % QUEUES] as string, resetWaitTime: false },
              },
            ]
          : [],
    }),
  );
}

function buildAgents(): AgentSnapshot[] {
  return Array.from({ length: AGENTS }, (_, i) => {
    const skills: Record<string, number> = {};
    for (let k = int(3, 8); k > 0; k--) skills[pick(skillIds)] = int(1, 10);
    const memberships = new Set<string>();
    for (let k = int(1, 4); k > 0; k--) memberships.add(pick(queueIds));
    const capacity = int(2, 8);
    return {
      agentId: `agent-${String(i).padStart(4, '0')}`,
      enabled: random() > 0.02,
      presence:
        random() < 0.85
          ? AgentPresence.AGENT_PRESENCE_AVAILABLE
          : pick([AgentPresence.AGENT_PRESENCE_BUSY, AgentPresence.AGENT_PRESENCE_AWAY]),
      capacity,
      activeInteractions: int(0, Math.floor(capacity / 2)),
      pendingOffers: 0,
      skills,
      queueIds: [...memberships],
      idleSince: random() < 0.5 ? START - int(0, 60) * MINUTE : undefined,
      lastAssignedAt: START - int(0, 600) * MINUTE,
    };
  });
}

let nextInteraction = 0;
function newInteraction(now: number, agents: readonly AgentSnapshot[]): WaitingInteraction {
  const queuedAt = now - int(0, 240) * MINUTE;
  const requiredSkills = [];
  for (let k = int(0, 2); k > 0; k--) requiredSkills.push({ skill: pick(skillIds), minLevel: int(1, 5) });
  const unique = [...new Map(requiredSkills.map((requirement) => [requirement.skill, requirement])).values()];
  return {
    interactionId: `i-${String(nextInteraction++).padStart(7, '0')}`,
    queueId: pick(queueIds),
    priority: pick([50, 100, 100, 100, 200, 500, 900]),
    requiredSkills: unique,
    queuedAt,
    enteredQueueAt: queuedAt,
    escalationStepsApplied: 0,
    declinedBy: random() < 0.05 ? [pick(agents).agentId] : undefined,
    affinity: random() < 0.1 ? { agentId: pick(agents).agentId, previousClosedAt: now - int(1, 96 * 60) * MINUTE } : undefined,
  };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);

interface Row {
  scenario: string;
  calls: number;
  decisions: number;
  seconds: number;
  latencies: number[];
}

function row({ scenario, calls, decisions, seconds, latencies }: Row): string {
  const sorted = [...latencies].sort((a, b) => a - b);
  return [
    scenario.padEnd(34),
    String(calls).padStart(6),
    String(decisions).padStart(10),
    Math.round(decisions / seconds)
      .toLocaleString('en-US')
      .padStart(13),
    percentile(sorted, 50).toFixed(1).padStart(9),
    percentile(sorted, 99).toFixed(1).padStart(9),
  ].join(' ');
}

/** Runs `plan` on fresh copies of `input` until the time budget (or `maxCalls`) is spent. */
function runCold(
  scenario: string,
  plan: (input: AssignmentInput) => AssignmentPlan,
  input: AssignmentInput,
  maxCalls: number,
): { result: Row; last: AssignmentPlan } {
  const latencies: number[] = [];
  let decisions = 0;
  let last: AssignmentPlan | undefined;
  const deadline = performance.now() + secondsPerScenario * 1000;
  while (latencies.length < maxCalls && (latencies.length === 0 || performance.now() < deadline)) {
    const started = performance.now();
    last = plan(input);
    latencies.push(performance.now() - started);
    decisions += last.offers.length;
  }
  const seconds = latencies.reduce((sum, ms) => sum + ms, 0) / 1000;
  return { result: { scenario, calls: latencies.length, decisions, seconds, latencies }, last: last as AssignmentPlan };
}

/**
 * The service's loop: plan → the offers are accepted (load moves from free to active) → some work
 * completes → new mail keeps the backlog at 10k → time moves on by one second.
 */
function runSteady(queues: QueuePolicy[], initialAgents: AgentSnapshot[], initialWaiting: WaitingInteraction[]): Row {
  const agents = initialAgents.map((agent) => ({ ...agent }));
  const byId = new Map(agents.map((agent) => [agent.agentId, agent]));
  let waiting = initialWaiting;
  let now = START;
  let cursors: Record<string, string> = {};
  // Fill agents up first, as a running system would be.
  const fill = planAssignments({ now, queues, agents, waiting });
  const accept = (plan: AssignmentPlan): void => {
    const offered = new Set<string>();
    for (const offer of plan.offers) {
      const agent = byId.get(offer.agentId) as AgentSnapshot;
      agent.activeInteractions++;
      agent.idleSince = undefined;
      agent.lastAssignedAt = now;
      offered.add(offer.interactionId);
    }
    waiting = waiting.filter((interaction) => !offered.has(interaction.interactionId));
  };
  accept(fill);
  const latencies: number[] = [];
  let decisions = 0;
  const deadline = performance.now() + secondsPerScenario * 1000;
  while (performance.now() < deadline) {
    now += 1000;
    for (const agent of agents) {
      if (agent.activeInteractions > 0 && random() < 0.03) {
        agent.activeInteractions--;
        if (agent.activeInteractions === 0) agent.idleSince = now;
      }
    }
    while (waiting.length < WAITING) waiting.push(newInteraction(now, agents));
    const started = performance.now();
    const plan = planAssignments({ now, queues, agents, waiting, roundRobinCursors: cursors });
    latencies.push(performance.now() - started);
    decisions += plan.offers.length;
    cursors = { ...cursors, ...plan.roundRobinCursors };
    accept(plan);
  }
  const seconds = latencies.reduce((sum, ms) => sum + ms, 0) / 1000;
  return { scenario: 'steady (re-plan 10k per batch)', calls: latencies.length, decisions, seconds, latencies };
}

function main(): void {
  const baseline = process.memoryUsage();
  const queues = buildQueues();
  const agents = buildAgents();
  const waiting = Array.from({ length: WAITING }, () => newInteraction(START, agents));
  const input: AssignmentInput = { now: START, queues, agents, waiting };
  const built = process.memoryUsage();

  console.log(
    `\nrouting-engine benchmark — Node ${process.version}, ${availableParallelism()} CPU(s), seed ${seed}, ` +
      `${WAITING.toLocaleString('en-US')} waiting, ${AGENTS.toLocaleString('en-US')} agents, ${QUEUES} queues, ${SKILLS} skills, ≤${secondsPerScenario} s per scenario`,
  );
  const freeSlots = agents.reduce(
    (sum, agent) =>
      sum +
      (agent.enabled && agent.presence === AgentPresence.AGENT_PRESENCE_AVAILABLE
        ? Math.max(0, agent.capacity - agent.activeInteractions)
        : 0),
    0,
  );
  console.log(`free capacity at start: ${freeSlots} slots; snapshot heap: ${mb(built.heapUsed - baseline.heapUsed)} MB`);
  console.log(
    `${'scenario'.padEnd(34)} ${'calls'.padStart(6)} ${'decisions'.padStart(10)} ${'decisions/s'.padStart(13)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)}`,
  );

  const cold = runCold('cold (indexed planAssignments)', planAssignments, input, 10_000);
  console.log(row(cold.result));
  const steady = runSteady(queues, agents, waiting);
  console.log(row(steady));
  const naive = runCold('cold (naive reference, baseline)', planAssignmentsNaive, input, 5);
  console.log(row(naive.result));

  const same = JSON.stringify(cold.last) === JSON.stringify(naive.last);
  const speedup = naive.result.seconds / naive.result.calls / (cold.result.seconds / cold.result.calls);
  console.log(
    `indexed vs naive on the cold input: identical decisions: ${same ? 'yes' : 'NO'}; ${speedup.toFixed(1)}× faster per plan`,
  );
  const after = process.memoryUsage();
  console.log(
    `memory: heap used ${mb(after.heapUsed)} MB, heap total ${mb(after.heapTotal)} MB, RSS ${mb(after.rss)} MB (RSS before building ${mb(baseline.rss)} MB)`,
  );
  if (!same) process.exitCode = 1;
}

main();
