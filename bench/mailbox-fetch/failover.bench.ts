// Intake gap after a mailbox-fetch replica dies: two mailbox-fetch processes (apps/mailbox-fetch/src/main.ts,
// FerretDB store, the real Kafka broker, tokens from a real auth-broker process, the graph sandbox in this
// process) share BENCH_MAILBOXES mailboxes; mail arrives in every mailbox all the time (one e-mail per
// mailbox every BENCH_DELIVERY_INTERVAL_MS); the replica that owns mailboxes is SIGKILLed and a fresh
// process started in its place as the next standby, BENCH_KILLS times.
// Per kill it prints: takeover = SIGKILL → the survivor's first Graph-read e-mail of each dead replica's
// mailbox published to Kafka (max over those mailboxes; mail of the first 500 ms after the kill counts
// as "after the kill"), and stall = the longest time, from the kill on, with no new event from them.
// The services run with their default lease and scan settings (MAILBOX_FETCH_LEASE_TTL_MS and
// MAILBOX_FETCH_SCAN_INTERVAL_MS unset, so the figures are what an operator gets), and the poll interval
// capped at BENCH_POLL_MS (default 500 ms) so polling does not hide the gap.
// Run: npx nx run bench:mailbox-fetch-failover, or node tools/scripts/run-ts.mjs bench/mailbox-fetch/failover.bench.ts
// Env: BENCH_MAILBOXES (default 6), BENCH_KILLS (default 3), BENCH_DELIVERY_INTERVAL_MS (default 1000),
// BENCH_POLL_MS (default 500), BENCH_TIMEOUT_SECONDS (per kill, default 120); Kafka and FerretDB as in
// bench:mailbox-fetch (MAILROUTE_TEST_KAFKA_BROKERS + MAILROUTE_TEST_MONGODB_URL, or started here).
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
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
  type ServiceProcess,
  startBenchInfra,
} from '@mailroute/testing';
import { Metadata } from 'nice-grpc';

const mailboxCount = Number(process.env['BENCH_MAILBOXES'] ?? 6);
const kills = Number(process.env['BENCH_KILLS'] ?? 3);
const deliveryIntervalMs = Number(process.env['BENCH_DELIVERY_INTERVAL_MS'] ?? 1000);
const pollMs = Number(process.env['BENCH_POLL_MS'] ?? 500);
const timeoutMs = Number(process.env['BENCH_TIMEOUT_SECONDS'] ?? 120) * 1000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const infra = await startBenchInfra();
  const certDir = mkdtempSync(path.join(tmpdir(), 'mf-failover-sandbox-'));
  const workDir = mkdtempSync(path.join(tmpdir(), 'mf-failover-'));
  const started = await startTestGraphSandbox({ certDir });
  const tenantId = randomId('failover');
  const apiKey = `mrk_${randomId('key')}`;
  const serviceToken = `mrs_${randomId('fetch')}`;
  const authBroker = await startAuthBrokerProcess({
    endpoints: started.endpoints,
    workDir,
    apiKeys: { [tenantId]: apiKey },
    serviceTokens: { 'mailbox-fetch': serviceToken },
  });
  const auth = { metadata: Metadata({ authorization: `Bearer ${apiKey}` }) };
  const brokers = infra.kafkaBrokers;
  const database = randomId('mffailover');
  const processes: ServiceProcess[] = [];
  const closers: (() => void)[] = [];
  const results: { takeoverMs: number; stallMs: number }[] = [];
  let delivering = true;
  let delivery: Promise<void> = Promise.resolve();
  const bus = new KafkaEventBus({ brokers, clientId: randomId('mf-failover') });
  try {
    await bus.ensureTopics([{ topic: events.inboundEmail.topic, partitions: 8 }]);
    /** Events of this run: mailbox, when delivered (from the subject), when consumed here. */
    const seen: { mailboxId: string; deliveredAt: number; consumedAt: number }[] = [];
    const subscription = await bus.subscribe({
      groupId: randomId('mf-failover-consumer'),
      topics: [events.inboundEmail.topic],
      fromBeginning: false,
      handler: async (message) => {
        const event: InboundEmail = fromEventMessage('inboundEmail', message);
        if (event.tenantId !== tenantId) return;
        const deliveredAt = Number(/@(\d+)$/.exec(event.message?.subject ?? '')?.[1] ?? 0);
        seen.push({ mailboxId: event.mailboxId, deliveredAt, consumedAt: Date.now() });
      },
    });
    closers.push(() => void subscription.close({ graceMs: 0 }));
    await waitFor(() => subscription.assignments().length > 0, { timeoutMs: 30_000, description: 'consumer assignment' });

    const sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount });
    await authBroker.addSandboxCredentials(tenantId, sandbox);
    let generation = 0;
    const startFetch = async () => {
      generation += 1;
      const proc = startServiceProcess('apps/mailbox-fetch/src/main.ts', {
        GRPC_PORT: '0',
        LOG_LEVEL: process.env['BENCH_LOG'] ?? 'info',
        NODE_EXTRA_CA_CERTS: started.endpoints.caCertPath,
        MAILBOX_FETCH_STORE: 'mongodb',
        MAILBOX_FETCH_MONGODB_URL: infra.mongoUrl,
        MAILBOX_FETCH_MONGODB_DATABASE: database,
        MAILBOX_FETCH_KAFKA_BROKERS: brokers.join(','),
        MAILBOX_FETCH_AUTH_BROKER_ADDRESS: authBroker.address,
        MAILBOX_FETCH_AUTH_BROKER_TOKEN: serviceToken,
        MAILBOX_FETCH_API_KEYS: `bench:${tenantId}:mailboxes.read+mailboxes.write:${hashBearerCredential(apiKey)}`,
        MAILBOX_FETCH_METRICS_PORT: '0',
        MAILBOX_FETCH_REPLICA_ID: `failover-${generation}`,
        MAILBOX_FETCH_POLL_INTERVAL_CAP_MS: String(pollMs),
      });
      processes.push(proc);
      const handle = createGrpcClient(MailboxFetchServiceDefinition, `127.0.0.1:${await proc.port()}`, { deadlineMs: 30_000 });
      closers.push(() => handle.close());
      return { proc, client: handle.client, replicaId: `failover-${generation}` };
    };
    type Fetch = Awaited<ReturnType<typeof startFetch>>;
    const owners = async (fetch: Fetch) =>
      (await fetch.client.listSyncStatuses({ page: { pageSize: 100, pageToken: '' } }, auth)).statuses;

    let owner = await startFetch();
    for (const [box, address] of sandbox.mailboxes.entries())
      await owner.client.createMailbox({ mailboxId: `f-${box}`, mailbox: { address } }, auth);
    await waitFor(
      async () =>
        (await owners(owner)).every(
          (s) => s.state === MailboxSyncState.MAILBOX_SYNC_STATE_HEALTHY && s.leaseOwner === owner.replicaId,
        ),
      {
        timeoutMs: 60_000,
        description: 'the first replica owns and synced every mailbox',
      },
    );
    let standby = await startFetch();

    // Mail keeps arriving everywhere; the subject carries its delivery time.
    delivery = (async () => {
      while (delivering) {
        const at = Date.now();
        await Promise.all(
          sandbox.mailboxes.map((address, box) =>
            started.endpoints.admin.deliver(sandbox.directoryId, address, {
              from: 'customer@example.org',
              subject: `failover ${box} @${at}`,
              body: 'hello',
            }),
          ),
        );
        await sleep(Math.max(0, deliveryIntervalMs - (Date.now() - at)));
      }
    })();

    for (let kill = 0; kill < kills; kill += 1) {
      // Steady state first: every mailbox's recent mail flows.
      const steadySince = Date.now();
      await waitFor(
        () => new Set(seen.filter((e) => e.deliveredAt > steadySince).map((e) => e.mailboxId)).size === mailboxCount,
        { timeoutMs, description: 'steady intake' },
      );
      const owned = (await owners(standby)).filter((s) => s.leaseOwner === owner.replicaId).map((s) => s.mailboxId);
      const killedAt = Date.now();
      await owner.proc.stop('SIGKILL');
      // Mail delivered after the kill (500 ms slack: a turn already running may have read it).
      const after = (e: { deliveredAt: number }) => e.deliveredAt > killedAt + 500;
      await waitFor(() => owned.every((mailboxId) => seen.some((e) => e.mailboxId === mailboxId && after(e))), {
        timeoutMs,
        intervalMs: 50,
        description: `takeover ${kill + 1}`,
      });
      const takeoverMs = Math.max(
        ...owned.map(
          (mailboxId) =>
            Math.min(...seen.filter((e) => e.mailboxId === mailboxId && after(e)).map((e) => e.consumedAt)) - killedAt,
        ),
      );
      const times = [
        killedAt,
        ...seen.filter((e) => owned.includes(e.mailboxId) && e.consumedAt > killedAt).map((e) => e.consumedAt),
      ].sort((a, b) => a - b);
      const stallMs = Math.max(...times.slice(1).map((at, i) => at - (times[i] ?? at)));
      results.push({ takeoverMs, stallMs });
      console.log(
        `  kill ${kill + 1}: ${owned.length} mailbox(es) of ${owner.replicaId} → ${standby.replicaId}: takeover ${(takeoverMs / 1000).toFixed(1)} s, stall ${(stallMs / 1000).toFixed(1)} s`,
      );
      owner = standby;
      standby = await startFetch();
    }
  } finally {
    delivering = false;
    await delivery.catch(() => undefined);
    for (const close of closers) close();
    await Promise.allSettled(processes.map((proc) => proc.stop('SIGKILL')));
    await bus.close();
    await authBroker.proc.stop('SIGTERM');
    await started.sandbox.stop();
    await infra.stop();
    rmSync(certDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  }
  const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
  const takeovers = sorted(results.map((r) => r.takeoverMs));
  const stalls = sorted(results.map((r) => r.stallMs));
  console.log(
    `\nmailbox-fetch failover — Node ${process.version}, ${availableParallelism()} CPU(s); ${mailboxCount} mailboxes, ${kills} SIGKILLs, default lease settings, poll cap ${pollMs} ms, mail every ${deliveryIntervalMs} ms per mailbox`,
  );
  console.log(
    `takeover (kill → first new e-mail of every dead replica's mailbox published): median ${((takeovers[Math.floor(takeovers.length / 2)] ?? 0) / 1000).toFixed(1)} s, max ${((takeovers.at(-1) ?? 0) / 1000).toFixed(1)} s`,
  );
  console.log(
    `stall (longest time without an event from those mailboxes): median ${((stalls[Math.floor(stalls.length / 2)] ?? 0) / 1000).toFixed(1)} s, max ${((stalls.at(-1) ?? 0) / 1000).toFixed(1)} s`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
