// A send stranded by a crash, and what it costs the mailbox's other replies. A replica that dies right
// after claiming a send's attempt (attempt marker written, nothing else recorded) leaves the send to
// the next replica. This scenario writes exactly that state into a fresh database — the send record,
// the dead replica's attempt marker and its last heartbeat, taken at the "crash" — then starts
// outbound-send as its own process (apps/outbound-send/src/main.ts, FerretDB store, the real Kafka broker,
// tokens from a real auth-broker process against the graph sandbox over HTTPS) with the production
// defaults (30 sends per minute per mailbox, OUTBOUND_SEND_ATTEMPT_STALE_MS 180 s,
// OUTBOUND_SEND_REPLICA_DEAD_AFTER_MS 30 s), and publishes BENCH_STRANDED_REPLIES agent replies
// (default 40) from the same mailbox, one every BENCH_STRANDED_INTERVAL_MS (default 3000: 20 a minute,
// within the mailbox's limit, so no reply would wait without the stranded send). It prints how long
// each reply waited (published → SENT), when the stranded send was resolved (crash → SENT) and how
// many copies of each went out.
// Run: npx nx run bench:outbound-send-stranded, or node tools/scripts/run-ts.mjs bench/outbound-send/stranded-send.bench.ts
// Env: BENCH_STRANDED_REPLIES (default 40), BENCH_STRANDED_INTERVAL_MS (default 3000), BENCH_TIMEOUT_SECONDS
// (default 300); Kafka and FerretDB come
// from tools/test-infra unless MAILROUTE_TEST_KAFKA_BROKERS and MAILROUTE_TEST_MONGODB_URL name running ones.
import { mkdtempSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  ActorKind,
  OutboundRequest,
  ReplyMode,
  SendKind,
  SendOrigin,
  SendState,
  type OutgoingMessage,
} from '@mailroute/contracts';
import { eventKey, events, fromEventMessage, KafkaEventBus, toEventMessage } from '@mailroute/messaging';
import { MongoDocumentTable, MongoStore } from '@mailroute/persistence';
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

const replies = Number(process.env['BENCH_STRANDED_REPLIES'] ?? 40);
const intervalMs = Number(process.env['BENCH_STRANDED_INTERVAL_MS'] ?? 3_000);
const timeoutMs = Number(process.env['BENCH_TIMEOUT_SECONDS'] ?? 300) * 1000;
const sendIdHeader = 'x-mailroute-send-id';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const seconds = (ms: number) => (ms / 1000).toFixed(1);

async function main(): Promise<void> {
  const infra = await startBenchInfra();
  const brokers = infra.kafkaBrokers;
  const mongoUrl = infra.mongoUrl;
  const started = await startTestGraphSandbox({ certDir: mkdtempSync(path.join(tmpdir(), 'os-stranded-sandbox-')) });
  const tenantId = randomId('stranded');
  const serviceToken = `mrs_${randomId('send')}`;
  const authBroker = await startAuthBrokerProcess({
    endpoints: started.endpoints,
    workDir: mkdtempSync(path.join(tmpdir(), 'os-stranded-')),
    apiKeys: { [tenantId]: `mrk_${randomId('key')}` },
    serviceTokens: { 'outbound-send': serviceToken },
  });
  const sandbox = await createSandboxMailTenant(started.endpoints, { mailboxCount: 1 });
  await authBroker.addSandboxCredentials(tenantId, sandbox);
  const address = sandbox.mailboxes[0] as string;
  const database = randomId('os-stranded');
  const store = await MongoStore.connect({ url: mongoUrl, database, appName: 'outbound-send-bench' });
  await new MongoDocumentTable<object>(store, 'mf_mailboxes').put(`${tenantId}/box-0`, {
    address,
    accessMode: 1,
    credentialsId: 'default',
    enabled: true,
  });

  const bus = new KafkaEventBus({ brokers, clientId: randomId('os-stranded') });
  await bus.ensureTopics([events.outboundRequest, events.outboundResult].map((event) => ({ topic: event.topic, partitions: 8 })));
  const finishedAt = new Map<string, { at: number; state: SendState }>();
  const subscription = await bus.subscribe({
    groupId: randomId('os-stranded-results'),
    topics: [events.outboundResult.topic],
    fromBeginning: false,
    handler: async (message) => {
      const result = fromEventMessage('outboundResult', message);
      const final =
        result.state === SendState.SEND_STATE_SENT ||
        result.state === SendState.SEND_STATE_FAILED ||
        result.state === SendState.SEND_STATE_OUTCOME_UNKNOWN;
      if (final && !finishedAt.has(result.sendId)) finishedAt.set(result.sendId, { at: Date.now(), state: result.state });
    },
  });
  await waitFor(() => subscription.assignments().length > 0, { timeoutMs: 60_000 });

  const request = (fields: Partial<OutboundRequest>) =>
    OutboundRequest.fromPartial({
      eventId: randomUUID(),
      tenantId,
      occurredAt: new Date(),
      sendId: randomUUID(),
      idempotencyKey: randomId('k'),
      mailboxId: 'box-0',
      mailboxAddress: address,
      requestedBy: { kind: ActorKind.ACTOR_KIND_AGENT, id: 'agent', displayName: '' },
      ...fields,
    });
  const publish = async (full: OutboundRequest) => {
    await bus.publish(events.outboundRequest.topic, toEventMessage('outboundRequest', eventKey(tenantId, full.mailboxId), full));
    return full;
  };

  // The crash: a replica claimed attempt 1 of this send and died before recording anything else.
  const crashedAt = Date.now();
  const stranded = request({
    kind: SendKind.SEND_KIND_NEW,
    content: {
      subject: 'Stranded',
      bodyText: 'stranded',
      to: [{ address: 'ann@customer.example', name: '' }],
    } as OutgoingMessage,
  });
  const key = `${tenantId}/${stranded.sendId}`;
  // outbound-send's tables (apps/outbound-send/src/store/outbound-send.stores.ts): send record, attempt marker, replica heartbeat, due entry.
  await new MongoDocumentTable<object>(store, 'os_sends').put(key, {
    tenantId,
    sendId: stranded.sendId,
    request: OutboundRequest.toJSON(stranded),
    origin: SendOrigin.SEND_ORIGIN_AGENT,
    state: SendState.SEND_STATE_ACCEPTED,
    attempts: 0,
    createdAt: crashedAt - 1_000,
    updatedAt: crashedAt - 1_000,
  });
  await new MongoDocumentTable<object>(store, 'os_send_attempts').put(`${key}/1`, {
    owner: 'crashed-replica',
    instance: 'crashed-instance',
    at: crashedAt,
  });
  await new MongoDocumentTable<object>(store, 'os_replicas').put('crashed-replica', {
    instance: 'crashed-instance',
    startedAt: crashedAt - 600_000,
    beatAt: crashedAt,
  });
  await new MongoDocumentTable<object>(store, 'os_due_sends').put(`${String(crashedAt).padStart(15, '0')}/${key}`, {
    tenantId,
    sendId: stranded.sendId,
  });

  let proc: ServiceProcess | undefined;
  const waits: number[] = [];
  let strandedSeconds = Number.NaN;
  const copies = new Map<string, number>();
  let consumingAfterMs = Number.NaN;
  try {
    proc = startServiceProcess('apps/outbound-send/src/main.ts', {
      GRPC_PORT: '0',
      LOG_LEVEL: 'info',
      NODE_EXTRA_CA_CERTS: started.endpoints.caCertPath,
      OUTBOUND_SEND_STORE: 'mongodb',
      OUTBOUND_SEND_MONGODB_URL: mongoUrl,
      OUTBOUND_SEND_MONGODB_DATABASE: database,
      OUTBOUND_SEND_KAFKA_BROKERS: brokers.join(','),
      OUTBOUND_SEND_CONSUMER_GROUP: randomId('os-stranded'),
      OUTBOUND_SEND_CONSUMER_FROM_BEGINNING: 'false',
      OUTBOUND_SEND_AUTH_BROKER_ADDRESS: authBroker.address,
      OUTBOUND_SEND_AUTH_BROKER_TOKEN: serviceToken,
      OUTBOUND_SEND_METRICS_PORT: '0',
    });
    await proc.port();
    // The group starts at the latest offset: probe (a mailbox that does not exist fails at once, taking no slot) until it consumes.
    await waitFor(
      async () => {
        const probe = await publish(
          request({
            mailboxId: 'no-such-mailbox',
            kind: SendKind.SEND_KIND_NEW,
            content: { subject: 'probe', bodyText: 'p', to: [{ address: 'p@customer.example', name: '' }] } as OutgoingMessage,
          }),
        );
        return waitFor(() => finishedAt.has(probe.sendId), { timeoutMs: 3_000, intervalMs: 50 }).catch(() => false);
      },
      { timeoutMs: 90_000, intervalMs: 0 },
    );
    consumingAfterMs = Date.now() - crashedAt;
    const original = await started.endpoints.admin.deliver(sandbox.directoryId, address, {
      from: { address: 'customer@customer.example' },
      subject: 'Question',
      body: 'Where is my order?',
    });
    const publishedAt = new Map<string, number>();
    for (let i = 0; i < replies; i += 1) {
      const reply = request({
        kind: SendKind.SEND_KIND_REPLY,
        replyMode: ReplyMode.REPLY_MODE_REPLY,
        interactionId: randomUUID(),
        replyToGraphMessageId: original.immutableId,
        content: { bodyText: `Answer ${i}` } as OutgoingMessage,
      });
      publishedAt.set(reply.sendId, Date.now());
      await publish(reply);
      await sleep(intervalMs);
    }
    const deadline = crashedAt + timeoutMs;
    while (
      Date.now() < deadline &&
      ([...publishedAt.keys()].some((id) => !finishedAt.has(id)) || !finishedAt.has(stranded.sendId))
    )
      await sleep(200);
    for (const [id, at] of publishedAt) {
      const done = finishedAt.get(id);
      if (done?.state === SendState.SEND_STATE_SENT) waits.push(done.at - at);
    }
    waits.sort((a, b) => a - b);
    const resolved = finishedAt.get(stranded.sendId);
    if (resolved?.state === SendState.SEND_STATE_SENT) strandedSeconds = (resolved.at - crashedAt) / 1000;
    for (const record of (await started.endpoints.admin.sent(sandbox.directoryId, address)).value) {
      const id = record.internetMessageHeaders.find((header) => header.name.toLowerCase() === sendIdHeader)?.value;
      if (id) copies.set(id, (copies.get(id) ?? 0) + 1);
    }
  } finally {
    await proc?.stop('SIGKILL');
    await subscription.close({ graceMs: 0 });
    await bus.close();
    await store.db.dropDatabase().catch(() => undefined);
    await store.close();
    await authBroker.proc.stop();
    await started.sandbox.stop();
    await infra.stop();
  }

  const doubled = [...copies.values()].filter((n) => n > 1).length;
  console.log(
    `\nstranded send — Node ${process.version}, ${availableParallelism()} CPU(s), load average ${loadavg()
      .map((v) => v.toFixed(1))
      .join(' ')}; outbound-send and auth-broker as processes, Kafka + FerretDB, production limits (30 sends/min per mailbox)`,
  );
  console.log(
    `outbound-send consuming ${seconds(consumingAfterMs)} s after the crash; then ${replies} other replies of the same mailbox, one every ${intervalMs} ms`,
  );
  console.log(
    `other replies SENT: ${waits.length}/${replies}; wait published → SENT: p50 ${seconds(percentile(waits, 50))} s, p90 ${seconds(percentile(waits, 90))} s, max ${seconds(waits.at(-1) ?? Number.NaN)} s`,
  );
  console.log(
    `stranded send SENT ${Number.isNaN(strandedSeconds) ? `not within ${timeoutMs / 1000} s` : `${strandedSeconds.toFixed(1)} s after the crash`}; copies: ${copies.get(stranded.sendId) ?? 0}; messages sent more than once: ${doubled}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
