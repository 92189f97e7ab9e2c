// Intake of mailbox-fetch: emails/s and freshness (delivery in the graph sandbox → InboundEmail event
// consumed from Kafka, p50/p99) for 1, 20 and 200 mailboxes, and memory per mailbox. Wires the
// mailbox-fetch core in this process exactly as its integration test does (graph-mail client with
// MSAL client credentials against the in-process graph sandbox, FerretDB stores, the real Kafka
// broker), starting Kafka and FerretDB itself through tools/test-infra (startAll/stopAll).
// Each scenario: a fresh sandbox tenant and database, mailboxes created and first-synced, then the
// emails delivered in BENCH_WAVES waves BENCH_WAVE_INTERVAL_MS apart (round-robin over the mailboxes);
// a Kafka consumer on mailroute.inbound-email.v1 here stamps each event on arrival.
// Sandbox throttling stays at Outlook's documented limits (4 concurrent requests and 10,000 per
// 10 min per app and mailbox); mailbox-fetch keeps its default 3 requests per mailbox. The poll
// interval is capped at BENCH_POLL_MS (default 1 s; production minimum is 10 s), which bounds freshness.
// Run: npx nx run bench:mailbox-fetch, or node tools/scripts/run-ts.mjs bench/mailbox-fetch/mailbox-fetch.bench.ts
// Env: BENCH_EMAILS_1 / BENCH_EMAILS_20 / BENCH_EMAILS_200 (emails per scenario, default 200/400/400),
// BENCH_MAILBOXES (comma list, default 1,20,200), BENCH_WAVES (default 5), BENCH_WAVE_INTERVAL_MS (default 1000),
// BENCH_POLL_MS (default 1000), BENCH_TIMEOUT_SECONDS (per scenario, default 90).
import { availableParallelism, cpus } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Mailbox, MailboxSyncState, type InboundEmail } from '@mailroute/contracts';
import { createGraphMailClient, createMailboxLimiter } from '@mailroute/graph-mail';
import { events, fromEventMessage, KafkaEventBus } from '@mailroute/messaging';
import { createLogger } from '@mailroute/platform';
import { createSandboxMailTenant, createSandboxTokenProvider, randomId, startTestGraphSandbox, waitFor, type SandboxMailTenant } from '@mailroute/testing';
// The benchmark drives the service's core in-process, as its integration test does.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { createMailboxFetchCore } from '../../apps/mailbox-fetch/src/mailbox-fetch';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { openMongoStores } from '../../apps/mailbox-fetch/src/store/mailbox-fetch.stores';

interface InfraState {
  kafka?: { brokers: string };
  ferretdb?: { url: string };
}
interface TestInfraModule {
  startAll(options?: { log?: (line: string) => void }): Promise<InfraState>;
  stopAll(state: InfraState | null | undefined): Promise<void>;
}

const root = path.resolve(__dirname, '../..');
const mailboxCounts = (process.env['BENCH_MAILBOXES'] ?? '1,20,200').split(',').map(Number);
const defaultEmails: Record<number, number> = { 1: 200, 20: 400, 200: 400 };
const emailsFor = (boxes: number) => Number(process.env[`BENCH_EMAILS_${boxes}`] ?? defaultEmails[boxes] ?? 400);
const waves = Number(process.env['BENCH_WAVES'] ?? 5);
const waveIntervalMs = Number(process.env['BENCH_WAVE_INTERVAL_MS'] ?? 1000);
const pollMs = Number(process.env['BENCH_POLL_MS'] ?? 1000);
const timeoutMs = Number(process.env['BENCH_TIMEOUT_SECONDS'] ?? 90) * 1000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function memory(): { heap: number; rss: number } {
  gc();
  gc();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, rss: usage.rss };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Row {
  mailboxes: number;
  emails: number;
  received: number;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
  heapKbPerMailbox: number;
  rssKbPerMailbox: number;
}

async function main(): Promise<void> {
  const infra = (await import(pathToFileURL(path.join(root, 'tools/test-infra/index.mjs')).href)) as TestInfraModule;
  const logger = createLogger({ name: 'mailbox-fetch-bench', level: (process.env['BENCH_LOG'] as 'info' | undefined) ?? 'silent' });
  const infraStarted = Date.now();
  const state = await infra.startAll({ log: () => undefined });
  const started = await startTestGraphSandbox();
  const rows: Row[] = [];
  try {
    const brokers = (state.kafka?.brokers ?? '').split(',');
    const mongoUrl = state.ferretdb?.url ?? '';
    console.log(`infrastructure up in ${((Date.now() - infraStarted) / 1000).toFixed(1)} s (Kafka ${brokers.join(',')}, FerretDB ${mongoUrl})`);
    const bus = new KafkaEventBus({ brokers, clientId: randomId('mf-bench') });
    await bus.ensureTopics([{ topic: events.inboundEmail.topic, partitions: 8 }]);
    /** subject → consumed at (ms). */
    const consumedAt = new Map<string, number>();
    const subscription = await bus.subscribe({
      groupId: randomId('mf-bench-consumer'),
      topics: [events.inboundEmail.topic],
      fromBeginning: false,
      handler: async (message) => {
        const now = Date.now();
        const event: InboundEmail = fromEventMessage('inboundEmail', message);
        const subject = event.message?.subject ?? '';
        if (!consumedAt.has(subject)) consumedAt.set(subject, now);
      },
    });
    await waitFor(() => subscription.assignments().length > 0, { timeoutMs: 30_000, description: 'consumer assignment' });
    const sandboxTenants = new Map<string, SandboxMailTenant>();

    try {
      for (const [scenarioIndex, count] of mailboxCounts.entries()) {
        const total = emailsFor(count);
        const setupStarted = Date.now();
        const tenantId = randomId('bench');
        const sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount: count });
        sandboxTenants.set(tenantId, sandbox);
        const before = memory();
        const stores = await openMongoStores({ url: mongoUrl, database: randomId('mfbench') });
        const graph = createGraphMailClient({
          tokens: createSandboxTokenProvider(started.endpoints, sandboxTenants),
          limiter: createMailboxLimiter({ perMailbox: 3 }),
          logger,
        });
        const core = createMailboxFetchCore({
          stores,
          graph,
          bus,
          logger,
          replicaId: `bench-${scenarioIndex}`,
          options: { leaseTtlMs: 30_000, scanIntervalMs: 1_000, pollIntervalCapMs: pollMs },
        });
        core.runtime.start();
        try {
          for (const [i, address] of sandbox.mailboxes.entries()) await core.createMailbox(tenantId, `box-${i}`, Mailbox.fromPartial({ address }));
          // Every mailbox owned and through its first (empty) sync before the clock starts.
          await waitFor(() => core.runtime.owned().length === count, { timeoutMs: 60_000, description: 'leases' });
          await waitFor(
            async () => {
              const statuses = await Promise.all(sandbox.mailboxes.map((_, i) => core.getSyncStatus(tenantId, `box-${i}`)));
              return statuses.every((status) => status.state === MailboxSyncState.MAILBOX_SYNC_STATE_HEALTHY);
            },
            { timeoutMs: 90_000, intervalMs: 1_000, description: 'first sync' },
          );

          const setupSeconds = (Date.now() - setupStarted) / 1000;
          const deliveredAt = new Map<string, number>();
          const tag = `bench${scenarioIndex}`;
          let next = 0;
          const firstDelivery = Date.now();
          for (let wave = 0; wave < waves; wave += 1) {
            const waveStart = Date.now();
            const inWave = Math.floor(((wave + 1) * total) / waves) - Math.floor((wave * total) / waves);
            const byMailbox = new Map<number, string[]>();
            for (let k = 0; k < inWave; k += 1, next += 1) {
              const box = next % count;
              byMailbox.set(box, [...(byMailbox.get(box) ?? []), `${tag} ${next}`]);
            }
            await Promise.all(
              [...byMailbox].map(async ([box, subjects]) => {
                const at = Date.now();
                await started.endpoints.admin.deliverBulk(
                  sandbox.directoryId,
                  sandbox.mailboxes[box] ?? '',
                  subjects.map((subject) => ({ from: 'customer@example.org', subject, body: `hello ${subject}` })),
                );
                for (const subject of subjects) deliveredAt.set(subject, at);
              }),
            );
            if (wave < waves - 1) await sleep(Math.max(0, waveIntervalMs - (Date.now() - waveStart)));
          }
          const subjects = [...deliveredAt.keys()];
          await waitFor(() => subjects.every((subject) => consumedAt.has(subject)), { timeoutMs, intervalMs: 50, description: `${total} events` }).catch(() => undefined);
          const consumed = subjects.filter((subject) => consumedAt.has(subject));
          const lastEvent = Math.max(...consumed.map((subject) => consumedAt.get(subject) ?? 0));
          const freshness = consumed.map((subject) => (consumedAt.get(subject) ?? 0) - (deliveredAt.get(subject) ?? 0)).sort((a, b) => a - b);
          const after = memory();
          rows.push({
            mailboxes: count,
            emails: total,
            received: consumed.length,
            seconds: (lastEvent - firstDelivery) / 1000,
            p50: percentile(freshness, 50),
            p99: percentile(freshness, 99),
            max: freshness.at(-1) ?? Number.NaN,
            heapKbPerMailbox: (after.heap - before.heap) / 1024 / count,
            rssKbPerMailbox: (after.rss - before.rss) / 1024 / count,
          });
          const throttled = (await started.endpoints.admin.stats(sandbox.directoryId)).throttled;
          console.log(`  ${count} mailbox(es): ${consumed.length}/${total} events, ${throttled} request(s) refused by sandbox throttling; setup (tenant, mailboxes, first sync) ${setupSeconds.toFixed(1)} s`);
        } finally {
          await core.runtime.stop().catch(() => undefined);
          await stores.close().catch(() => undefined);
        }
      }
    } finally {
      await subscription.close({ graceMs: 0 });
      await bus.close();
    }
  } finally {
    await started.sandbox.stop();
    await infra.stopAll(state);
  }

  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(
    `\nmailbox-fetch intake benchmark — Node ${process.version}, ${availableParallelism()} CPU(s) (${cpu}); Kafka + FerretDB via tools/test-infra, graph sandbox and mailbox-fetch core in this process`,
  );
  console.log(
    `sandbox throttling at Outlook's limits (4 concurrent, 10,000 req/10 min per mailbox), mailbox-fetch 3 concurrent per mailbox; poll cap ${pollMs} ms; ${waves} delivery waves ${waveIntervalMs} ms apart`,
  );
  console.log(
    `${'mailboxes'.padStart(9)} ${'emails'.padStart(7)} ${'events'.padStart(7)} ${'seconds'.padStart(8)} ${'emails/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'heap KB/mbx'.padStart(12)} ${'RSS KB/mbx'.padStart(11)}`,
  );
  for (const row of rows) {
    console.log(
      [
        String(row.mailboxes).padStart(9),
        String(row.emails).padStart(7),
        String(row.received).padStart(7),
        row.seconds.toFixed(2).padStart(8),
        (row.received / row.seconds).toFixed(1).padStart(9),
        row.p50.toFixed(0).padStart(8),
        row.p99.toFixed(0).padStart(8),
        row.max.toFixed(0).padStart(8),
        row.heapKbPerMailbox.toFixed(1).padStart(12),
        row.rssKbPerMailbox.toFixed(1).padStart(11),
      ].join(' '),
    );
  }
  console.log('freshness = InboundEmail consumed from Kafka here − sandbox delivery call; emails/s = events ÷ (first delivery → last event); memory = heap/RSS delta after GC ÷ mailboxes (core, stores, caches; includes the in-process sandbox\'s share)');
  if (rows.some((row) => row.received < row.emails)) {
    console.error('some events did not arrive within the timeout');
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
