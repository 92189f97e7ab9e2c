// The body of bench/interaction-router/planner-memory.bench.ts (the bench project may not import an
// app's sources): the planner's memory with a large backlog. Seeds BENCH_TENANTS tenants × BENCH_WAITING
// waiting interactions (the waiting index, embedded store in a temporary file), then, per cap, holds
// every tenant's planner view (planning/waiting-view.ts) and runs one planning decision per tenant
// (routing-engine planAssignments) over BENCH_AGENTS agents of capacity 5 spread over the tenants.
// Prints heap and RSS after a full GC, with the router's default cap (maxWaitingPerPlan) and
// without a cap (every waiting interaction held), in that order, in one process.
// Env: BENCH_TENANTS (default 10), BENCH_WAITING per tenant (10,000), BENCH_AGENTS in all (2,000).
import { mkdtempSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { AgentPresence } from '@mailroute/contracts';
import { createQueuePolicy, planAssignments, type AgentSnapshot } from '@mailroute/routing-engine';
import { createWaitingView } from '../src/planning/waiting-view';
import { defaultRouterCoreOptions } from '../src/routing/router-core';
import { openEmbeddedRouterStores } from '../src/store/embedded-router-stores';
import { interactionKey } from '../src/store/router-keys';

const tenants = Number(process.env['BENCH_TENANTS'] ?? 10);
const waitingPerTenant = Number(process.env['BENCH_WAITING'] ?? 10_000);
const agentsInAll = Number(process.env['BENCH_AGENTS'] ?? 2_000);
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function measure(): { heap: number; rss: number } {
  global.gc?.();
  global.gc?.();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

async function main(): Promise<void> {
  if (!global.gc) throw new Error('run with --expose-gc (bench/interaction-router/planner-memory.bench.ts does)');
  const stores = openEmbeddedRouterStores(path.join(mkdtempSync(path.join(tmpdir(), 'planner-memory-')), 'router.sqlite'));
  const tenantIds = Array.from({ length: tenants }, (_, t) => `tenant-${t}`);
  const started = Date.now() - 3_600_000;
  for (const tenantId of tenantIds)
    for (let i = 0; i < waitingPerTenant; i += 1)
      await stores.waiting.put(interactionKey(tenantId, `ix-${String(i).padStart(6, '0')}`), {
        version: 2,
        queueId: `q-${i % 5}`,
        priority: 100 + (i % 3) * 100,
        requiredSkills: i % 4 === 0 ? [{ skill: `skill-${i % 7}`, minLevel: 2 }] : [],
        queuedAt: started + i,
        enteredQueueAt: started + i,
        escalationStepsApplied: 0,
        declinedBy: [],
      });
  const queues = Array.from({ length: 5 }, (_, q) => createQueuePolicy(`q-${q}`));
  const agentsPerTenant = Math.ceil(agentsInAll / tenants);
  const agentsOf = (tenantId: string): AgentSnapshot[] =>
    Array.from({ length: agentsPerTenant }, (_, a) => ({
      agentId: `${tenantId}-agent-${a}`,
      enabled: true,
      presence: AgentPresence.AGENT_PRESENCE_AVAILABLE,
      capacity: 5,
      activeInteractions: 0,
      pendingOffers: 0,
      skills: { [`skill-${a % 7}`]: 5 },
      queueIds: queues.map((q) => q.queueId),
      idleSince: started,
    }));

  const lines: string[] = [];
  const baseline = measure();
  for (const cap of [defaultRouterCoreOptions.maxWaitingPerPlan, tenants * waitingPerTenant]) {
    const view = createWaitingView({ stores, clock: () => Date.now(), reloadMs: 30_000, maxEntries: cap });
    const passStarted = performance.now();
    let held = 0;
    let offers = 0;
    for (const tenantId of tenantIds) {
      const entries = await view.entries(tenantId);
      held += entries.length;
      const plan = planAssignments({
        now: Date.now(),
        queues,
        agents: agentsOf(tenantId),
        waiting: entries.map(([interactionId, document]) => ({ ...document, interactionId })),
        roundRobinCursors: {},
      });
      offers += plan.offers.length;
    }
    const passMs = performance.now() - passStarted;
    const after = measure();
    lines.push(
      `  cap ${String(cap).padStart(7)} per tenant   ${String(held).padStart(7)} held, ${offers} offers planned in ${(passMs / 1000).toFixed(1)} s;` +
        ` heap +${mib(after.heap - baseline.heap)}, RSS ${mib(after.rss)} (RSS +${mib(after.rss - baseline.rss)} over the seeded store)`,
    );
    // Keep the view alive until measured, then let it go before the next cap.
    for (const tenantId of tenantIds) view.forget(tenantId);
  }
  process.stdout.write(
    [
      `planner memory bench — ${tenants} tenants × ${waitingPerTenant} waiting, ${agentsInAll} agents × capacity 5, ${availableParallelism()} CPUs, load ${loadavg()[0]?.toFixed(1)} (shared machine)`,
      ...lines,
      '',
    ].join('\n'),
  );
  await stores.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
