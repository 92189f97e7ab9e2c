// BENCH_SCENARIO=sustained of bench:interaction-router (issue 18): e-mail arriving at a steady
// BENCH_RATE (20/s) for BENCH_SECONDS (30) while plenty of agents are free (BENCH_AGENTS 40 ×
// capacity 5, each offer accepted and completed at once). Prints enqueue → offer p50/p99/max (goal:
// p99 ≤ 1 s) and the load average, once on Kafka + FerretDB and once on Kafka + the embedded store
// (BENCH_STORE=mongodb or embedded runs one). One router (the real composition) in this process, on
// the Kafka and FerretDB that bench/interaction-router names; enqueue = the InboundEmail handed to
// the producer, offer = the offer arriving on an agent's desktop stream over a socket.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { createChannel } from 'nice-grpc';
import { KafkaEventBus } from '@mailroute/messaging';
import {
  createCallerAuthenticator,
  createEntraTokenVerifier,
  createLogger,
  hashBearerCredential,
  staticJwks,
} from '@mailroute/platform';
import { waitFor } from '@mailroute/testing';
import { composeInteractionRouter } from '../src/compose';
import { openEmbeddedRouterStores } from '../src/store/embedded-router-stores';
import { openMongoRouterStores } from '../src/store/router-stores';
import {
  adminClient,
  createAgentIdentity,
  createQueueAndAgents,
  emptyAgentRecord,
  percentile,
  startBenchAgents,
  type AgentIdentity,
} from './bench-agents';
import { publishEmails } from './bench-emails';

const rate = Number(process.env['BENCH_RATE'] ?? 20);
const seconds = Number(process.env['BENCH_SECONDS'] ?? 30);
const agentCount = Number(process.env['BENCH_AGENTS'] ?? 40);
const capacity = Number(process.env['BENCH_CAPACITY'] ?? 5);
const timeoutMs = Number(process.env['BENCH_TIMEOUT_SECONDS'] ?? 300) * 1000;
const stores = (process.env['BENCH_STORE'] ? [process.env['BENCH_STORE']] : ['mongodb', 'embedded']) as (
  'mongodb' | 'embedded'
)[];
const authority = 'https://login.bench';
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  const kafkaBrokers = process.env['MAILROUTE_TEST_KAFKA_BROKERS'];
  const mongoUrl = process.env['MAILROUTE_TEST_MONGODB_URL'];
  if (!kafkaBrokers || !mongoUrl)
    throw new Error(
      'sustained-bench needs MAILROUTE_TEST_KAFKA_BROKERS and MAILROUTE_TEST_MONGODB_URL; run it through bench/interaction-router',
    );
  const identity = await createAgentIdentity();
  const lines = [
    `interaction-router bench (sustained: ${rate} e-mails/s for ${seconds} s, ${agentCount} agents × capacity ${capacity} accepting and completing at once)`,
  ];
  for (const store of stores) lines.push(...(await runOnce(store, kafkaBrokers.split(','), mongoUrl, identity)));
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function runOnce(
  storeKind: 'mongodb' | 'embedded',
  brokers: string[],
  mongoUrl: string,
  identity: AgentIdentity,
): Promise<string[]> {
  const tenantId = `sustained-${randomUUID().slice(0, 8)}`;
  const apiKey = `mrk_${randomBytes(24).toString('base64url')}`;
  const logger = createLogger({ name: 'sustained-bench', level: 'error' });
  const stores =
    storeKind === 'mongodb'
      ? await openMongoRouterStores(mongoUrl, `router-sustained-${randomUUID().slice(0, 8)}`)
      : openEmbeddedRouterStores(path.join(mkdtempSync(path.join(tmpdir(), 'router-sustained-')), 'router.sqlite'));
  const bus = new KafkaEventBus({ brokers, clientId: 'sustained-bench', logger, partitionsConsumedConcurrently: 4 });
  const server = composeInteractionRouter(
    {
      logger,
      stores,
      bus,
      authenticator: createCallerAuthenticator({
        apiKeys: [{ id: 'bench', tenantId, scopes: ['routing.read', 'routing.write'], sha256: hashBearerCredential(apiKey) }],
      }),
      agentVerifier: createEntraTokenVerifier({
        directories: new Map([[identity.directory, tenantId]]),
        audience: identity.audience,
        authority,
        keysFor: () => staticJwks({ keys: [identity.jwk] }),
      }),
    },
    // The shared broker's inbound topic holds other runs' e-mail: a new group starts at the latest offset.
    { consumerGroupId: `router-sustained-${randomUUID().slice(0, 8)}`, inboundFromBeginning: false },
  );
  let agents: { stop(): Promise<void> } | undefined;
  let channel: ReturnType<typeof createChannel> | undefined;
  try {
    await server.start();
    await waitFor(() => server.runtime.consuming() && server.hub.consuming(), { timeoutMs: 60_000 });
    const address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
    channel = createChannel(address);
    await createQueueAndAgents(adminClient(channel, apiKey), agentCount, capacity);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // sign-in reads the agent directory through a 1 s cache
    const record = emptyAgentRecord();
    agents = await startBenchAgents({ address, identity, authority, count: agentCount, record });
    const loadAtStart = load();
    process.stderr.write(
      `[sustained] ${storeKind}: ${agentCount} agents signed in; publishing ${rate * seconds} e-mails at ${rate}/s\n`,
    );
    const published = new Map<string, number>();
    const started = performance.now();
    await publishEmails(bus, tenantId, rate * seconds, rate, published);
    const publishSeconds = (performance.now() - started) / 1000;
    await waitFor(() => [...published.keys()].every((id) => record.offeredAt.has(id)), { timeoutMs, intervalMs: 200 }).catch(
      () => undefined,
    );
    const latencies = [...published]
      .filter(([id]) => record.offeredAt.has(id))
      .map(([id, at]) => (record.offeredAt.get(id) ?? at) - at)
      .sort((a, b) => a - b);
    const ms = (value: number | undefined) => `${(value ?? Number.NaN).toFixed(0)} ms`;
    return [
      `  ${storeKind === 'mongodb' ? 'Kafka + FerretDB v1' : 'Kafka + embedded node:sqlite'}`,
      `    load average          ${loadAtStart} at the start, ${load()} at the end`,
      `    published             ${published.size} in ${publishSeconds.toFixed(1)} s (${(published.size / publishSeconds).toFixed(1)}/s); offered ${latencies.length}`,
      `    enqueue → offer       p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(latencies.at(-1))} (goal p99 ≤ 1000 ms)`,
      ...record.errors.slice(0, 5).map((error) => `    agent error: ${error}`),
    ];
  } finally {
    await agents?.stop();
    channel?.close();
    await server.shutdown(1_000).catch(() => undefined);
    await server.stop().catch(() => undefined);
    await bus.close();
    await stores.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
