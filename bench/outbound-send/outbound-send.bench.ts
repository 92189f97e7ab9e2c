// Sending throughput and latency of outbound-send: sends/s per mailbox and across 20 mailboxes, p50/p99
// latency (OutboundRequest published to Kafka → SENT OutboundResult consumed here), and the process's
// memory. Runs the service as operators do: apps/outbound-send/src/main.ts as its own process (FerretDB
// store, the real Kafka broker), tokens from a real auth-broker process (MSAL against the graph sandbox
// over HTTPS); Kafka and FerretDB come from tools/test-infra unless MAILROUTE_TEST_KAFKA_BROKERS and
// MAILROUTE_TEST_MONGODB_URL name running ones; the sandbox runs in this process at Outlook's limits.
// Each scenario: a fresh sandbox tenant and database, a fresh outbound-send process, one customer
// e-mail per mailbox; then all requests are published at once (a backlog): even ones reply to that
// e-mail (loop check + createReply + send), odd ones are new messages (create draft + send). Every
// send is Graph draft + send at outbound-send's 1 concurrent request per mailbox (mailbox-fetch keeps
// the other 3). The per-mailbox send rate limit (Exchange: 30 messages/min) is lifted to
// BENCH_RATE_PER_MINUTE (default 10000) so the figure is the send path itself; with the production
// default every mailbox is capped at 0.5 sends/s by design.
// Run: npx nx run bench:outbound-send, or node tools/scripts/run-ts.mjs bench/outbound-send/outbound-send.bench.ts
// Env: BENCH_SENDS_1 / BENCH_SENDS_20 (sends per scenario, default 60 / 400), BENCH_MAILBOXES (default 1,20),
// BENCH_RATE_PER_MINUTE, BENCH_TIMEOUT_SECONDS (per scenario, default 180), BENCH_STORE (mongodb | embedded,
// default mongodb: embedded takes FerretDB out of the measurement, e.g. on a machine shared with other load).
import { mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ActorKind, OutboundRequest, ReplyMode, SendKind, SendState, type OutgoingMessage } from '@mailroute/contracts';
import { eventKey, events, fromEventMessage, KafkaEventBus, toEventMessage } from '@mailroute/messaging';
import { EmbeddedDocumentTable, EmbeddedStore, MongoDocumentTable, MongoStore } from '@mailroute/persistence';
import {
  createSandboxMailTenant,
  randomId,
  startAuthBrokerProcess,
  startServiceProcess,
  startTestGraphSandbox,
  waitFor,
  type SandboxMailTenant,
  type ServiceProcess,
  startBenchInfra,
} from '@mailroute/testing';

const mailboxCounts = (process.env['BENCH_MAILBOXES'] ?? '1,20').split(',').map(Number);
const defaultSends: Record<number, number> = { 1: 60, 20: 400 };
const sendsFor = (boxes: number) => Number(process.env[`BENCH_SENDS_${boxes}`] ?? defaultSends[boxes] ?? 200);
const ratePerMinute = Number(process.env['BENCH_RATE_PER_MINUTE'] ?? 10_000);
const timeoutMs = Number(process.env['BENCH_TIMEOUT_SECONDS'] ?? 180) * 1000;
const storeKind = process.env['BENCH_STORE'] === 'embedded' ? 'embedded' : 'mongodb';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? Number.NaN) * 1024;
}

async function steadyRss(pid: number, samples = 7, intervalMs = 300): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    values.push(rssOf(pid));
    await sleep(intervalMs);
  }
  return values.sort((a, b) => a - b)[Math.floor(samples / 2)] ?? Number.NaN;
}

interface Row {
  mailboxes: number;
  sends: number;
  sent: number;
  duplicates: number;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
  rssIdleMb: number;
  rssPeakMb: number;
}

async function main(): Promise<void> {
  const infra = await startBenchInfra();
  const brokers = infra.kafkaBrokers;
  const mongoUrl = infra.mongoUrl;
  const started = await startTestGraphSandbox({ certDir: mkdtempSync(path.join(tmpdir(), 'os-bench-sandbox-')) });
  const tenantIds = mailboxCounts.map(() => randomId('bench'));
  const serviceToken = `mrs_${randomId('send')}`;
  const authBroker = await startAuthBrokerProcess({
    endpoints: started.endpoints,
    workDir: mkdtempSync(path.join(tmpdir(), 'os-bench-')),
    apiKeys: Object.fromEntries(tenantIds.map((tenantId) => [tenantId, `mrk_${randomId('key')}`])),
    serviceTokens: { 'outbound-send': serviceToken },
  });
  const bus = new KafkaEventBus({ brokers, clientId: randomId('os-bench') });
  await bus.ensureTopics([events.outboundRequest, events.outboundResult].map((event) => ({ topic: event.topic, partitions: 8 })));
  /** send id → SENT/FAILED consumed at. */
  const finishedAt = new Map<string, { at: number; state: SendState }>();
  const subscription = await bus.subscribe({
    groupId: randomId('os-bench-results'),
    topics: [events.outboundResult.topic],
    fromBeginning: false,
    handler: async (message) => {
      const result = fromEventMessage('outboundResult', message);
      if (
        (result.state === SendState.SEND_STATE_SENT ||
          result.state === SendState.SEND_STATE_FAILED ||
          result.state === SendState.SEND_STATE_OUTCOME_UNKNOWN) &&
        !finishedAt.has(result.sendId)
      )
        finishedAt.set(result.sendId, { at: Date.now(), state: result.state });
    },
  });
  await waitFor(() => subscription.assignments().length > 0, { timeoutMs: 60_000 });
  const rows: Row[] = [];
  let proc: ServiceProcess | undefined;
  try {
    for (const [scenario, mailboxes] of mailboxCounts.entries()) {
      const tenantId = tenantIds[scenario] as string;
      const sandbox: SandboxMailTenant = await createSandboxMailTenant(started.endpoints, { mailboxCount: mailboxes });
      await authBroker.addSandboxCredentials(tenantId, sandbox);
      const database = randomId('os-bench');
      const workDir = mkdtempSync(path.join(tmpdir(), 'os-bench-store-'));
      type MailboxView = { address: string; accessMode: number; credentialsId: string; enabled: boolean };
      const store =
        storeKind === 'mongodb'
          ? await MongoStore.connect({ url: mongoUrl, database, appName: 'outbound-send-bench' })
          : undefined;
      const embedded = storeKind === 'embedded' ? new EmbeddedStore({ path: path.join(workDir, 'mailbox-fetch.db') }) : undefined;
      const table = store
        ? new MongoDocumentTable<MailboxView>(store, 'mf_mailboxes')
        : new EmbeddedDocumentTable<MailboxView>(embedded as EmbeddedStore, 'mf_mailboxes');
      for (const [i, address] of sandbox.mailboxes.entries())
        await table.put(`${tenantId}/box-${i}`, { address, accessMode: 1, credentialsId: 'default', enabled: true });
      embedded?.close();
      proc = startServiceProcess('apps/outbound-send/src/main.ts', {
        GRPC_PORT: '0',
        LOG_LEVEL: 'info',
        NODE_EXTRA_CA_CERTS: started.endpoints.caCertPath,
        OUTBOUND_SEND_STORE: storeKind,
        OUTBOUND_SEND_EMBEDDED_PATH: path.join(workDir, 'outbound-send.db'),
        OUTBOUND_SEND_MAILBOX_FETCH_EMBEDDED_PATH: path.join(workDir, 'mailbox-fetch.db'),
        OUTBOUND_SEND_MONGODB_URL: mongoUrl,
        OUTBOUND_SEND_MONGODB_DATABASE: database,
        OUTBOUND_SEND_KAFKA_BROKERS: brokers.join(','),
        OUTBOUND_SEND_CONSUMER_GROUP: randomId('os-bench'),
        OUTBOUND_SEND_CONSUMER_FROM_BEGINNING: 'false',
        OUTBOUND_SEND_AUTH_BROKER_ADDRESS: authBroker.address,
        OUTBOUND_SEND_AUTH_BROKER_TOKEN: serviceToken,
        OUTBOUND_SEND_RATE_PER_WINDOW: String(ratePerMinute),
        OUTBOUND_SEND_METRICS_PORT: '0',
      });
      await proc.port();
      const publish = async (request: Partial<OutboundRequest> & { mailboxId: string }) => {
        const full = OutboundRequest.fromPartial({
          eventId: randomUUID(),
          tenantId,
          occurredAt: new Date(),
          sendId: randomUUID(),
          idempotencyKey: randomId('k'),
          requestedBy: { kind: ActorKind.ACTOR_KIND_AGENT, id: 'agent', displayName: '' },
          ...request,
        });
        await bus.publish(
          events.outboundRequest.topic,
          toEventMessage('outboundRequest', eventKey(tenantId, full.mailboxId), full),
        );
        return full;
      };
      // The group starts at the latest offset: probe until the service consumes.
      await waitFor(
        async () => {
          const probe = await publish({
            mailboxId: 'no-such-mailbox',
            kind: SendKind.SEND_KIND_NEW,
            content: { subject: 'probe', bodyText: 'p', to: [{ address: 'p@customer.example', name: '' }] } as OutgoingMessage,
          });
          return waitFor(() => finishedAt.has(probe.sendId), { timeoutMs: 3_000, intervalMs: 50 }).catch(() => false);
        },
        { timeoutMs: 90_000, intervalMs: 0 },
      );
      const originals = await Promise.all(
        sandbox.mailboxes.map((address, i) =>
          started.endpoints.admin.deliver(sandbox.directoryId, address, {
            from: { address: `customer${i}@customer.example` },
            subject: `Question ${i}`,
            body: 'Where is my order?',
          }),
        ),
      );
      const rssIdle = await steadyRss(proc.child.pid as number);
      const total = sendsFor(mailboxes);
      const publishedAt = new Map<string, number>();
      const begun = Date.now();
      const batch: Promise<unknown>[] = [];
      for (let i = 0; i < total; i += 1) {
        const box = i % mailboxes;
        const address = sandbox.mailboxes[box] as string;
        const common = { mailboxId: `box-${box}`, mailboxAddress: address };
        const sendId = randomUUID();
        publishedAt.set(sendId, Date.now());
        batch.push(
          i % 2 === 0
            ? publish({
                ...common,
                sendId,
                kind: SendKind.SEND_KIND_REPLY,
                replyMode: ReplyMode.REPLY_MODE_REPLY,
                interactionId: randomUUID(),
                replyToGraphMessageId: originals[box]?.immutableId ?? '',
                content: { bodyText: `Answer ${i}`, bodyHtml: `<p>Answer ${i}</p>` } as OutgoingMessage,
              })
            : publish({
                ...common,
                sendId,
                kind: SendKind.SEND_KIND_NEW,
                content: {
                  subject: `Notice ${i}`,
                  bodyText: `Notice ${i}`,
                  to: [{ address: `c${i}@customer.example`, name: '' }],
                } as OutgoingMessage,
              }),
        );
      }
      await Promise.all(batch);
      let rssPeak = 0;
      const deadline = begun + timeoutMs;
      while (Date.now() < deadline && [...publishedAt.keys()].some((id) => !finishedAt.has(id))) {
        rssPeak = Math.max(rssPeak, rssOf(proc.child.pid as number));
        await sleep(200);
      }
      const done = [...publishedAt].filter(([id]) => finishedAt.get(id)?.state === SendState.SEND_STATE_SENT);
      const latencies = done.map(([id, at]) => (finishedAt.get(id)?.at ?? at) - at).sort((a, b) => a - b);
      const last = Math.max(...done.map(([id]) => finishedAt.get(id)?.at ?? begun));
      let copies = 0;
      for (const address of sandbox.mailboxes)
        copies += (await started.endpoints.admin.sent(sandbox.directoryId, address)).value.length;
      rows.push({
        mailboxes,
        sends: total,
        sent: done.length,
        duplicates: copies - done.length,
        seconds: (last - begun) / 1000,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies[latencies.length - 1] ?? Number.NaN,
        rssIdleMb: rssIdle / 1048576,
        rssPeakMb: rssPeak / 1048576,
      });
      await proc.stop();
      proc = undefined;
      await store?.db.dropDatabase().catch(() => undefined);
      await store?.close();
    }
  } finally {
    await proc?.stop('SIGKILL');
    await subscription.close({ graceMs: 0 });
    await bus.close();
    await authBroker.proc.stop();
    await started.sandbox.stop();
    await infra.stop();
  }

  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(
    `\noutbound-send benchmark — Node ${process.version}, ${availableParallelism()} CPU(s) (${cpu}); outbound-send (${storeKind} store) and auth-broker as processes, Kafka${storeKind === 'mongodb' ? ' + FerretDB' : ''}, graph sandbox in this process; load average ${loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    `sandbox at Outlook's limits (4 concurrent, 10,000 req/10 min per mailbox); outbound-send 1 concurrent Graph request per mailbox; send rate limit ${ratePerMinute}/min per mailbox`,
  );
  console.log(
    `${'mailboxes'.padStart(9)} ${'sends'.padStart(6)} ${'sent'.padStart(6)} ${'dupes'.padStart(6)} ${'seconds'.padStart(8)} ${'sends/s'.padStart(8)} ${'/s/mbx'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'RSS idle MB'.padStart(12)} ${'RSS peak MB'.padStart(12)}`,
  );
  for (const row of rows) {
    const rate = row.sent / row.seconds;
    console.log(
      [
        String(row.mailboxes).padStart(9),
        String(row.sends).padStart(6),
        String(row.sent).padStart(6),
        String(row.duplicates).padStart(6),
        row.seconds.toFixed(2).padStart(8),
        rate.toFixed(1).padStart(8),
        (rate / row.mailboxes).toFixed(2).padStart(7),
        row.p50.toFixed(0).padStart(8),
        row.p99.toFixed(0).padStart(8),
        row.max.toFixed(0).padStart(8),
        row.rssIdleMb.toFixed(1).padStart(12),
        row.rssPeakMb.toFixed(1).padStart(12),
      ].join(' '),
    );
  }
  console.log(
    'latency = OutboundRequest published → SENT OutboundResult consumed here, all requests published at once (backlog); sends/s = sent ÷ (first publish → last result); dupes = sent-log copies − SENT results (must be 0)',
  );
  if (rows.some((row) => row.sent < row.sends || row.duplicates !== 0)) {
    console.error('some sends did not complete within the timeout, or a message went out twice');
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
