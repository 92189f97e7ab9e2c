// Intake of mailbox-fetch: emails/s and freshness (delivery in the graph sandbox → InboundEmail event
// consumed from Kafka, p50/p99) for 1, 20 and 200 mailboxes, and memory per mailbox. Runs the service
// as operators do: apps/mailbox-fetch/src/main.ts as its own process (FerretDB store, the real Kafka
// broker), with tokens from a real auth-broker process (MSAL against the graph sandbox over HTTPS);
// Kafka and FerretDB are started through tools/test-infra (startAll/stopAll) unless MAILROUTE_TEST_KAFKA_BROKERS
// and MAILROUTE_TEST_MONGODB_URL name running ones; the sandbox runs in this process.
// Each scenario: a fresh sandbox tenant (mailboxes created in parallel), a fresh database and a fresh
// mailbox-fetch process; mailboxes created over gRPC and first-synced, then the emails delivered in
// BENCH_WAVES waves BENCH_WAVE_INTERVAL_MS apart (round-robin over the mailboxes); a Kafka consumer on
// mailroute.inbound-email.v1 here stamps each event on arrival.
// Sandbox throttling stays at Outlook's documented limits (4 concurrent requests and 10,000 per
// 10 min per app and mailbox); mailbox-fetch keeps its default 3 requests per mailbox. The poll
// interval is capped at BENCH_POLL_MS (default 1 s; production minimum is 10 s), which bounds freshness.
// Memory per mailbox: the mailbox-fetch process's RSS (median of samples) after the first sync of all
// mailboxes minus its RSS before any mailbox existed, divided by the mailboxes.
// Run: npx nx run bench:mailbox-fetch, or node tools/scripts/run-ts.mjs bench/mailbox-fetch/mailbox-fetch.bench.ts
// Env: BENCH_EMAILS_1 / BENCH_EMAILS_20 / BENCH_EMAILS_200 (emails per scenario, default 200/400/400),
// BENCH_MAILBOXES (comma list, default 1,20,200), BENCH_WAVES (default 5), BENCH_WAVE_INTERVAL_MS (default 1000),
// BENCH_POLL_MS (default 1000), BENCH_TIMEOUT_SECONDS (per scenario, default 90).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { MailboxFetchServiceDefinition, MailboxSyncState, type InboundEmail } from '@mailroute/contracts';
import { events, fromEventMessage, KafkaEventBus } from '@mailroute/messaging';
import { createGrpcClient, hashBearerCredential } from '@mailroute/platform';
import {
  createSandboxMailTenant,
  randomId,
  startAuthBrokerProcess,
  startServiceProcess,
  startTestGraphSandbox,
  waitFor,
  type SandboxMailTenant,
  startBenchInfra,
} from '@mailroute/testing';
import { Metadata } from 'nice-grpc';
import { inParallel, percentile, sleep } from './intake-bench-support';

const mailboxCounts = (process.env['BENCH_MAILBOXES'] ?? '1,20,200').split(',').map(Number);
const defaultEmails: Record<number, number> = { 1: 200, 20: 400, 200: 400 };
const emailsFor = (boxes: number) => Number(process.env[`BENCH_EMAILS_${boxes}`] ?? defaultEmails[boxes] ?? 400);
const waves = Number(process.env['BENCH_WAVES'] ?? 5);
const waveIntervalMs = Number(process.env['BENCH_WAVE_INTERVAL_MS'] ?? 1000);
const pollMs = Number(process.env['BENCH_POLL_MS'] ?? 1000);
const timeoutMs = Number(process.env['BENCH_TIMEOUT_SECONDS'] ?? 90) * 1000;

/** Resident set size of a process (Linux /proc), in bytes. */
function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? Number.NaN) * 1024;
}

/** Median of `samples` RSS readings `intervalMs` apart (RSS moves with every GC). */
async function steadyRss(pid: number, samples = 9, intervalMs = 300): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    values.push(rssOf(pid));
    await sleep(intervalMs);
  }
  return values.sort((a, b) => a - b)[Math.floor(samples / 2)] ?? Number.NaN;
}

interface Row {
  mailboxes: number;
  emails: number;
  received: number;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
  rssKbPerMailbox: number;
  setupSeconds: number;
}

async function main(): Promise<void> {
  const infraStarted = Date.now();
  // Servers already running (MAILROUTE_TEST_KAFKA_BROKERS + MAILROUTE_TEST_MONGODB_URL) are used as they are.
  const infra = await startBenchInfra();
  const certDir = mkdtempSync(path.join(tmpdir(), 'mf-bench-sandbox-'));
  const workDir = mkdtempSync(path.join(tmpdir(), 'mf-bench-'));
  const started = await startTestGraphSandbox({ certDir });
  const tenantIds = mailboxCounts.map(() => randomId('bench'));
  const apiKeys = Object.fromEntries(tenantIds.map((tenantId) => [tenantId, `mrk_${randomId('key')}`]));
  const serviceToken = `mrs_${randomId('fetch')}`;
  const authBroker = await startAuthBrokerProcess({
    endpoints: started.endpoints,
    workDir,
    apiKeys,
    serviceTokens: { 'mailbox-fetch': serviceToken },
  });
  const rows: Row[] = [];
  try {
    const brokers = infra.kafkaBrokers;
    const mongoUrl = infra.mongoUrl;
    console.log(
      `infrastructure up in ${((Date.now() - infraStarted) / 1000).toFixed(1)} s (Kafka ${brokers.join(',')}, FerretDB ${mongoUrl}, auth-broker ${authBroker.address})`,
    );
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

    try {
      for (const [scenarioIndex, count] of mailboxCounts.entries()) {
        const total = emailsFor(count);
        const setupStarted = Date.now();
        const tenantId = tenantIds[scenarioIndex] ?? '';
        const auth = { metadata: Metadata({ authorization: `Bearer ${apiKeys[tenantId] ?? ''}` }) };
        // The sandbox tenant and app first, then its mailboxes 20 at a time.
        const base = await createSandboxMailTenant(started.endpoints, { mailboxCount: 0 });
        const sandbox: SandboxMailTenant = {
          ...base,
          mailboxes: Array.from({ length: count }, (_, i) => `box${i}@${base.domain}`),
        };
        await inParallel(sandbox.mailboxes, 20, async (address, i) => {
          await started.endpoints.admin.createMailbox(sandbox.directoryId, {
            userPrincipalName: address,
            displayName: `Box ${i}`,
          });
        });
        await authBroker.addSandboxCredentials(tenantId, sandbox);

        const fetch = startServiceProcess('apps/mailbox-fetch/src/main.ts', {
          GRPC_PORT: '0',
          LOG_LEVEL: process.env['BENCH_LOG'] ?? 'info',
          NODE_EXTRA_CA_CERTS: started.endpoints.caCertPath,
          MAILBOX_FETCH_STORE: 'mongodb',
          MAILBOX_FETCH_MONGODB_URL: mongoUrl,
          MAILBOX_FETCH_MONGODB_DATABASE: randomId('mfbench'),
          MAILBOX_FETCH_KAFKA_BROKERS: brokers.join(','),
          MAILBOX_FETCH_AUTH_BROKER_ADDRESS: authBroker.address,
          MAILBOX_FETCH_AUTH_BROKER_TOKEN: serviceToken,
          MAILBOX_FETCH_API_KEYS: `bench:${tenantId}:mailboxes.read+mailboxes.write:${hashBearerCredential(apiKeys[tenantId] ?? '')}`,
          MAILBOX_FETCH_METRICS_PORT: '0',
          MAILBOX_FETCH_REPLICA_ID: `bench-${scenarioIndex}`,
          MAILBOX_FETCH_SCAN_INTERVAL_MS: '1000',
          MAILBOX_FETCH_POLL_INTERVAL_CAP_MS: String(pollMs),
        });
        const handle = createGrpcClient(MailboxFetchServiceDefinition, `127.0.0.1:${await fetch.port()}`, { deadlineMs: 60_000 });
        try {
          const pid = fetch.child.pid ?? 0;
          const rssBefore = await steadyRss(pid);
          await inParallel(sandbox.mailboxes, 10, async (address, i) => {
            await handle.client.createMailbox({ mailboxId: `box-${i}`, mailbox: { address } }, auth);
          });
          // Every mailbox through its first (empty) sync before the clock starts.
          await waitFor(
            async () => {
              const { statuses } = await handle.client.listSyncStatuses({ page: { pageSize: 500, pageToken: '' } }, auth);
              return (
                statuses.length === count &&
                statuses.every((status) => status.state === MailboxSyncState.MAILBOX_SYNC_STATE_HEALTHY)
              );
            },
            { timeoutMs: 120_000, intervalMs: 1_000, description: 'first sync' },
          );
          const rssAfter = await steadyRss(pid);

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
          await waitFor(() => subjects.every((subject) => consumedAt.has(subject)), {
            timeoutMs,
            intervalMs: 50,
            description: `${total} events`,
          }).catch(() => undefined);
          const consumed = subjects.filter((subject) => consumedAt.has(subject));
          const lastEvent = Math.max(...consumed.map((subject) => consumedAt.get(subject) ?? 0));
          const freshness = consumed
            .map((subject) => (consumedAt.get(subject) ?? 0) - (deliveredAt.get(subject) ?? 0))
            .sort((a, b) => a - b);
          rows.push({
            mailboxes: count,
            emails: total,
            received: consumed.length,
            seconds: (lastEvent - firstDelivery) / 1000,
            p50: percentile(freshness, 50),
            p99: percentile(freshness, 99),
            max: freshness.at(-1) ?? Number.NaN,
            rssKbPerMailbox: (rssAfter - rssBefore) / 1024 / count,
            setupSeconds,
          });
          const throttled = (await started.endpoints.admin.stats(sandbox.directoryId)).throttled;
          console.log(
            `  ${count} mailbox(es): ${consumed.length}/${total} events, ${throttled} request(s) refused by sandbox throttling; setup (tenant, mailboxes, first sync) ${setupSeconds.toFixed(1)} s`,
          );
        } finally {
          handle.close();
          const exit = await fetch.stop('SIGTERM');
          if (exit.code !== 0)
            console.error(`mailbox-fetch exited with ${JSON.stringify(exit)}:\n${fetch.output.slice(-20).join('\n')}`);
        }
      }
    } finally {
      await subscription.close({ graceMs: 0 });
      await bus.close();
    }
  } finally {
    await authBroker.proc.stop('SIGTERM');
    await started.sandbox.stop();
    await infra.stop();
    rmSync(certDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  }

  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(
    `\nmailbox-fetch intake benchmark — Node ${process.version}, ${availableParallelism()} CPU(s) (${cpu}); mailbox-fetch and auth-broker as processes, Kafka + FerretDB via tools/test-infra, graph sandbox in this process`,
  );
  console.log(
    `sandbox throttling at Outlook's limits (4 concurrent, 10,000 req/10 min per mailbox), mailbox-fetch 3 concurrent per mailbox; poll cap ${pollMs} ms; ${waves} delivery waves ${waveIntervalMs} ms apart`,
  );
  console.log(
    `${'mailboxes'.padStart(9)} ${'emails'.padStart(7)} ${'events'.padStart(7)} ${'seconds'.padStart(8)} ${'emails/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'RSS KB/mbx'.padStart(11)} ${'setup s'.padStart(8)}`,
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
        row.rssKbPerMailbox.toFixed(1).padStart(11),
        row.setupSeconds.toFixed(1).padStart(8),
      ].join(' '),
    );
  }
  console.log(
    'freshness = InboundEmail consumed from Kafka here − sandbox delivery call; emails/s = events ÷ (first delivery → last event); memory = mailbox-fetch process RSS after the first sync of every mailbox − RSS with none, ÷ mailboxes (median of 9 samples each)',
  );
  if (rows.some((row) => row.received < row.emails)) {
    console.error('some events did not arrive within the timeout');
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
