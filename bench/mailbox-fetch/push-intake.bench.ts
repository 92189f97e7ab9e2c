// Push intake against polling, in one run: delivery (graph sandbox) → InboundEmail event consumed from Kafka,
// p50/p99, with Graph change notifications on 20 and 200 mailboxes and with polling at its default interval
// (60 s) on 20 mailboxes; Graph requests per hour for an idle mailbox in both modes; Graph requests per ingested
// e-mail in both modes; with push, where the time goes, stage by stage (push-stage-breakdown.ts), and the machine's
// load average during each scenario.
// mailbox-fetch runs as operators run it (apps/mailbox-fetch/src/main.ts as its own process, FerretDB store, the
// real Kafka broker, tokens from an auth-broker process); push scenarios set MAILBOX_FETCH_PUSH_PUBLIC_URL to its
// HTTPS notification endpoint (certificate from a test CA the sandbox trusts), the polling scenario leaves it unset.
// Graph requests are the sandbox's own count per tenant (one tenant per scenario).
// Idle mailbox: polling is measured over BENCH_IDLE_SECONDS with every mailbox polling at 60 s; in push mode the
// only idle requests are the safety-net round (MAILBOX_FETCH_SAFETY_NET_POLL_MS, 15 min) and the renewal (once per
// half lifetime, 2,100 min), so the hourly figure is derived from the measured cost of an idle round; the requests
// seen in push mode over the same window are printed beside it.
// Bounded: each scenario stops waiting after BENCH_SCENARIO_TIMEOUT_SECONDS, the whole run after BENCH_TIMEOUT_SECONDS
// (it then prints what it has, stops its processes and exits 2).
// Run: npx nx run bench:mailbox-fetch-push, or node tools/scripts/run-ts.mjs bench/mailbox-fetch/push-intake.bench.ts
// Env: BENCH_PUSH_MAILBOXES (comma list, default 20,200), BENCH_POLL_MAILBOXES (default 20; 0 skips polling),
// BENCH_EMAILS (per scenario, default 100), BENCH_PUSH_SPREAD_SECONDS (deliveries spread over, default 10),
// BENCH_IDLE_SECONDS (default 60), BENCH_SCENARIO_TIMEOUT_SECONDS (default 150), BENCH_TIMEOUT_SECONDS (default 900).
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { MailboxFetchServiceDefinition, MailboxIntakeMode, MailboxSyncState, type InboundEmail } from '@mailroute/contracts';
import { events, fromEventMessage, KafkaEventBus } from '@mailroute/messaging';
import { createGrpcClient, hashBearerCredential } from '@mailroute/platform';
import {
  createSandboxMailTenant,
  createTestCertificateAuthority,
  freePort,
  randomId,
  startAuthBrokerProcess,
  startBenchInfra,
  startServiceProcess,
  startTestGraphSandbox,
  waitFor,
  type SandboxMailTenant,
  type ServiceProcess,
} from '@mailroute/testing';
import { Metadata } from 'nice-grpc';
import { inParallel, percentile, sleep } from './intake-bench-support';
import { printBreakdown, stageBreakdown, type StageBreakdown } from './push-stage-breakdown';

const list = (text: string) =>
  text
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
const pushCounts = list(process.env['BENCH_PUSH_MAILBOXES'] ?? '20,200');
const pollCount = Number(process.env['BENCH_POLL_MAILBOXES'] ?? 20);
const emails = Number(process.env['BENCH_EMAILS'] ?? 100);
const pushSpreadMs = Number(process.env['BENCH_PUSH_SPREAD_SECONDS'] ?? 10) * 1000;
const idleMs = Number(process.env['BENCH_IDLE_SECONDS'] ?? 60) * 1000;
const scenarioTimeoutMs = Number(process.env['BENCH_SCENARIO_TIMEOUT_SECONDS'] ?? 150) * 1000;
const overallTimeoutMs = Number(process.env['BENCH_TIMEOUT_SECONDS'] ?? 900) * 1000;
/** mailbox-fetch's defaults: a mailbox's poll interval, the safety net with a live subscription, the renewal period. */
const defaultPollMs = 60_000;
const safetyNetMs = 900_000;
const renewalMs = 2_100 * 60_000;

interface Scenario {
  mode: 'push' | 'polling';
  mailboxes: number;
}
interface Row extends Scenario {
  emails: number;
  received: number;
  p50: number;
  p99: number;
  max: number;
  requestsPerEmail: number;
  idleRequestsPerMailbox: number;
  idleWindowMs: number;
  setupSeconds: number;
  /** 1-minute load average when the deliveries started and when the last event arrived. */
  load: [number, number];
  breakdown?: StageBreakdown | undefined;
}

const rows: Row[] = [];
const running = new Set<ServiceProcess>();

function report(): void {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(
    `\npush intake vs polling — Node ${process.version}, ${availableParallelism()} CPU(s) (${cpu}); mailbox-fetch and auth-broker as processes, Kafka + FerretDB, graph sandbox in this process`,
  );
  console.log(
    `${'mode'.padEnd(8)} ${'mailboxes'.padStart(9)} ${'emails'.padStart(7)} ${'events'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'Graph req/email'.padStart(16)} ${'setup s'.padStart(8)} ${'load'.padStart(10)}`,
  );
  for (const row of rows)
    console.log(
      [
        row.mode.padEnd(8),
        String(row.mailboxes).padStart(9),
        String(row.emails).padStart(7),
        String(row.received).padStart(7),
        row.p50.toFixed(0).padStart(8),
        row.p99.toFixed(0).padStart(8),
        row.max.toFixed(0).padStart(8),
        row.requestsPerEmail.toFixed(2).padStart(16),
        row.setupSeconds.toFixed(1).padStart(8),
        `${row.load[0].toFixed(1)}–${row.load[1].toFixed(1)}`.padStart(10),
      ].join(' '),
    );
  const polling = rows.find((row) => row.mode === 'polling' && row.idleWindowMs > 0);
  const push = rows.find((row) => row.mode === 'push' && row.idleWindowMs > 0);
  if (polling) {
    const perHour = (polling.idleRequestsPerMailbox / polling.idleWindowMs) * 3_600_000;
    const perRound = (polling.idleRequestsPerMailbox / polling.idleWindowMs) * defaultPollMs;
    console.log(
      `idle mailbox, polling every ${defaultPollMs / 1000} s: ${perHour.toFixed(1)} Graph requests/hour (measured over ${(polling.idleWindowMs / 1000).toFixed(0)} s; ${perRound.toFixed(2)} per idle round)`,
    );
    const pushPerHour = perRound * (3_600_000 / safetyNetMs) + 3_600_000 / renewalMs;
    console.log(
      `idle mailbox, push: ${pushPerHour.toFixed(2)} Graph requests/hour (derived: ${perRound.toFixed(2)} per safety-net round × ${3_600_000 / safetyNetMs}/h + 1 renewal per ${renewalMs / 60_000} min)` +
        (push
          ? `; measured with live subscriptions over ${(push.idleWindowMs / 1000).toFixed(0)} s: ${push.idleRequestsPerMailbox.toFixed(2)} per mailbox`
          : ''),
    );
  }
  for (const row of rows) if (row.breakdown) printBreakdown(`${row.mode} × ${row.mailboxes}`, row.breakdown);
  console.log(
    'latency = InboundEmail consumed from Kafka here − the sandbox delivery call; Graph req/email = the tenant’s Graph requests from the first delivery until every event arrived (+2 s), ÷ e-mails',
  );
}

async function main(): Promise<void> {
  const infra = await startBenchInfra();
  const certDir = mkdtempSync(path.join(tmpdir(), 'push-bench-sandbox-'));
  const workDir = mkdtempSync(path.join(tmpdir(), 'push-bench-'));
  const ca = await createTestCertificateAuthority(mkdtempSync(path.join(tmpdir(), 'push-bench-ca-')), 'push-bench');
  const leaf = ca.issue('notification-endpoint');
  const started = await startTestGraphSandbox({ certDir, notificationCaCertsPem: [ca.ca] });
  const scenarios: Scenario[] = [
    ...pushCounts.map((mailboxes) => ({ mode: 'push' as const, mailboxes })),
    ...(pollCount > 0 ? [{ mode: 'polling' as const, mailboxes: pollCount }] : []),
  ];
  const tenantIds = scenarios.map(() => randomId('bench'));
  const apiKeys = Object.fromEntries(tenantIds.map((tenantId) => [tenantId, `mrk_${randomId('key')}`]));
  const serviceToken = `mrs_${randomId('fetch')}`;
  const authBroker = await startAuthBrokerProcess({
    endpoints: started.endpoints,
    workDir,
    apiKeys,
    serviceTokens: { 'mailbox-fetch': serviceToken },
  });
  running.add(authBroker.proc);
  const bus = new KafkaEventBus({ brokers: infra.kafkaBrokers, clientId: randomId('push-bench') });
  const consumedAt = new Map<string, number>();
  const interactionOf = new Map<string, string>();
  const consumer = await bus.subscribe({
    groupId: randomId('push-bench-consumer'),
    topics: [events.inboundEmail.topic],
    fromBeginning: false,
    handler: async (message) => {
      const event: InboundEmail = fromEventMessage('inboundEmail', message);
      const subject = event.message?.subject ?? '';
      if (!consumedAt.has(subject)) {
        consumedAt.set(subject, Date.now());
        interactionOf.set(subject, event.interactionId);
      }
    },
  });
  try {
    await waitFor(() => consumer.assignments().length > 0, { timeoutMs: 60_000, description: 'consumer assignment' });
    console.log(`infrastructure up (Kafka ${infra.kafkaBrokers.join(',')}, FerretDB, auth-broker ${authBroker.address})`);
    for (const [index, scenario] of scenarios.entries()) {
      const tenantId = tenantIds[index] ?? '';
      const setupStarted = Date.now();
      const base = await createSandboxMailTenant(started.endpoints, { mailboxCount: 0 });
      const sandbox: SandboxMailTenant = {
        ...base,
        mailboxes: Array.from({ length: scenario.mailboxes }, (_, i) => `box${i}@${base.domain}`),
      };
      await inParallel(sandbox.mailboxes, 20, async (address, i) => {
        await started.endpoints.admin.createMailbox(sandbox.directoryId, { userPrincipalName: address, displayName: `Box ${i}` });
      });
      await authBroker.addSandboxCredentials(tenantId, sandbox);
      const pushPort = await freePort();
      const fetch = startServiceProcess('apps/mailbox-fetch/src/main.ts', {
        GRPC_PORT: '0',
        // info at least: the gRPC port is read from the "listening" line; debug with push for the round timing lines.
        LOG_LEVEL: process.env['BENCH_LOG'] ?? (scenario.mode === 'push' ? 'debug' : 'info'),
        NODE_EXTRA_CA_CERTS: started.endpoints.caCertPath,
        MAILBOX_FETCH_STORE: 'mongodb',
        MAILBOX_FETCH_MONGODB_URL: infra.mongoUrl,
        MAILBOX_FETCH_MONGODB_DATABASE: randomId('pushbench'),
        MAILBOX_FETCH_KAFKA_BROKERS: infra.kafkaBrokers.join(','),
        MAILBOX_FETCH_AUTH_BROKER_ADDRESS: authBroker.address,
        MAILBOX_FETCH_AUTH_BROKER_TOKEN: serviceToken,
        MAILBOX_FETCH_API_KEYS: `bench:${tenantId}:mailboxes.read+mailboxes.write:${hashBearerCredential(apiKeys[tenantId] ?? '')}`,
        MAILBOX_FETCH_METRICS_PORT: '0',
        MAILBOX_FETCH_REPLICA_ID: `push-bench-${index}`,
        MAILBOX_FETCH_SCAN_INTERVAL_MS: '1000',
        ...(scenario.mode === 'push'
          ? {
              MAILBOX_FETCH_PUSH_PUBLIC_URL: `https://127.0.0.1:${pushPort}/graph`,
              MAILBOX_FETCH_PUSH_PORT: String(pushPort),
              MAILBOX_FETCH_PUSH_CLIENT_STATE_KEYS: `bench:${randomBytes(32).toString('base64')}`,
              MAILBOX_FETCH_PUSH_TLS_CERT_FILE: leaf.certFile,
              MAILBOX_FETCH_PUSH_TLS_KEY_FILE: leaf.keyFile,
            }
          : {}),
      });
      running.add(fetch);
      let startTimer: NodeJS.Timeout | undefined;
      const port = await Promise.race([
        fetch.port(),
        new Promise<never>((_, reject) => {
          startTimer = setTimeout(
            () => reject(new Error(`mailbox-fetch did not start within 120 s:\n${fetch.output.slice(-20).join('\n')}`)),
            120_000,
          );
        }),
      ]).finally(() => clearTimeout(startTimer));
      const handle = createGrpcClient(MailboxFetchServiceDefinition, `127.0.0.1:${port}`, { deadlineMs: 60_000 });
      const auth = { metadata: Metadata({ authorization: `Bearer ${apiKeys[tenantId] ?? ''}` }) };
      const stats = async () => (await started.endpoints.admin.stats(sandbox.directoryId)).graphRequests;
      try {
        // Default poll interval (60 s): nothing here shortens it.
        await inParallel(sandbox.mailboxes, 10, async (address, i) => {
          await handle.client.createMailbox({ mailboxId: `box-${i}`, mailbox: { address } }, auth);
        });
        const wanted =
          scenario.mode === 'push' ? MailboxIntakeMode.MAILBOX_INTAKE_MODE_PUSH : MailboxIntakeMode.MAILBOX_INTAKE_MODE_POLLING;
        await waitFor(
          async () => {
            const { statuses } = await handle.client.listSyncStatuses({ page: { pageSize: 500, pageToken: '' } }, auth);
            return (
              statuses.length === scenario.mailboxes &&
              statuses.every((s) => s.state === MailboxSyncState.MAILBOX_SYNC_STATE_HEALTHY && s.intake?.mode === wanted)
            );
          },
          { timeoutMs: scenarioTimeoutMs, intervalMs: 1_000, description: `first sync and ${scenario.mode} mode` },
        );
        const setupSeconds = (Date.now() - setupStarted) / 1000;
        console.log(
          `  ${scenario.mode} × ${scenario.mailboxes}: first sync done, ${scenario.mode} mode (${setupSeconds.toFixed(1)} s)`,
        );

        // Idle: no mail for idleMs (the polling scenario, and the first push scenario for comparison).
        let idleRequestsPerMailbox = 0;
        let idleWindowMs = 0;
        if (idleMs > 0 && (scenario.mode === 'polling' || index === 0)) {
          const before = await stats();
          const at = Date.now();
          await sleep(idleMs);
          idleWindowMs = Date.now() - at;
          idleRequestsPerMailbox = ((await stats()) - before) / scenario.mailboxes;
        }

        // Deliveries spread evenly: over pushSpreadMs with push, over one poll interval when polling (uniform arrival).
        const spreadMs = scenario.mode === 'push' ? pushSpreadMs : defaultPollMs;
        const deliveredAt = new Map<string, number>();
        const mailboxOf = new Map<string, string>();
        const loadAtStart = loadavg()[0] ?? 0;
        const requestsBefore = await stats();
        const firstDelivery = Date.now();
        await Promise.all(
          Array.from({ length: emails }, async (_, n) => {
            await sleep((n * spreadMs) / emails);
            const subject = `push-bench ${index} ${n}`;
            const at = Date.now();
            const address = sandbox.mailboxes[n % scenario.mailboxes] ?? '';
            mailboxOf.set(subject, address);
            await started.endpoints.admin.deliver(sandbox.directoryId, address, {
              from: 'customer@example.org',
              subject,
              body: subject,
            });
            deliveredAt.set(subject, at);
          }),
        );
        const subjects = [...deliveredAt.keys()];
        await waitFor(() => subjects.every((subject) => consumedAt.has(subject)), {
          timeoutMs: Math.max(0, scenarioTimeoutMs - (Date.now() - firstDelivery)),
          intervalMs: 50,
          description: `${emails} events`,
        }).catch(() => undefined);
        const loadAtEnd = loadavg()[0] ?? 0;
        await sleep(2_000);
        const requests = (await stats()) - requestsBefore;
        const consumed = subjects.filter((subject) => consumedAt.has(subject));
        const latency = consumed
          .map((subject) => (consumedAt.get(subject) ?? 0) - (deliveredAt.get(subject) ?? 0))
          .sort((a, b) => a - b);
        rows.push({
          ...scenario,
          emails,
          received: consumed.length,
          p50: percentile(latency, 50),
          p99: percentile(latency, 99),
          max: latency.at(-1) ?? Number.NaN,
          requestsPerEmail: requests / Math.max(1, consumed.length),
          idleRequestsPerMailbox,
          idleWindowMs,
          setupSeconds,
          load: [loadAtStart, loadAtEnd],
          breakdown:
            scenario.mode === 'push'
              ? stageBreakdown(
                  consumed.map((subject) => ({
                    mailbox: mailboxOf.get(subject) ?? '',
                    deliveredAt: deliveredAt.get(subject) ?? 0,
                    consumedAt: consumedAt.get(subject) ?? 0,
                    interactionId: interactionOf.get(subject) ?? '',
                  })),
                  (await started.endpoints.subscriptions.deliveries()).value,
                  (await started.endpoints.subscriptions.list(sandbox.directoryId)).value,
                  fetch.output,
                )
              : undefined,
        });
        console.log(
          `  ${scenario.mode} × ${scenario.mailboxes}: ${consumed.length}/${emails} events, p50 ${percentile(latency, 50)} ms, p99 ${percentile(latency, 99)} ms, ${requests} Graph requests (setup ${setupSeconds.toFixed(1)} s, load ${loadAtStart.toFixed(1)}–${loadAtEnd.toFixed(1)})`,
        );
      } catch (error) {
        // One scenario failing (e.g. its set-up timing out) leaves the others to run.
        console.error(`  ${scenario.mode} × ${scenario.mailboxes} failed:`, error);
        process.exitCode = 1;
      } finally {
        handle.close();
        const exit = await fetch.stop('SIGTERM');
        running.delete(fetch);
        if (exit.code !== 0)
          console.error(`mailbox-fetch exited with ${JSON.stringify(exit)}:\n${fetch.output.slice(-20).join('\n')}`);
      }
    }
  } finally {
    await consumer.close({ graceMs: 0 });
    await bus.close();
    await authBroker.proc.stop('SIGTERM');
    running.delete(authBroker.proc);
    await started.sandbox.stop();
    await infra.stop();
    rmSync(certDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
    rmSync(ca.dir, { recursive: true, force: true });
  }
  report();
  if (rows.some((row) => row.received < row.emails)) {
    console.error('some events did not arrive within the scenario timeout');
    process.exitCode = 1;
  }
}

// The whole run is bounded: past BENCH_TIMEOUT_SECONDS it reports what it measured and stops its processes.
const watchdog = setTimeout(() => {
  console.error(`push-intake bench: still running after ${overallTimeoutMs / 1000} s; stopping`);
  report();
  for (const proc of running) proc.child.kill('SIGKILL');
  process.exit(2);
}, overallTimeoutMs);

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => clearTimeout(watchdog));
