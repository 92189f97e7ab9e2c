// BENCH_SCENARIO=failover of bench:interaction-router (issue 18): how long e-mail waits when one of two
// router replicas is killed. Two interaction-router processes (their main.ts, as deployed, on a Kafka
// broker of this bench's own and FerretDB) share a tenant; the agents' desktops are on one of them.
// The other — the one holding the tenant's planner lease, so the lease has to lapse too — gets
// SIGKILL; then BENCH_INTERACTIONS e-mails are published at BENCH_RATE per second, spread over 16
// mailboxes (so over the dead replica's partitions and the survivor's). Printed per round: publish →
// offer p50/p99/max of those e-mails, e-mails lost (never offered) and doubled (accepted twice), and the
// load average. Rounds: the router's defaults, then (BENCH_FAILOVER_OLD=0 skips it) the old settings,
// kafkajs' 30 s session and a 10 s planner lease.
// Env: BENCH_INTERACTIONS (40), BENCH_RATE (10/s), BENCH_AGENTS (10, capacity 5), BENCH_TIMEOUT_SECONDS (180),
// BENCH_FAILOVER_OLD (1).
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { createChannel } from 'nice-grpc';
import { eventTopics, KafkaEventBus } from '@mailroute/messaging';
import { hashBearerCredential } from '@mailroute/platform';
import {
  freePort,
  startDedicatedKafka,
  startServiceProcess,
  waitFor,
  waitForServing,
  type DedicatedKafka,
  type ServiceProcess,
} from '@mailroute/testing';
import { openMongoRouterStores } from '../src/store/router-stores';
import { plannerLeaseKey } from '../src/store/router-keys';
import {
  adminClient,
  createAgentIdentity,
  createQueueAndAgents,
  emptyAgentRecord,
  percentile,
  serveJwks,
  startBenchAgents,
  type AgentIdentity,
} from './bench-agents';
import { publishEmails } from './bench-emails';

const total = Number(process.env['BENCH_INTERACTIONS'] ?? 40);
const rate = Number(process.env['BENCH_RATE'] ?? 10);
const agentCount = Number(process.env['BENCH_AGENTS'] ?? 10);
const capacity = 5;
const warmUp = 16;
const timeoutMs = Number(process.env['BENCH_TIMEOUT_SECONDS'] ?? 180) * 1000;
const rounds = [
  { name: 'defaults', env: {} as Record<string, string> },
  ...(process.env['BENCH_FAILOVER_OLD'] === '0'
    ? []
    : [
        {
          name: 'old: 30 s session, 10 s lease',
          env: { ROUTER_KAFKA_SESSION_TIMEOUT_MS: '30000', ROUTER_PLANNER_LEASE_MS: '10000' },
        },
      ]),
];
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const benchStarted = performance.now();
/** A progress line on stderr (the figures go to stdout at the end). */
const progress = (text: string) =>
  process.stderr.write(`[failover ${((performance.now() - benchStarted) / 1000).toFixed(1)} s] ${text}\n`);

async function main(): Promise<void> {
  const mongoUrl = process.env['MAILROUTE_TEST_MONGODB_URL'];
  if (!mongoUrl) throw new Error('failover-bench needs MAILROUTE_TEST_MONGODB_URL; run it through bench/interaction-router');
  const identity = await createAgentIdentity();
  const jwks = await serveJwks(identity);
  const lines: string[] = [];
  try {
    for (const round of rounds) lines.push(...(await runRound(round, mongoUrl, identity, jwks.authority)));
  } finally {
    jwks.server.close();
  }
  process.stdout.write(
    `${['interaction-router bench (failover: one of two replicas killed with SIGKILL)', ...lines, ''].join('\n')}\n`,
  );
}

async function runRound(
  round: (typeof rounds)[number],
  mongoUrl: string,
  identity: AgentIdentity,
  authority: string,
): Promise<string[]> {
  const tenantId = `failover-${randomUUID().slice(0, 8)}`;
  const database = `router-failover-${randomUUID().slice(0, 8)}`;
  const apiKey = `mrk_${randomBytes(24).toString('base64url')}`;
  const loadAtStart = load();
  const kafka: DedicatedKafka = await startDedicatedKafka();
  const bus = new KafkaEventBus({ brokers: [kafka.brokers], clientId: 'failover-bench' });
  const mongo = await MongoClient.connect(mongoUrl);
  const procs: ServiceProcess[] = [];
  const record = emptyAgentRecord();
  let agents: { stop(): Promise<void> } | undefined;
  try {
    progress(`${round.name}: Kafka at ${kafka.brokers}`);
    await bus.ensureTopics(eventTopics('inboundEmail', 'interactionStateChanged', 'outboundRequest', 'outboundResult', 'alert'));
    // Opened once first so the indexes exist before two processes would race to create them.
    await (await openMongoRouterStores(mongoUrl, database)).close();
    const ports = [await freePort(), await freePort()];
    const replicaIds = ['replica-a', 'replica-b'].map((name) => `${name}-${randomUUID().slice(0, 6)}`);
    for (const [replica, port] of ports.entries()) {
      procs.push(
        startServiceProcess('apps/interaction-router/src/main.ts', {
          GRPC_PORT: String(port),
          LOG_LEVEL: 'warn',
          ROUTER_MONGODB_URL: mongoUrl,
          ROUTER_MONGODB_DATABASE: database,
          ROUTER_KAFKA_BROKERS: kafka.brokers,
          ROUTER_REPLICA_ID: replicaIds[replica] ?? '',
          ROUTER_API_KEYS: `wm:${tenantId}:routing.read+routing.write:${hashBearerCredential(apiKey)}`,
          ROUTER_AGENT_DIRECTORIES: `${tenantId}:${identity.directory}`,
          ROUTER_AGENT_AUDIENCE: identity.audience,
          ROUTER_AGENT_AUTHORITY: authority,
          ROUTER_METRICS_PORT: '0',
          ...round.env,
        }),
      );
    }
    for (const port of ports) await waitForServing(`127.0.0.1:${port}`, { timeoutMs: 120_000 });
    await bothInGroup(kafka.brokers);
    progress(`${round.name}: both replicas serving and in the consumer group`);
    const admin = adminClient(createChannel(`127.0.0.1:${ports[0]}`), apiKey);
    await createQueueAndAgents(admin, agentCount, capacity);
    await sleep(1_500); // sign-in reads the agent directory through a 1 s cache

    // Warm-up: intake on both replicas' partitions; one of them takes the tenant's planner lease.
    const published = new Map<string, number>();
    await publishEmails(bus, tenantId, warmUp, Number.POSITIVE_INFINITY, published);
    const owner = await waitFor(() => plannerOwner(mongo, database, tenantId), { timeoutMs: 60_000, description: 'a planner' });
    const victim = Math.max(0, replicaIds.indexOf(owner));
    const survivor = 1 - victim;
    progress(`${round.name}: ${owner} plans the tenant; agents on ${replicaIds[survivor]}`);
    agents = await startBenchAgents({ address: `127.0.0.1:${ports[survivor]}`, identity, authority, count: agentCount, record });
    await waitFor(() => record.completed.size >= warmUp, { timeoutMs, description: 'the warm-up e-mails completed' });

    progress(`${round.name}: warm-up done; killing ${replicaIds[victim]}`);
    const killed = procs[victim];
    const killedAt = performance.now();
    killed?.child.kill('SIGKILL');
    await killed?.exited;
    // When the survivor alone owns the inbound partitions, and when it holds the planner lease (the two waits of failover).
    const phases = watchFailover(kafka.brokers, () => plannerOwner(mongo, database, tenantId), replicaIds[survivor] ?? '');
    const afterKill = new Map<string, number>();
    await publishEmails(bus, tenantId, total, rate, afterKill);
    progress(`${round.name}: ${total} e-mails published after the kill`);
    for (const [id, at] of afterKill) published.set(id, at);
    await waitFor(() => [...afterKill.keys()].every((id) => record.completed.has(id)), { timeoutMs, intervalMs: 200 }).catch(
      () => undefined,
    );
    const latencies = [...afterKill]
      .filter(([id]) => record.offeredAt.has(id))
      .map(([id, at]) => (record.offeredAt.get(id) ?? at) - at)
      .sort((a, b) => a - b);
    const { groupAt, leaseAt } = await phases.stop();
    const lost = [...afterKill.keys()].filter((id) => !record.offeredAt.has(id)).length;
    const doubled = [...record.accepts.values()].filter((n) => n > 1).length;
    const warnings = procs.flatMap((p) => p.output).filter((line) => line.includes('TimeoutNegativeWarning')).length;
    const settings = round.env['ROUTER_KAFKA_SESSION_TIMEOUT_MS']
      ? `ROUTER_KAFKA_SESSION_TIMEOUT_MS=${round.env['ROUTER_KAFKA_SESSION_TIMEOUT_MS']} ROUTER_PLANNER_LEASE_MS=${round.env['ROUTER_PLANNER_LEASE_MS']}`
      : "the router's defaults";
    const s = (ms: number | undefined) => `${((ms ?? Number.NaN) / 1000).toFixed(1)} s`;
    return [
      `  ${round.name} (${settings}); killed the planner-lease holder (${owner === replicaIds[victim] ? 'found' : 'not found: killed replica-a'})`,
      `    load average             ${loadAtStart} at the start, ${load()} at the end`,
      `    kill → publish → offer   ${afterKill.size} e-mails published after the kill at ${rate}/s; offered ${latencies.length}`,
      `    publish → offer          p50 ${s(percentile(latencies, 50))}, p99 ${s(percentile(latencies, 99))}, max ${s(latencies.at(-1))}`,
      `    after the kill           survivor alone in the consumer group after ${s(groupAt === undefined ? undefined : groupAt - killedAt)}, holds the planner lease after ${s(leaseAt === undefined ? undefined : leaseAt - killedAt)}`,
      `    lost / doubled           ${lost} never offered, ${doubled} accepted twice (of ${published.size} with the warm-up; completed ${record.completed.size})`,
      `    TimeoutNegativeWarning   ${warnings} in the replicas' output`,
      ...record.errors.slice(0, 5).map((error) => `    agent error: ${error}`),
    ];
  } catch (error) {
    for (const [replica, proc] of procs.entries())
      progress(`replica ${replica} output (last 20 lines):\n${proc.output.slice(-20).join('\n')}`);
    throw error;
  } finally {
    await agents?.stop();
    await Promise.allSettled(
      procs.map((p) => (p.child.exitCode === null && p.child.signalCode === null ? p.stop('SIGTERM') : undefined)),
    );
    await bus.close();
    await kafka.dispose();
    await mongo
      .db(database)
      .dropDatabase()
      .catch(() => undefined);
    await mongo.close();
  }
}

/** Polls, until stopped, for the moment the inbound group is stable with one member and the survivor holds the planner lease. */
function watchFailover(brokers: string, owner: () => Promise<string | undefined>, survivorId: string) {
  const admin = new Kafka({ brokers: [brokers], clientId: 'failover-bench-watch', logLevel: logLevel.NOTHING }).admin();
  let groupAt: number | undefined;
  let leaseAt: number | undefined;
  let stopped = false;
  const polling = (async () => {
    await admin.connect();
    while (!stopped && (groupAt === undefined || leaseAt === undefined)) {
      const [group] = (await admin.describeGroups(['interaction-router']).catch(() => ({ groups: [] }))).groups;
      if (groupAt === undefined && group?.state === 'Stable' && group.members.length === 1) groupAt = performance.now();
      if (leaseAt === undefined && (await owner().catch(() => undefined)) === survivorId) leaseAt = performance.now();
      await sleep(100);
    }
    await admin.disconnect();
  })();
  return {
    async stop() {
      stopped = true;
      await polling.catch(() => undefined);
      return { groupAt, leaseAt };
    },
  };
}

/** Waits until both replicas are members of the inbound consumer group and it is stable. */
async function bothInGroup(brokers: string): Promise<void> {
  const admin = new Kafka({ brokers: [brokers], clientId: 'failover-bench-admin', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        const [group] = (await admin.describeGroups(['interaction-router'])).groups;
        return group?.state === 'Stable' && group.members.length === 2;
      },
      { timeoutMs: 120_000, intervalMs: 500, description: 'both replicas in the consumer group' },
    );
  } finally {
    await admin.disconnect();
  }
}

/** The replica holding the tenant's planner lease now (the lease documents' newest epoch), if any. */
async function plannerOwner(mongo: MongoClient, database: string, tenantId: string): Promise<string | undefined> {
  const head = await mongo
    .db(database)
    .collection<{ owner: string; released?: boolean; expiresAt: Date }>('leases')
    .find({ key: plannerLeaseKey(tenantId) })
    .sort({ epoch: -1 })
    .limit(1)
    .next();
  return head && !head.released && head.expiresAt.getTime() > Date.now() ? head.owner : undefined;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  },
);
