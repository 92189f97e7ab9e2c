// The body of bench/interaction-router/queue-metrics.bench.ts (the bench project may not import an
// app's sources, so it spawns this file from the router's own bench/ folder): what one queue-metrics snapshot costs on FerretDB.
// Seeds BENCH_TENANTS tenants with BENCH_QUEUES queues and BENCH_INTERACTIONS interactions each
// (a third QUEUED with their waiting-index entries, a third ASSIGNED, a third COMPLETED in the last
// hour), then times BENCH_SNAPSHOTS live snapshots (the `_id`-keyed indexes), as many statistics
// snapshots (GetQueueStatistics: two interaction scans per tenant) and one GET /metrics. FerretDB
// comes from tools/test-infra unless MAILROUTE_TEST_MONGODB_URL names one. Seeding commits one
// interaction at a time (as the router does) and is the slow part on FerretDB.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InboundEmail, InteractionState, StateChangeReason } from '@mailroute/contracts';
import { InProcessEventBus } from '@mailroute/messaging';
import { createLogger, startMetrics } from '@mailroute/platform';
import type { InteractionHistoryRecord } from '@mailroute/persistence';
import { receivedRecord, toActorRecord } from '../src/routing/interaction-mapping';
import { createRouterCore } from '../src/routing/router-core';
import { interactionKey } from '../src/store/router-keys';
import { openMongoRouterStores } from '../src/store/router-stores';
import { createRouterMetrics } from '../src/metrics/router.metrics';

interface TestInfraModule {
  startAll(options?: { log?: (line: string) => void }): Promise<{ ferretdb?: { url: string } }>;
  stopAll(state: unknown): Promise<void>;
}

const root = path.resolve(__dirname, '../../..');
const tenants = Number(process.env['BENCH_TENANTS'] ?? 2);
const queuesPerTenant = Number(process.env['BENCH_QUEUES'] ?? 5);
const interactionsPerTenant = Number(process.env['BENCH_INTERACTIONS'] ?? 300);
const snapshots = Number(process.env['BENCH_SNAPSHOTS'] ?? 5);
const S = InteractionState;

async function main(): Promise<void> {
  const infra = (await import(pathToFileURL(path.join(root, 'tools/test-infra/index.mjs')).href)) as TestInfraModule;
  const given = process.env['MAILROUTE_TEST_MONGODB_URL'];
  const state = given ? { ferretdb: { url: given } } : await infra.startAll({ log: () => undefined });
  const logger = createLogger({ name: 'queue-metrics-bench', level: 'error' });
  const database = `queue-metrics-bench-${randomUUID().slice(0, 8)}`;
  const stores = await openMongoRouterStores(state.ferretdb?.url ?? '', database);
  const bus = new InProcessEventBus({ logger });
  const core = createRouterCore({ stores, bus, logger });
  const now = Date.now();

  const seedStarted = performance.now();
  for (let t = 0; t < tenants; t += 1) {
    const tenantId = `bench-tenant-${t}`;
    for (let q = 0; q < queuesPerTenant; q += 1) {
      await core.config.write(
        tenantId,
        'queue',
        `queue-${q}`,
        0,
        { queueId: `queue-${q}`, displayName: `Queue ${q}` } as never,
        now,
        now,
      );
    }
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < interactionsPerTenant; i += 1) {
      const interactionId = `ix-${t}-${i}`;
      const base = receivedRecord(
        InboundEmail.fromPartial({ tenantId, interactionId, mailboxId: 'support', mailboxAddress: 'support@bench.test' }),
        now,
        undefined,
      );
      const kind = i % 3;
      const queuedAt = now - 60_000 - (i % 600) * 1_000;
      const state =
        kind === 0 ? S.INTERACTION_STATE_QUEUED : kind === 1 ? S.INTERACTION_STATE_ASSIGNED : S.INTERACTION_STATE_COMPLETED;
      const interaction = {
        ...base,
        state,
        queueId: `queue-${i % queuesPerTenant}`,
        queuedAt,
        ...(kind > 0 ? { assignedAt: queuedAt + 30_000, agentId: 'agent-1' } : {}),
        ...(kind === 2 ? { closedAt: queuedAt + 90_000 } : {}),
      };
      const entry: InteractionHistoryRecord = {
        tenantId,
        interactionId,
        version: 1,
        occurredAt: now,
        previousState: S.INTERACTION_STATE_UNSPECIFIED,
        state,
        reason: StateChangeReason.STATE_CHANGE_REASON_RECEIVED,
        actor: toActorRecord({ kind: 'customer' }),
        queueId: interaction.queueId,
        agentId: '',
        note: '',
        interaction,
      };
      writes.push(stores.interactions.commit(entry));
      if (kind === 0) {
        writes.push(
          stores.waiting.put(interactionKey(tenantId, interactionId), {
            version: 1,
            queueId: interaction.queueId,
            priority: 0,
            requiredSkills: [],
            queuedAt,
            enteredQueueAt: queuedAt,
            escalationStepsApplied: 0,
            declinedBy: [],
          }),
        );
      }
      if (writes.length >= 32) await Promise.all(writes.splice(0));
    }
    await Promise.all(writes);
  }
  const seedMs = performance.now() - seedStarted;

  const metrics = await startMetrics({ serviceName: 'interaction-router', port: 0 });
  const routerMetrics = createRouterMetrics({
    meter: metrics.meter,
    stores,
    logger,
    replicaId: 'bench',
    options: { snapshotIntervalMs: 600_000 },
  });
  routerMetrics.start(core);
  await routerMetrics.refresh(); // the first one runs at start; wait for it
  const timed = async (statistics: boolean) => {
    const durations: number[] = [];
    for (let i = 0; i < snapshots; i += 1) {
      const started = performance.now();
      await routerMetrics.refresh({ statistics });
      durations.push(performance.now() - started);
    }
    return durations.sort((a, b) => a - b);
  };
  const liveDurations = await timed(false);
  const fullDurations = await timed(true);
  const scrapeStarted = performance.now();
  const body = await (await fetch(`http://127.0.0.1:${metrics.port ?? 0}/metrics`)).text();
  const scrapeMs = performance.now() - scrapeStarted;
  const series = body.split('\n').filter((line) => line.startsWith('mailroute_router_queue_waiting{')).length;
  const line = (what: string, sorted: number[]) => {
    const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
    return `  ${what}: median ${median.toFixed(0)} ms, min ${(sorted[0] ?? 0).toFixed(0)} ms, max ${(sorted[sorted.length - 1] ?? 0).toFixed(0)} ms over ${sorted.length}; ${(median / tenants).toFixed(0)} ms per tenant`;
  };
  process.stdout.write(
    [
      `queue-metrics snapshot on FerretDB — ${tenants} tenants × ${queuesPerTenant} queues × ${interactionsPerTenant} interactions (seeded in ${(seedMs / 1000).toFixed(1)} s)`,
      line('live snapshot (indexes, every ROUTER_METRICS_SNAPSHOT_MS)', liveDurations),
      line('live + statistics snapshot (2 interaction scans per tenant, every ROUTER_METRICS_STATISTICS_MS)', fullDurations),
      `  GET /metrics: ${scrapeMs.toFixed(1)} ms, ${body.length} bytes, ${series} queue series`,
    ].join('\n') + '\n',
  );
  await routerMetrics.stop();
  await metrics.shutdown();
  await bus.close();
  await stores.close();
  if (!given) await infra.stopAll(state);
}

void main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exit(1);
});
