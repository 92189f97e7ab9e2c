import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { createChannel, createClient, Metadata, type Channel } from 'nice-grpc';
import {
  AgentDesktopServiceDefinition,
  InboundEmail,
  InboundMessage,
  InteractionRouterServiceDefinition,
  InteractionState,
  QueueStrategy,
  type AgentDesktopServiceClient,
} from '@mailroute/contracts';
import { demoProfile, type GraphSandbox, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { eventKey, events, fromEventMessage, KafkaEventBus, toEventMessage, type Subscription } from '@mailroute/messaging';
import { hashBearerCredential } from '@mailroute/platform';
import {
  freePort,
  randomId,
  signInWithDeviceCode,
  startDedicatedKafka,
  startServiceProcess,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  waitForServing,
  workspaceRoot,
  type DedicatedKafka,
  type ServiceProcess,
} from '@mailroute/testing';
import { openMongoRouterStores, type RouterStores } from './store/router-stores';
import { DesktopLedger, runSimulatedAgent } from '../test/desktop-agent-simulator';
import { describeStuckInteractions, keepProcessLogs, warningsOf } from '../test/stuck-interactions';

/**
 * A router replica crashes under load (issue 6: "kill one replica mid-run → same result").
 *
 * Two interaction-router processes (their main.ts, as deployed) share a FerretDB database and a
 * Kafka broker of this test's own (a new consumer group on the shared broker would read every
 * earlier suite's events). N agents sign in with Microsoft (device code against the graph sandbox's
 * demo tenant, users added through its admin API), each keeps a desktop stream on one of the two
 * processes and accepts, replies to (Reply → OutboundRequest) and completes what it is offered
 * (test/desktop-agent-simulator.ts), reconnecting to the surviving process when its stream breaks.
 * InboundEmail events are published on the bus: three quarters first, the rest right after the crash.
 *
 * When a third are completed, the agents stop accepting (the offers their streams show stay
 * pending) until a few offers are shown to the agents homed on the replica that holds the tenant's
 * planner lease (at most 3 s after the first, well inside the 10 s offer timeout); then that process gets
 * SIGKILL — no drain: its planner lease has to lapse, its Kafka consumers are dropped only after the
 * consumer group's session timeout (ROUTER_KAFKA_SESSION_TIMEOUT_MS, 6 s by default; the inbound partitions it owned stall until then), its streams
 * break and the desktops forget the offers those streams showed. The agents reconnect to the
 * survivor; all agents accept again once all of those are reconnected.
 *
 * Proven afterwards:
 * - every interaction completed, and held by exactly one agent in the agents' own log (accept
 *   answers, snapshots, assignment events);
 * - exactly one ASSIGNED entry in the committed history, ending COMPLETED, for a sample: every
 *   interaction whose offer was pending on the killed replica plus every k-th (about 40 in all);
 * - no agent above capacity: from its own side (held from the accept answer until it asks to
 *   complete, a sub-interval of the router's) and in the capacity slots sampled every 500 ms;
 * - exactly one OutboundRequest send id per interaction on mailroute.outbound-request.v1, the one
 *   the agent's Reply returned (a republished request would repeat its send id, which
 *   outbound-send deduplicates; the report line counts them);
 * - offers were pending on the killed replica's streams, and each came back (re-shown in the
 *   survivor's snapshot or re-offered after the timeout) and was assigned once;
 * - the survivor holds the planner lease afterwards.
 * A JSON report line gives the phases' times, the intake delay of the e-mail published after the
 * crash (the stalled partitions) and what the agents saw.
 *
 * The report's afterCrashOfferMs is the failover figure: publish → first offer of the e-mail sent after the kill.
 * ROUTER_CRASH_TEST_SESSION_TIMEOUT_MS and ROUTER_CRASH_TEST_PLANNER_LEASE_MS set the replicas' failover knobs.
 *
 * Size: ROUTER_CRASH_TEST_INTERACTIONS (default 120) and ROUTER_CRASH_TEST_AGENTS (default 12);
 * the acceptance size is 2000 / 50. ROUTER_CRASH_TEST_LOGS=<dir> keeps both processes' output; a failed run
 * keeps it anyway (in .cache/replica-crash-<run> unless that is set), and its message describes the interactions
 * that did not finish: what the agents saw of them, their committed history with each version's outbox flag, their
 * index entries and capacity slots, and the processes' log lines naming them (test/stuck-interactions.ts).
 */
const interactionCount = Number(process.env['ROUTER_CRASH_TEST_INTERACTIONS'] ?? 120);
const agentCount = Number(process.env['ROUTER_CRASH_TEST_AGENTS'] ?? 12);
const capacity = 3;
/** The replicas' failover settings, when a run compares them (ROUTER_CRASH_TEST_SESSION_TIMEOUT_MS, ROUTER_CRASH_TEST_PLANNER_LEASE_MS). */
const sessionTimeoutMs = process.env['ROUTER_CRASH_TEST_SESSION_TIMEOUT_MS'];
const plannerLeaseMs = process.env['ROUTER_CRASH_TEST_PLANNER_LEASE_MS'];
/** FerretDB v1 serializes writes (~40 per interaction's life): generous waits that grow with the size. */
const budgetMs = Math.max(180_000, interactionCount * 1_000);
const label = ['replica-a', 'replica-b'] as const;

describe('two interaction-router processes under load, one killed with SIGKILL', () => {
  const tenantId = randomId('crash');
  const database = randomId('router-crash');
  const apiKey = `mrk_${randomBytes(24).toString('base64url')}`;
  const suffix = randomBytes(3).toString('hex');
  const upns = Array.from({ length: agentCount }, (_, i) => `crash-${suffix}-${i}@${demoProfile.domain}`);
  let sandbox: GraphSandbox | undefined;
  let endpoints: GraphSandboxEndpoints;
  let kafka: DedicatedKafka | undefined;
  let bus: KafkaEventBus | undefined;
  let stores: RouterStores | undefined;
  let outbound: Subscription | undefined;
  const procs: ServiceProcess[] = [];
  const addresses: string[] = [];
  const channels: Channel[] = [];
  const tokens: string[] = [];
  /** interaction → send ids seen on mailroute.outbound-request.v1 (one entry per event). */
  const requests = new Map<string, string[]>();
  /** Stops the test's own background work (agents, samplers) when the test ends early. */
  const stopWork: (() => void)[] = [];
  /** Where setup time goes (ms since its start, per phase end), for the report line. */
  const setupMs: Record<string, number> = {};

  const envFor = (replica: number, brokers: string): Record<string, string> => ({
    GRPC_PORT: (addresses[replica] ?? '').split(':')[1] ?? '0',
    LOG_LEVEL: 'info',
    NODE_EXTRA_CA_CERTS: endpoints.caCertPath,
    ROUTER_MONGODB_URL: testInfra().mongoUrl,
    ROUTER_MONGODB_DATABASE: database,
    ROUTER_KAFKA_BROKERS: brokers,
    ROUTER_REPLICA_ID: `${label[replica] ?? 'replica'}-${suffix}`,
    ROUTER_API_KEYS: `wm:${tenantId}:routing.read+routing.write:${hashBearerCredential(apiKey)}`,
    ROUTER_AGENT_DIRECTORIES: `${tenantId}:${demoProfile.tenantId}`,
    ROUTER_AGENT_AUDIENCE: demoProfile.desktopClientId,
    ROUTER_AGENT_AUTHORITY: endpoints.baseUrl,
    ROUTER_METRICS_PORT: '0',
    // Failover knobs (ROUTER_KAFKA_SESSION_TIMEOUT_MS, ROUTER_PLANNER_LEASE_MS): the router's defaults unless the run names them.
    ...(sessionTimeoutMs ? { ROUTER_KAFKA_SESSION_TIMEOUT_MS: sessionTimeoutMs } : {}),
    ...(plannerLeaseMs ? { ROUTER_PLANNER_LEASE_MS: plannerLeaseMs } : {}),
  });

  const processOutput = (proc: ServiceProcess | undefined) => proc?.output.slice(-30).join('\n') ?? '';
  const processLogs = () => procs.map((proc, replica) => ({ label: label[replica] ?? 'replica', output: proc.output }));
  /** Where the processes' output is kept: ROUTER_CRASH_TEST_LOGS, else (on a failure) under .cache. */
  const logDir = process.env['ROUTER_CRASH_TEST_LOGS'] ?? path.join(workspaceRoot, '.cache', `replica-crash-${suffix}`);
  let logsKept = false;

  beforeAll(async () => {
    const setupStarted = Date.now();
    const phase = (name: string) => (setupMs[name] = Date.now() - setupStarted);
    const kafkaStarting = startDedicatedKafka();
    ({ sandbox, endpoints } = await startTestGraphSandbox({ profile: 'demo', deviceCodeIntervalSeconds: 1 }));
    // The demo tenant has two agent accounts; the other agents are added as its users.
    for (const upn of upns)
      await endpoints.admin.createMailbox(demoProfile.tenantId, { userPrincipalName: upn, displayName: upn.split('@')[0] });
    for (let i = 0; i < upns.length; i += 10) {
      const batch = await Promise.all(
        upns
          .slice(i, i + 10)
          .map((upn) => signInWithDeviceCode(endpoints, endpoints.admin, demoProfile.tenantId, demoProfile.desktopClientId, upn)),
      );
      tokens.push(...batch);
    }
    phase('signedIn');
    kafka = await kafkaStarting;
    phase('kafka');
    bus = new KafkaEventBus({ brokers: [kafka.brokers], clientId: 'router-crash-test' });
    await bus.ensureTopics([
      { topic: events.inboundEmail.topic, partitions: 8 },
      { topic: events.interactionStateChanged.topic, partitions: 8 },
      { topic: events.outboundRequest.topic, partitions: 8 },
      { topic: events.outboundResult.topic, partitions: 8 },
    ]);
    outbound = await bus.subscribe({
      groupId: randomId('outbound-watch'),
      topics: [events.outboundRequest.topic],
      fromBeginning: true,
      handler: async (message) => {
        const request = fromEventMessage('outboundRequest', message);
        if (request.tenantId === tenantId)
          requests.set(request.interactionId, [...(requests.get(request.interactionId) ?? []), request.sendId]);
      },
    });
    // The test's own view of the store; opening it first also creates the indexes before two processes would race to.
    stores = await openMongoRouterStores(testInfra().mongoUrl, database);
    for (let replica = 0; replica < 2; replica += 1) addresses.push(`127.0.0.1:${await freePort()}`);
    for (let replica = 0; replica < 2; replica += 1)
      procs.push(startServiceProcess('apps/interaction-router/src/main.ts', envFor(replica, kafka.brokers)));
    for (const [replica, address] of addresses.entries()) {
      await waitForServing(address, { timeoutMs: 120_000 }).catch((error: unknown) => {
        throw new Error(`${label[replica]} did not become SERVING: ${String(error)}\n${processOutput(procs[replica])}`, {
          cause: error,
        });
      });
    }
    phase('serving');
    // Both processes own partitions of the shared groups and their own desktop-event groups are
    // assigned (a stream's offers come through its replica's group, which starts at the latest offset).
    const admin = new Kafka({
      brokers: [kafka.brokers],
      clientId: 'router-crash-test-admin',
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const replicaIds = [0, 1].map((replica) => envFor(replica, '').ROUTER_REPLICA_ID);
      const groups = {
        'interaction-router': 2,
        'interaction-router-send-results': 2,
        ...Object.fromEntries(replicaIds.map((id) => [`interaction-router-desktop-${id}`, 1])),
      } as Record<string, number>;
      await waitFor(
        async () => {
          const described = await admin.describeGroups(Object.keys(groups));
          return described.groups.every((group) => group.state === 'Stable' && group.members.length === groups[group.groupId]);
        },
        { timeoutMs: 120_000, intervalMs: 500, description: 'both processes in their consumer groups' },
      );
    } finally {
      await admin.disconnect();
    }
    phase('consuming');
  }, 300_000);

  afterAll(async () => {
    stopWork.forEach((stop) => stop());
    if (process.env['ROUTER_CRASH_TEST_LOGS'] && !logsKept) keepProcessLogs(logDir, processLogs());
    channels.forEach((channel) => channel.close());
    await Promise.all(procs.map((proc) => proc.stop('SIGKILL')));
    await outbound?.close().catch(() => undefined);
    await bus?.close().catch(() => undefined);
    await stores?.close().catch(() => undefined);
    await kafka?.dispose();
    await sandbox?.stop();
    const client = await MongoClient.connect(testInfra().mongoUrl);
    await client
      .db(database)
      .dropDatabase()
      .catch(() => undefined);
    await client.close();
  }, 120_000);

  it(
    `assigns each of ${interactionCount} interactions exactly once to ${agentCount} agents within capacity while a replica is SIGKILLed mid-run, and every one gets one outbound request`,
    async () => {
      if (!stores || !bus) throw new Error('setup failed');
      const store = stores;
      const channelTo = (replica: number) => {
        const channel = createChannel(addresses[replica] ?? '');
        channels.push(channel);
        return channel;
      };
      const adminChannel = channelTo(0);
      const admin = createClient(InteractionRouterServiceDefinition, adminChannel, {
        '*': { metadata: Metadata({ authorization: `Bearer ${apiKey}` }) },
      });
      await admin.createQueue({
        queueId: 'general',
        queue: {
          displayName: 'General',
          strategy: QueueStrategy.QUEUE_STRATEGY_LONGEST_IDLE,
          offerTimeout: { seconds: 10, nanos: 0 },
        },
      });
      const agentIds = upns.map((_, i) => `agent-${i}`);
      for (const [i, upn] of upns.entries()) {
        await admin.createAgent({
          agentId: agentIds[i] ?? '',
          agent: { displayName: `Agent ${i}`, userPrincipalName: upn, queueIds: ['general'], capacity },
        });
      }

      // Each agent has a home replica; once it is dead, the (surviving) other one, as a load balancer would.
      /** The killed replica (-1 before the kill); while `holding`, every agent holds its offers back. */
      let victim = -1;
      let holding = false;
      const desktops = tokens.map((token) =>
        [0, 1].map((replica) =>
          createClient(AgentDesktopServiceDefinition, channelTo(replica), {
            '*': { metadata: Metadata({ authorization: `Bearer ${token}` }) },
          }),
        ),
      );
      const replicaFor = (home: number) => (home === victim ? 1 - home : home);
      const ledger = new DesktopLedger();
      const stopAgents = new AbortController();
      stopWork.push(() => stopAgents.abort());
      const agents = agentIds.map((agentId, i) =>
        runSimulatedAgent({
          agentId,
          capacity,
          ledger,
          signal: stopAgents.signal,
          client: () => desktops[i]?.[replicaFor(i % 2)] as AgentDesktopServiceClient,
          replicaLabel: () => label[replicaFor(i % 2)] ?? '',
          holdOffers: () => holding,
        }),
      );

      // Capacity from the router's side: the capacity slots of every agent, sampled.
      let maxSlots = 0;
      let slotSamples = 0;
      const slotWatch = setInterval(() => {
        void store.slots
          .list({ prefix: `${tenantId}/`, limit: 100_000 })
          .then((slots) => {
            const perAgent = new Map<string, number>();
            for (const slot of slots) {
              const agent = slot.key.split('/')[1] ?? '';
              perAgent.set(agent, (perAgent.get(agent) ?? 0) + 1);
            }
            maxSlots = Math.max(maxSlots, ...perAgent.values(), 0);
            slotSamples += 1;
          })
          .catch(() => undefined);
      }, 500);
      stopWork.push(() => clearInterval(slotWatch));

      const ids = Array.from({ length: interactionCount }, (_, i) => `ix-${suffix}-${String(i).padStart(5, '0')}`);
      const publishedAt = new Map<string, number>();
      const publish = async (batch: string[]) => {
        for (let i = 0; i < batch.length; i += 100) {
          const slice = batch.slice(i, i + 100);
          const messages = slice.map((interactionId, j) => {
            const mailboxId = `mb-${(i + j) % 16}`;
            const event = InboundEmail.fromPartial({
              eventId: randomUUID(),
              tenantId,
              occurredAt: new Date(),
              interactionId,
              mailboxId,
              mailboxAddress: `${mailboxId}@contoso.test`,
              defaultQueueId: 'general',
              message: InboundMessage.fromPartial({
                subject: `Question ${interactionId}`,
                conversationId: `conv-${interactionId}`,
                graphMessageId: `g-${interactionId}`,
                internetMessageId: `<${interactionId}@customer.example>`,
              }),
            });
            return toEventMessage('inboundEmail', eventKey(tenantId, mailboxId), event);
          });
          for (const id of slice) publishedAt.set(id, Date.now());
          await bus?.publish(events.inboundEmail.topic, messages);
        }
      };
      const beforeCrash = ids.slice(0, Math.ceil(interactionCount * 0.75));
      const afterCrash = ids.slice(beforeCrash.length);

      const started = Date.now();
      /** The failure of a wait: progress, the interactions not completed (described from both sides), the processes' warnings and last lines. */
      const progress = async (error: unknown, survivor?: number) => {
        const stuck = ids.filter((id) => publishedAt.has(id) && !ledger.completed.has(id));
        const mongo = await MongoClient.connect(testInfra().mongoUrl);
        const described = await describeStuckInteractions({
          tenantId,
          ids: stuck,
          stores: store,
          db: mongo.db(database),
          ledger,
          logs: processLogs(),
          t0: started,
        })
          .catch((failure: unknown) => `(not described: ${String(failure)})`)
          .finally(() => mongo.close());
        const files = keepProcessLogs(logDir, processLogs());
        logsKept = true;
        return new Error(
          `${String(error)}: ${ledger.completed.size}/${interactionCount} completed, ${ledger.failures.length} failed calls ${JSON.stringify(ledger.failures.slice(0, 3))}` +
            `\n--- not completed (${stuck.length}; times in ms since the first publish, kill at ${killedAt === undefined ? '-' : killedAt - started}) ---\n${described}` +
            [0, 1]
              .filter((replica) => survivor === undefined || replica === survivor)
              .map(
                (replica) =>
                  `\n--- ${label[replica]} warnings ---\n${warningsOf(procs[replica]?.output ?? []).join('\n')}` +
                  `\n--- ${label[replica]} output ---\n${processOutput(procs[replica])}`,
              )
              .join('') +
            `\nfull output: ${files.join(', ')}`,
          { cause: error },
        );
      };
      let killedAt: number | undefined;
      await publish(beforeCrash);
      await waitFor(() => ledger.completed.size >= interactionCount / 3, {
        timeoutMs: budgetMs,
        intervalMs: 250,
        description: 'a third completed before the crash',
      }).catch(async (error: unknown) => {
        throw await progress(error);
      });

      // The victim: the replica holding the tenant's planner lease (so the lease has to lapse).
      const mongo = await MongoClient.connect(testInfra().mongoUrl);
      const plannerOwner = async (): Promise<string | undefined> => {
        const head = await mongo
          .db(database)
          .collection<{ owner: string; released?: boolean; expiresAt: Date }>('leases')
          .find({ key: `interaction-router/planner/${tenantId}` })
          .sort({ epoch: -1 })
          .limit(1)
          .next();
        return head && !head.released && head.expiresAt.getTime() > Date.now() ? head.owner : undefined;
      };
      let plannerBefore: string | undefined;
      try {
        plannerBefore = await plannerOwner();
        const victimIndex = [0, 1].find((replica) => envFor(replica, '').ROUTER_REPLICA_ID === plannerBefore) ?? 1;
        const victimAgents = agentIds.filter((_, i) => i % 2 === victimIndex);

        // The agents stop accepting until the victim's streams have shown offers: those are pending on the
        // victim's streams when it dies (killed once a few are shown, well within the 10 s offer timeout).
        // All agents hold back, not only the victim's: the router fills the others' free capacity with
        // offers too, and then has to offer to the victim's agents even when it prefers the others.
        const perHome = (map: Map<string, number>, home: number) =>
          agentIds.filter((_, i) => i % 2 === home).reduce((sum, agentId) => sum + (map.get(agentId) ?? 0), 0);
        const beforeHold = {
          offersShown: [0, 1].map((home) => perHome(ledger.offersPerAgent, home)),
          snapshots: [0, 1].map((home) => perHome(ledger.snapshots, home)),
        };
        holding = true;
        const heldBack = () => [...ledger.heldBack.values()].filter((offer) => offer.replica === label[victimIndex]).length;
        let firstShownAt: number | undefined;
        await waitFor(
          () => {
            if (heldBack() > 0) firstShownAt ??= Date.now();
            return (
              heldBack() >= Math.min(victimAgents.length, 6) || (firstShownAt !== undefined && Date.now() - firstShownAt > 3_000)
            );
          },
          { timeoutMs: 60_000, intervalMs: 100, description: 'offers shown on the victim replica' },
        ).catch(() => undefined);
        const pendingAtKill = (await store.offers.list({ prefix: `${tenantId}/`, limit: 100_000 })).filter((offer) =>
          victimAgents.includes(offer.document.agentId),
        );
        const heldBackAtKill = heldBack();
        const connectsBefore = new Map(victimAgents.map((agentId) => [agentId, ledger.connects.get(agentId) ?? 0]));
        const completedAtKill = ledger.completed.size;
        // Interactions each agent held before the crash, agents in the order their streams came up.
        const heldBeforeKill = new Map<string, number>();
        for (const entries of ledger.holders.values())
          for (const agentId of new Set(entries.map((entry) => entry.agentId)))
            heldBeforeKill.set(agentId, (heldBeforeKill.get(agentId) ?? 0) + 1);
        const byConnectOrder = [...agentIds]
          .sort((a, b) => (ledger.firstSnapshotAt.get(a) ?? 0) - (ledger.firstSnapshotAt.get(b) ?? 0))
          .map((agentId) => `${label[agentIds.indexOf(agentId) % 2]?.slice(-1) ?? ''}${heldBeforeKill.get(agentId) ?? 0}`);

        victim = victimIndex;
        killedAt = Date.now();
        const exit = await procs[victimIndex]?.stop('SIGKILL');
        // The desktops notice the broken streams and reconnect to the survivor; only then do they accept again (their held-back offers are gone with the streams).
        await waitFor(
          () => victimAgents.every((agentId) => (ledger.connects.get(agentId) ?? 0) > (connectsBefore.get(agentId) ?? 0)),
          { timeoutMs: 60_000, intervalMs: 100, description: 'agents of the killed replica reconnected' },
        );
        holding = false;
        await publish(afterCrash);

        await waitFor(() => ledger.completed.size === interactionCount, {
          timeoutMs: budgetMs * 2,
          intervalMs: 500,
          description: 'all completed after the crash',
        }).catch(async (error: unknown) => {
          throw await progress(error, 1 - victimIndex);
        });
        const elapsed = Date.now() - started;
        stopAgents.abort();
        clearInterval(slotWatch);
        await Promise.allSettled(agents);

        const lostOnVictim = ledger.lostOffers.filter((offer) => offer.replica === label[victimIndex]);
        const cameBack = [
          ...new Set([
            ...pendingAtKill.map((offer) => offer.key.slice(tenantId.length + 1)),
            ...lostOnVictim.map((offer) => offer.interactionId),
          ]),
        ];
        await waitFor(() => ids.every((id) => requests.has(id)), {
          timeoutMs: 60_000,
          intervalMs: 500,
          description: 'an OutboundRequest for every interaction',
        }).catch(() => undefined);

        // The committed history: exactly one assignment and a completion, for the came-back offers and every k-th interaction.
        const step = Math.max(1, Math.floor(interactionCount / 40));
        const sample = [...new Set([...cameBack, ...ids.filter((_, i) => i % step === 0)])];
        const histories: { interactionId: string; assignments: number; last: number | undefined }[] = [];
        for (let i = 0; i < sample.length; i += 10) {
          histories.push(
            ...(await Promise.all(
              sample.slice(i, i + 10).map(async (interactionId) => {
                const states: number[] = [];
                for (let version = 1; ; version += 1) {
                  const entry = await store.interactions.historyEntry(tenantId, interactionId, version);
                  if (!entry) break;
                  states.push(entry.state);
                }
                return {
                  interactionId,
                  assignments: states.filter((state) => state === InteractionState.INTERACTION_STATE_ASSIGNED).length,
                  last: states[states.length - 1],
                };
              }),
            )),
          );
        }

        // Intake of the e-mail published after the crash: the partitions the victim owned wait for the broker's session timeout.
        const intakeMs: number[] = [];
        for (let i = 0; i < afterCrash.length; i += 20) {
          const received = await Promise.all(
            afterCrash
              .slice(i, i + 20)
              .map(
                async (id) =>
                  ((await store.interactions.historyEntry(tenantId, id, 1))?.occurredAt ?? NaN) - (publishedAt.get(id) ?? NaN),
              ),
          );
          intakeMs.push(...received);
        }
        intakeMs.sort((a, b) => a - b);
        // Failover as a desktop sees it: publish of an e-mail sent after the kill → its first offer (the committed OFFERED version).
        const offerMs: number[] = [];
        for (let i = 0; i < afterCrash.length; i += 20) {
          const offered = await Promise.all(
            afterCrash.slice(i, i + 20).map(async (id) => {
              const entries = await store.interactions.history(tenantId, id, 0, 20);
              const offer = entries.find((entry) => entry.state === InteractionState.INTERACTION_STATE_OFFERED);
              return (offer?.occurredAt ?? NaN) - (publishedAt.get(id) ?? NaN);
            }),
          );
          offerMs.push(...offered);
        }
        offerMs.sort((a, b) => a - b);
        process.stdout.write(
          `${JSON.stringify({
            test: 'replica-crash',
            interactions: interactionCount,
            agents: agentCount,
            setupMs,
            elapsedMs: elapsed,
            killedAfterMs: killedAt - started,
            completedAtKill,
            victim: label[victimIndex],
            victimWasPlanner: plannerBefore === envFor(victimIndex, '').ROUTER_REPLICA_ID,
            beforeHold,
            heldBeforeKillByConnectOrder: byConnectOrder.join(' '),
            offersHeldBackAtKill: heldBackAtKill,
            pendingOffersAtKill: pendingAtKill.length,
            offersLostWithStreams: lostOnVictim.length,
            lostOffersReshownOnSurvivor: lostOnVictim.filter((offer) => ledger.accepted.has(offer.offerId)).length,
            republishedRequests: ids.filter((id) => (requests.get(id)?.length ?? 0) > 1).length,
            peakHeld: Math.max(...ledger.peakHeld.values()),
            maxSlots,
            slotSamples,
            reconnects: [...ledger.connects.values()].reduce((a, b) => a + b, 0) - agentCount,
            refusedAccepts: Object.fromEntries(ledger.refusedAccepts),
            failedCalls: ledger.failures.slice(0, 5),
            afterCrashIntakeMs: { p50: intakeMs[Math.floor(intakeMs.length / 2)], max: intakeMs[intakeMs.length - 1] },
            afterCrashOfferMs: { p50: offerMs[Math.floor(offerMs.length / 2)], max: offerMs[offerMs.length - 1] },
            failover: { sessionTimeoutMs: sessionTimeoutMs ?? 'default', plannerLeaseMs: plannerLeaseMs ?? 'default' },
          })}\n`,
        );

        expect(exit).toEqual({ code: null, signal: 'SIGKILL' });
        // Every interaction completed and held by exactly one agent, as the agents saw it.
        expect(ids.filter((id) => !ledger.completed.has(id))).toEqual([]);
        expect(
          ids.filter((id) => ledger.holdersOf(id).length !== 1).map((id) => ({ id, holders: ledger.holders.get(id) })),
        ).toEqual([]);
        // ... and exactly one assignment in the committed history.
        expect(histories.filter((h) => h.assignments !== 1 || h.last !== InteractionState.INTERACTION_STATE_COMPLETED)).toEqual(
          [],
        );
        // Capacity: from the agents' side and in the router's slots.
        expect(ledger.overCapacity).toEqual([]);
        expect(Math.max(...ledger.peakHeld.values())).toBeLessThanOrEqual(capacity);
        expect(slotSamples).toBeGreaterThan(0);
        expect(maxSlots).toBeLessThanOrEqual(capacity);
        // One OutboundRequest per interaction: a single send id, the one the agent's Reply returned.
        expect(
          ids
            .map((id) => ({ id, sendIds: [...new Set(requests.get(id) ?? [])], replied: ledger.replied.get(id) }))
            .filter((entry) => entry.sendIds.length !== 1 || entry.sendIds[0] !== entry.replied),
        ).toEqual([]);
        // Offers were pending on the killed replica's streams, and they came back (re-shown on the survivor or re-offered) and were assigned once.
        expect(lostOnVictim.length).toBeGreaterThan(0);
        expect(cameBack.filter((id) => !ledger.completed.has(id) || ledger.holdersOf(id).length !== 1)).toEqual([]);
        // The survivor plans the tenant now (the victim's lease lapsed: nobody released it).
        const survivorId = envFor(1 - victimIndex, '').ROUTER_REPLICA_ID;
        await waitFor(async () => (await plannerOwner()) === survivorId, {
          timeoutMs: 30_000,
          intervalMs: 500,
          description: 'the survivor holds the planner lease',
        });
      } finally {
        stopAgents.abort();
        clearInterval(slotWatch);
        await mongo.close();
      }
    },
    budgetMs * 4 + 120_000,
  );
});
