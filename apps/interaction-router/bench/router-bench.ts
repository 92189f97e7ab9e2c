// The body of bench/interaction-router (`npx nx run bench:interaction-router` spawns this file, as
// the graph-sandbox bench spawns its app: the bench project may not import an app's sources; this
// folder is the router's own bench code, outside its production src/, under the spec lint rules).
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createChannel, createClient, Metadata } from 'nice-grpc';
import { AgentDesktopServiceDefinition, InboundEmail, InteractionRouterServiceDefinition } from '@mailroute/contracts';
import { eventKey, events, KafkaEventBus, toEventMessage } from '@mailroute/messaging';
import {
  createCallerAuthenticator,
  createEntraTokenVerifier,
  createLogger,
  hashBearerCredential,
  staticJwks,
} from '@mailroute/platform';
import { StoreOperationCounter, type StoreOperationCounts } from '@mailroute/persistence';
import { waitFor } from '@mailroute/testing';
import { composeInteractionRouter } from '../src/compose';
import { countRouterStores } from '../src/store/counted-router-stores';
import { measureRawWriteRate } from './raw-write-rate';
import { openEmbeddedRouterStores } from '../src/store/embedded-router-stores';
import { openMongoRouterStores } from '../src/store/router-stores';

/**
 * BENCH_SCENARIO=backlog: a Monday-morning backlog — every e-mail published at once before any agent
 * can take one, agents accepting at once (defaults 5,000 e-mails, 200 agents × capacity 5); the
 * default `steady` publishes at BENCH_RATE.
 */
const backlog = process.env['BENCH_SCENARIO'] === 'backlog';
const total = Number(process.env['BENCH_INTERACTIONS'] ?? (backlog ? 5000 : 300));
const agentCount = Number(process.env['BENCH_AGENTS'] ?? (backlog ? 200 : 20));
const capacity = Number(process.env['BENCH_CAPACITY'] ?? 5);
const rate = Number(process.env['BENCH_RATE'] ?? 20);
/** Puts of the raw write-rate measurement (before the flow, same store, same run) and how many at a time. */
const rawWrites = Number(process.env['BENCH_RAW_WRITES'] ?? 2000);
const rawConcurrency = Number(process.env['BENCH_RAW_CONCURRENCY'] ?? 8);
const timeoutMs = Number(process.env['BENCH_TIMEOUT_SECONDS'] ?? 300) * 1000;
/** `mongodb` (FerretDB from test-infra, the default) or `embedded` (node:sqlite in a temporary file). */
const storeKind = process.env['BENCH_STORE'] === 'embedded' ? 'embedded' : 'mongodb';
/** BENCH_REPLY=0: agents accept and complete without replying (the workload of the benchmark before replies were added). */
const withReply = process.env['BENCH_REPLY'] !== '0';
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  // bench/interaction-router/interaction-router.bench.ts starts (or reuses) Kafka and FerretDB and names them here.
  const kafkaBrokers = process.env['MAILROUTE_TEST_KAFKA_BROKERS'];
  const mongoUrl = process.env['MAILROUTE_TEST_MONGODB_URL'];
  if (!kafkaBrokers || !mongoUrl)
    throw new Error(
      'router-bench needs MAILROUTE_TEST_KAFKA_BROKERS and MAILROUTE_TEST_MONGODB_URL; run it through bench/interaction-router',
    );
  const tenantId = `bench-${randomUUID().slice(0, 8)}`;
  const directory = `dir-${randomUUID().slice(0, 8)}`;
  const logger = createLogger({ name: 'router-bench', level: 'error' });
  global.gc?.();
  const memoryBefore = process.memoryUsage();

  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
  const issuer = 'https://login.bench';
  const apiKey = `mrk_${randomUUID()}`;
  // Port calls (any adapter) and, on MongoDB, the round trips to the server underneath them.
  const portOperations = new StoreOperationCounter();
  const roundTrips = storeKind === 'mongodb' ? new StoreOperationCounter() : undefined;
  const database = `router-bench-${randomUUID().slice(0, 8)}`;
  const raw = await measureRawWriteRate(
    storeKind === 'mongodb' ? { kind: 'mongodb', url: mongoUrl, database } : { kind: 'embedded' },
    rawWrites,
    rawConcurrency,
  );
  const stores = countRouterStores(
    storeKind === 'mongodb'
      ? await openMongoRouterStores(mongoUrl, database, { operations: roundTrips })
      : openEmbeddedRouterStores(path.join(mkdtempSync(path.join(tmpdir(), 'router-bench-')), 'router.sqlite')),
    portOperations,
  );
  const bus = new KafkaEventBus({
    brokers: kafkaBrokers.split(','),
    clientId: 'router-bench',
    logger,
    partitionsConsumedConcurrently: 4,
  });
  const server = composeInteractionRouter(
    {
      logger,
      stores,
      bus,
      authenticator: createCallerAuthenticator({
        apiKeys: [{ id: 'bench', tenantId, scopes: ['routing.read', 'routing.write'], sha256: hashBearerCredential(apiKey) }],
      }),
      agentVerifier: createEntraTokenVerifier({
        directories: new Map([[directory, tenantId]]),
        audience: 'bench',
        issuerFor: (tid) => `${issuer}/${tid}/v2.0`,
        keysFor: () => staticJwks({ keys: [jwk] }),
      }),
    },
    { consumerGroupId: `router-bench-${randomUUID().slice(0, 8)}`, inboundFromBeginning: false },
  );
  await server.start();
  await waitFor(() => server.runtime.consuming() && server.hub.consuming(), { timeoutMs: 60_000 });
  const port = await server.listen('127.0.0.1', 0);
  const channel = createChannel(`127.0.0.1:${port}`);
  const admin = createClient(InteractionRouterServiceDefinition, channel, {
    '*': { metadata: Metadata({ authorization: `Bearer ${apiKey}` }) },
  });
  await admin.createQueue({ queueId: 'bench', queue: { displayName: 'Bench', offerTimeout: { seconds: 60, nanos: 0 } } });

  const published = new Map<string, number>();
  const offeredAt = new Map<string, number>();
  const assignedAt = new Map<string, number>();
  const completed = new Set<string>();
  const stop = new AbortController();
  for (let index = 0; index < agentCount; index += 1) {
    await admin.createAgent({
      agentId: `agent-${index}`,
      agent: { displayName: `Agent ${index}`, entraObjectId: `oid-${index}`, queueIds: ['bench'], capacity, skills: [] },
    });
  }
  await sleep(1_500); // sign-in reads the agent directory through a 1 s cache
  const agents = await Promise.all(
    Array.from({ length: agentCount }, async (_, index) => {
      const token = await new SignJWT({ tid: directory, oid: `oid-${index}`, name: `Agent ${index}` })
        .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
        .setIssuer(`${issuer}/${directory}/v2.0`)
        .setAudience('bench')
        .setIssuedAt()
        .setExpirationTime('2h')
        .sign(privateKey);
      const desktop = createClient(AgentDesktopServiceDefinition, channel, {
        '*': { metadata: Metadata({ authorization: `Bearer ${token}` }) },
      });
      let connected = false;
      const done = (async () => {
        try {
          for await (const message of desktop.connect({ clientInstanceId: `bench-${index}` }, { signal: stop.signal })) {
            if (message.event?.$case === 'snapshot') connected = true;
            if (message.event?.$case !== 'offer') continue;
            const offer = message.event.value;
            const id = offer.interaction?.interactionId ?? '';
            if (!offeredAt.has(id)) offeredAt.set(id, performance.now());
            void desktop
              .accept({ offerId: offer.offerId })
              .then(() => assignedAt.set(id, performance.now()))
              .then(() =>
                withReply
                  ? desktop
                      .reply({
                        idempotencyKey: `reply-${id}`,
                        interactionId: id,
                        content: {
                          subject: '',
                          bodyText: 'Thanks, done.',
                          bodyHtml: '',
                          to: [],
                          cc: [],
                          bcc: [],
                          attachments: [],
                          importance: 0,
                        },
                        mode: 0,
                        replyToGraphMessageId: '',
                        completeAfterSend: false,
                      })
                      .then(() => undefined)
                  : undefined,
              )
              .then(() => desktop.complete({ interactionId: id, dispositionCode: 'bench', note: '' }))
              .then(() => completed.add(id))
              .catch((error: unknown) => process.stderr.write(`agent ${index}: ${id}: ${String(error)}\n`));
          }
        } catch (error) {
          if (!stop.signal.aborted) process.stderr.write(`agent ${index}: stream ended: ${String(error)}\n`);
        }
      })();
      return { done, connected: () => connected };
    }),
  );
  await waitFor(() => agents.every((a) => a.connected()), { timeoutMs: 60_000 });

  portOperations.reset();
  roundTrips?.reset();
  const started = performance.now();
  const batch: ReturnType<typeof toEventMessage>[] = [];
  for (let i = 0; i < total; i += 1) {
    const interactionId = `ix-${i}-${randomUUID().slice(0, 8)}`;
    const event = InboundEmail.fromPartial({
      eventId: randomUUID(),
      tenantId,
      interactionId,
      occurredAt: new Date(),
      mailboxId: `mb-${i % 8}`,
      mailboxAddress: `mb-${i % 8}@bench.test`,
      defaultQueueId: 'bench',
      message: {
        subject: `Question ${i}`,
        from: { address: `customer-${i}@customer.test`, name: `Customer ${i}` },
        conversationId: `conv-${interactionId}`,
        graphMessageId: `g-${interactionId}`,
      },
    });
    const message = toEventMessage('inboundEmail', eventKey(tenantId, event.mailboxId), event);
    if (backlog) {
      // All at once: enqueue time is when the batch holding it was handed to the producer.
      batch.push(message);
      published.set(interactionId, performance.now());
      if (batch.length >= 500 || i === total - 1) await bus.publish(events.inboundEmail.topic, batch.splice(0));
      continue;
    }
    published.set(interactionId, performance.now());
    void bus.publish(events.inboundEmail.topic, message);
    const due = started + ((i + 1) * 1000) / rate;
    if (due > performance.now()) await sleep(due - performance.now());
  }
  await waitFor(() => offeredAt.size >= total, { timeoutMs, intervalMs: 200 }).catch(() => undefined);
  const finished = Math.max(...offeredAt.values());
  await waitFor(() => completed.size >= offeredAt.size, { timeoutMs: 60_000, intervalMs: 200 }).catch(() => undefined);
  const lastAssigned = Math.max(...assignedAt.values());
  // Heartbeats and sweeps keep counting while the last completions land; the figures cover the whole run.
  global.gc?.();
  const memoryAfter = process.memoryUsage();

  const latencies = [...offeredAt].map(([id, at]) => at - (published.get(id) ?? at)).sort((a, b) => a - b);
  const seconds = (finished - started) / 1000;
  const assignedPerSecond = assignedAt.size / ((lastAssigned - started) / 1000);
  // The store work the router asks for, against what the store does raw: round trips on MongoDB, port calls embedded.
  const storeWork = (roundTrips ?? portOperations).totals().total / Math.max(1, completed.size);
  process.stdout.write(
    [
      `interaction-router bench (${backlog ? 'backlog' : 'steady'}) — ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, ${storeKind === 'mongodb' ? 'FerretDB v1' : 'embedded node:sqlite'} + Kafka, ${agentCount} agents × capacity ${capacity}, ${total} e-mails ${backlog ? 'published at once' : `offered at ${rate}/s`}`,
      `  load average            ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (at the end of the run)`,
      `  offered                 ${offeredAt.size} of ${total} (accepted, ${withReply ? 'replied and ' : ''}completed: ${completed.size})`,
      `  enqueue → offer p50     ${percentile(latencies, 50).toFixed(0)} ms`,
      `  enqueue → offer p99     ${percentile(latencies, 99).toFixed(0)} ms`,
      `  enqueue → offer max     ${(latencies[latencies.length - 1] ?? Number.NaN).toFixed(0)} ms`,
      `  throughput              ${(offeredAt.size / seconds).toFixed(1)} offers/s (first publish → last offer ${seconds.toFixed(1)} s)`,
      `  to last assignment      ${assignedPerSecond.toFixed(1)} interactions/s (${assignedAt.size} accepted, first publish → last accept ${((lastAssigned - started) / 1000).toFixed(1)} s)`,
      `  raw write rate          ${raw.writesPerSecond.toFixed(0)} single-document puts/s (${raw.count} puts, ${raw.concurrency} at a time, same store, before the flow)`,
      `  store work / raw rate   ${((assignedPerSecond * storeWork * 100) / raw.writesPerSecond).toFixed(0)}% (interactions/s × ${storeWork.toFixed(1)} ${roundTrips ? 'round trips' : 'port calls'} per interaction ÷ raw rate)`,
      ...operationLines('store port calls per interaction', portOperations, completed.size),
      ...(roundTrips ? operationLines('MongoDB round trips per interaction', roundTrips, completed.size) : []),
      `  memory (process delta)  RSS +${mib(memoryAfter.rss - memoryBefore.rss)}, heap +${mib(memoryAfter.heapUsed - memoryBefore.heapUsed)} (RSS now ${mib(memoryAfter.rss)})`,
      '',
    ].join('\n'),
  );

  stop.abort();
  await Promise.allSettled(agents.map((a) => a.done));
  channel.close();
  await server.shutdown(1_000).catch(() => undefined);
  await server.stop().catch(() => undefined);
  await bus.close();
  await stores.close();
}

/** Operations per completed interaction: the total by kind, then each step's. */
function operationLines(title: string, counter: StoreOperationCounter, interactions: number): string[] {
  const per = (n: number) => (interactions > 0 ? n / interactions : Number.NaN).toFixed(2);
  const row = (label: string, c: StoreOperationCounts) =>
    `    ${label.padEnd(12)} ${per(c.total).padStart(7)}   (reads ${per(c.read)}, inserts ${per(c.insert)}, updates ${per(c.update)}, deletes ${per(c.delete)})`;
  return [`  ${title}:`, row('all', counter.totals()), ...[...counter.byStep()].map(([step, counts]) => row(step, counts))];
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
