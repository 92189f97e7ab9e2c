import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { ClientError, Metadata, Status, createChannel, createClient, type Channel } from 'nice-grpc';
import {
  AgentDesktopServiceDefinition,
  AgentPresence,
  AuthBrokerServiceDefinition,
  AuthorityCloud,
  InteractionOrder,
  InteractionRouterServiceDefinition,
  InteractionState,
  MailboxFetchServiceDefinition,
  OutgoingMessage,
  QueueStrategy,
  ReplyMode,
  type Interaction,
} from '@mailroute/contracts';
import { demoProfile, type GraphSandbox, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { createGrpcClient, hashBearerCredential } from '@mailroute/platform';
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
  type DedicatedKafka,
  type ServiceProcess,
} from '@mailroute/testing';

/**
 * Rolling upgrade, as Kubernetes does it with maxUnavailable 1: the four services run as real
 * processes (their main.ts) on fixed addresses (a Service's ClusterIP), and while e-mail arrives in
 * waves and two agents accept and reply to every one, each service in turn is sent SIGTERM, must
 * drain and exit 0, and is replaced by a new process with the same configuration and a new replica
 * id, which must answer grpc.health.v1 SERVING before the next one is replaced. In the end every
 * delivered e-mail is exactly one interaction and got exactly one reply in its thread.
 *
 * Real: the graph sandbox over HTTPS (Entra ID + Graph; agent sign-in by device code), FerretDB
 * (a random database per service), and a Kafka broker of this test's own (the router's consumer
 * group id is fixed, so a shared broker would hand this test's events to other suites' routers).
 * Size: ROLLING_UPGRADE_TEST_EMAILS (default 40), delivered in 5 waves.
 */
const emailCount = Number(process.env['ROLLING_UPGRADE_TEST_EMAILS'] ?? 40);
const waves = 5;
const order = ['auth-broker', 'mailbox-fetch', 'interaction-router', 'outbound-send'] as const;
type ServiceName = (typeof order)[number];

const routed = demoProfile.routedMailboxes;
const agents = [
  { id: 'alice', upn: 'alice@contoso-demo.example' },
  { id: 'bob', upn: 'bob@contoso-demo.example' },
];
/** Codes a client retries on: the server is away (restarting) or cut the call while going away. */
const transient = new Set([Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.CANCELLED, Status.ABORTED, Status.UNKNOWN, Status.INTERNAL]);
const isTransient = (error: unknown): boolean => (error instanceof ClientError ? transient.has(error.code) : (error as Error)?.name === 'AbortError');

interface Delivered {
  subject: string;
  mailbox: string;
  internetMessageId: string;
  conversationId: string;
  wave: number;
  deliveredAt: number;
}

interface Replacement {
  service: ServiceName;
  drainMs: number;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  shutdownSteps: string[];
  failedSteps: string[];
  readyMs: number;
}

describe('rolling upgrade of all four services while e-mail flows', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;
  let kafka: DedicatedKafka | undefined;
  const running = new Map<ServiceName, ServiceProcess>();
  const retired: ServiceProcess[] = [];
  const generation = new Map<ServiceName, number>();
  const replicaOf = new Map<ServiceProcess, string>();
  const envOf = new Map<ServiceName, (replicaId: string) => Record<string, string>>();
  const address = new Map<ServiceName, string>();
  const tenantId = randomId('rolling');
  const apiKey = `mrk_${randomBytes(24).toString('base64url')}`;
  const databases = { authBroker: randomId('rolling-ab'), mailboxes: randomId('rolling-mb'), router: randomId('rolling-ir') };
  const agentsStop = new AbortController();
  const metadata = () => Metadata({ authorization: `Bearer ${apiKey}` });

  function start(service: ServiceName): ServiceProcess {
    const next = (generation.get(service) ?? 0) + 1;
    generation.set(service, next);
    const env = envOf.get(service);
    if (!env) throw new Error(`no environment for ${service}`);
    const proc = startServiceProcess(`apps/${service}/src/main.ts`, env(`${service}-r${next}`));
    replicaOf.set(proc, `${service}-r${next}`);
    running.set(service, proc);
    return proc;
  }

  beforeAll(async () => {
    const kafkaStarting = startDedicatedKafka();
    ({ sandbox, endpoints } = await startTestGraphSandbox({ profile: 'demo', deviceCodeIntervalSeconds: 1 }));
    const { mongoUrl } = testInfra();
    const hash = hashBearerCredential(apiKey);
    const fetchToken = `mrs_${randomBytes(16).toString('hex')}`;
    const sendToken = `mrs_${randomBytes(16).toString('hex')}`;
    const encryptionKey = `k1:${randomBytes(32).toString('base64')}`;
    for (const service of order) address.set(service, `127.0.0.1:${await freePort()}`);
    const port = (service: ServiceName) => (address.get(service) ?? '').split(':')[1] ?? '0';
    const common = (service: ServiceName) => ({ GRPC_PORT: port(service), LOG_LEVEL: 'info', NODE_EXTRA_CA_CERTS: endpoints.caCertPath });
    kafka = await kafkaStarting;
    const brokers = kafka.brokers;

    envOf.set('auth-broker', () => ({
      ...common('auth-broker'),
      AUTH_BROKER_STORE: 'mongodb',
      AUTH_BROKER_MONGODB_URL: mongoUrl,
      AUTH_BROKER_MONGODB_DATABASE: databases.authBroker,
      AUTH_BROKER_ENCRYPTION_KEYS: encryptionKey,
      AUTH_BROKER_API_KEYS: `wm:${tenantId}:credentials.read+credentials.write:${hash}`,
      AUTH_BROKER_SERVICE_TOKENS: `mailbox-fetch:${hashBearerCredential(fetchToken)},outbound-send:${hashBearerCredential(sendToken)}`,
      AUTH_BROKER_METRICS_PORT: '0',
    }));
    envOf.set('mailbox-fetch', (replicaId) => ({
      ...common('mailbox-fetch'),
      MAILBOX_FETCH_STORE: 'mongodb',
      MAILBOX_FETCH_MONGODB_URL: mongoUrl,
      MAILBOX_FETCH_MONGODB_DATABASE: databases.mailboxes,
      MAILBOX_FETCH_KAFKA_BROKERS: brokers,
      MAILBOX_FETCH_AUTH_BROKER_ADDRESS: address.get('auth-broker') ?? '',
      MAILBOX_FETCH_AUTH_BROKER_TOKEN: fetchToken,
      MAILBOX_FETCH_API_KEYS: `wm:${tenantId}:mailboxes.read+mailboxes.write:${hash}`,
      MAILBOX_FETCH_METRICS_PORT: '0',
      MAILBOX_FETCH_SCAN_INTERVAL_MS: '500',
      MAILBOX_FETCH_POLL_INTERVAL_CAP_MS: '1000',
      MAILBOX_FETCH_REPLICA_ID: replicaId,
    }));
    envOf.set('interaction-router', (replicaId) => ({
      ...common('interaction-router'),
      ROUTER_MONGODB_URL: mongoUrl,
      ROUTER_MONGODB_DATABASE: databases.router,
      ROUTER_KAFKA_BROKERS: brokers,
      ROUTER_REPLICA_ID: replicaId,
      ROUTER_API_KEYS: `wm:${tenantId}:routing.read+routing.write:${hash}`,
      ROUTER_AGENT_DIRECTORIES: `${tenantId}:${demoProfile.tenantId}`,
      ROUTER_AGENT_AUDIENCE: demoProfile.desktopClientId,
      ROUTER_AGENT_AUTHORITY: endpoints.baseUrl,
    }));
    envOf.set('outbound-send', (replicaId) => ({
      ...common('outbound-send'),
      OUTBOUND_SEND_STORE: 'mongodb',
      OUTBOUND_SEND_MONGODB_URL: mongoUrl,
      // Mailbox configurations are read from mailbox-fetch's table in the same database.
      OUTBOUND_SEND_MONGODB_DATABASE: databases.mailboxes,
      OUTBOUND_SEND_KAFKA_BROKERS: brokers,
      OUTBOUND_SEND_AUTH_BROKER_ADDRESS: address.get('auth-broker') ?? '',
      OUTBOUND_SEND_AUTH_BROKER_TOKEN: sendToken,
      OUTBOUND_SEND_METRICS_PORT: '0',
      OUTBOUND_SEND_REPLICA_ID: replicaId,
    }));

    for (const service of order) start(service);
    await Promise.all(order.map((service) => waitForServing(address.get(service) ?? '', { timeoutMs: 120_000 }).catch((error: unknown) => fail(service, error))));

    // The tenant, as a workload manager registers it through the public APIs.
    const auth = createGrpcClient(AuthBrokerServiceDefinition, address.get('auth-broker') ?? '', { deadlineMs: 30_000 });
    const fetchApi = createGrpcClient(MailboxFetchServiceDefinition, address.get('mailbox-fetch') ?? '', { deadlineMs: 30_000 });
    const router = createGrpcClient(InteractionRouterServiceDefinition, address.get('interaction-router') ?? '', { deadlineMs: 30_000 });
    try {
      await auth.client.createTenantCredentials(
        {
          credentialsId: 'default',
          spec: {
            displayName: 'Contoso (rolling upgrade)',
            directoryId: demoProfile.tenantId,
            clientId: demoProfile.clientId,
            cloud: AuthorityCloud.AUTHORITY_CLOUD_CUSTOM,
            authorityHost: endpoints.baseUrl,
            graphEndpoint: endpoints.baseUrl,
            credential: { $case: 'clientSecret', value: { value: demoProfile.clientSecret, expiresAt: new Date(Date.now() + 90 * 86_400_000) } },
          },
        },
        { metadata: metadata() },
      );
      await router.client.createQueue({ queueId: 'support', queue: { displayName: 'Support', strategy: QueueStrategy.QUEUE_STRATEGY_LONGEST_IDLE } }, { metadata: metadata() });
      for (const agent of agents) {
        await router.client.createAgent({ agentId: agent.id, agent: { displayName: agent.id, userPrincipalName: agent.upn, queueIds: ['support'], capacity: 5 } }, { metadata: metadata() });
      }
      for (const mailbox of routed) {
        await fetchApi.client.createMailbox({ mailboxId: mailbox.split('@')[0] ?? '', mailbox: { address: mailbox, credentialsId: 'default', defaultQueueId: 'support' } }, { metadata: metadata() });
      }
    } finally {
      auth.close();
      fetchApi.close();
      router.close();
    }
  }, 240_000);

  afterAll(async () => {
    agentsStop.abort();
    // ROLLING_UPGRADE_TEST_LOGS=<dir>: every process's output, one file per replica, for diagnosis.
    const logDir = process.env['ROLLING_UPGRADE_TEST_LOGS'];
    if (logDir) {
      mkdirSync(logDir, { recursive: true });
      for (const proc of [...retired, ...running.values()]) writeFileSync(path.join(logDir, `${replicaOf.get(proc) ?? 'unknown'}.log`), `${proc.output.join('\n')}\n`);
    }
    await Promise.all([...running.values(), ...retired].map((proc) => proc.stop('SIGKILL')));
    await sandbox?.stop();
    await kafka?.dispose();
    const client = await MongoClient.connect(testInfra().mongoUrl);
    for (const database of Object.values(databases)) await client.db(database).dropDatabase().catch(() => undefined);
    await client.close();
  }, 120_000);

  function fail(service: ServiceName, error: unknown): never {
    throw new Error(`${service}: ${String(error)}\n--- ${service} output (last 30 lines) ---\n${running.get(service)?.output.slice(-30).join('\n') ?? ''}`, { cause: error });
  }

  /** SIGTERM the running process, require a clean drain (exit 0), start its replacement and wait for SERVING. */
  async function replace(service: ServiceName): Promise<Replacement> {
    const old = running.get(service);
    if (!old) throw new Error(`${service} is not running`);
    retired.push(old);
    const stopping = performance.now();
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, 90_000, 'timeout').unref());
    const exit = await Promise.race([old.stop('SIGTERM'), timeout]);
    if (exit === 'timeout') {
      await old.stop('SIGKILL');
      throw new Error(`${service} did not exit within 90 s of SIGTERM\n${old.output.slice(-30).join('\n')}`);
    }
    const drainMs = Math.round(performance.now() - stopping);
    const logged = old.output.flatMap((line) => {
      try {
        return [JSON.parse(line) as { msg?: string; step?: string; ok?: boolean }];
      } catch {
        return [];
      }
    });
    const failedSteps = logged.filter((entry) => entry.msg === 'shutdown: step failed').map((entry) => entry.step ?? '');
    const completed = logged.some((entry) => entry.msg === 'shutdown: complete' && entry.ok === true);
    // Stop here, with the old process's log, rather than let a bad drain surface later as missing mail.
    if (exit.code !== 0 || exit.signal !== null || failedSteps.length > 0 || !completed) {
      throw new Error(`${service} did not drain cleanly: exit ${JSON.stringify(exit)}, failed steps ${JSON.stringify(failedSteps)}\n${old.output.slice(-30).join('\n')}`);
    }
    const starting = performance.now();
    start(service);
    await waitForServing(address.get(service) ?? '', { timeoutMs: 120_000 }).catch((error: unknown) => fail(service, error));
    return {
      service,
      drainMs,
      exit,
      shutdownSteps: logged.filter((entry) => entry.msg === 'shutdown: step done').map((entry) => entry.step ?? ''),
      failedSteps,
      readyMs: Math.round(performance.now() - starting),
    };
  }

  /**
   * A desktop agent through restarts of the router: one stream, reconnected whenever it ends (the
   * router tells streams to reconnect when it drains); accepts every offer (and what the snapshot
   * shows as pending or already assigned), replies once to this test's e-mail (same idempotency
   * key on every retry, complete after send) and completes anything else (the demo tenant's seeded mail).
   */
  function runAgent(upn: string, tag: string, stats: { replies: Map<string, number>; reconnects: number; errors: string[] }): Promise<void> {
    return (async () => {
      const token = await signInWithDeviceCode(endpoints, endpoints.admin, demoProfile.tenantId, demoProfile.desktopClientId, upn);
      const channel: Channel = createChannel(address.get('interaction-router') ?? '');
      const desktop = createClient(AgentDesktopServiceDefinition, channel, { '*': { metadata: Metadata({ authorization: `Bearer ${token}` }) } });
      const handled = new Set<string>();
      const retrying = async <T>(call: () => Promise<T>): Promise<T> => {
        for (;;) {
          try {
            return await call();
          } catch (error) {
            if (agentsStop.signal.aborted || !isTransient(error)) throw error;
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
      };
      const work = (interaction: Interaction): void => {
        if (handled.has(interaction.interactionId)) return;
        handled.add(interaction.interactionId);
        void (async () => {
          if (interaction.subject.includes(tag)) {
            await retrying(() =>
              desktop.reply(
                {
                  idempotencyKey: `rolling-${interaction.interactionId}`,
                  interactionId: interaction.interactionId,
                  replyToGraphMessageId: '',
                  mode: ReplyMode.REPLY_MODE_REPLY,
                  content: OutgoingMessage.fromPartial({ bodyHtml: `<p>Answer to ${interaction.subject}</p>` }),
                  completeAfterSend: true,
                },
                { signal: AbortSignal.timeout(15_000) },
              ),
            );
            stats.replies.set(interaction.interactionId, (stats.replies.get(interaction.interactionId) ?? 0) + 1);
          } else {
            await retrying(() => desktop.complete({ interactionId: interaction.interactionId, dispositionCode: '', note: 'rolling upgrade: not ours' }, { signal: AbortSignal.timeout(15_000) }));
          }
        })().catch((error: unknown) => {
          if (!agentsStop.signal.aborted) stats.errors.push(`${upn} ${interaction.interactionId}: ${String(error)}`);
        });
      };
      const accept = (offerId: string): void => {
        void retrying(() => desktop.accept({ offerId }, { signal: AbortSignal.timeout(15_000) }))
          .then(({ interaction }) => interaction && work(interaction))
          // A lapsed or revoked offer is offered again (or shows up as assigned in the next snapshot).
          .catch(() => undefined);
      };
      try {
        while (!agentsStop.signal.aborted) {
          try {
            for await (const update of desktop.connect({ clientInstanceId: `rolling-${upn.split('@')[0] ?? ''}`, initialPresence: AgentPresence.AGENT_PRESENCE_AVAILABLE }, { signal: agentsStop.signal })) {
              const event = update.event;
              if (event?.$case === 'snapshot') {
                for (const interaction of event.value.assigned) work(interaction);
                for (const offer of event.value.pendingOffers) accept(offer.offerId);
              } else if (event?.$case === 'offer') accept(event.value.offerId);
              else if (event?.$case === 'assignment' && event.value.interaction) work(event.value.interaction);
            }
          } catch {
            // the router went away (draining or stopped): connect again below
          }
          if (agentsStop.signal.aborted) break;
          stats.reconnects += 1;
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
      } finally {
        channel.close();
      }
    })();
  }

  async function interactionsTagged(tag: string): Promise<Interaction[]> {
    const router = createGrpcClient(InteractionRouterServiceDefinition, address.get('interaction-router') ?? '', { deadlineMs: 30_000 });
    try {
      const found: Interaction[] = [];
      let pageToken = '';
      do {
        const page = await router.client.searchInteractions(
          { page: { pageSize: 200, pageToken }, filter: { subjectContains: tag }, order: InteractionOrder.INTERACTION_ORDER_UNSPECIFIED },
          { metadata: metadata() },
        );
        found.push(...page.interactions);
        pageToken = page.nextPageToken;
      } while (pageToken);
      return found;
    } finally {
      router.close();
    }
  }

  it(`replaces each service one by one (SIGTERM → exit 0 → new replica SERVING) while ${emailCount} e-mails are routed and answered: none lost, none doubled`, async () => {
    const tag = `RU${randomBytes(3).toString('hex')}`;
    const stats = { replies: new Map<string, number>(), reconnects: 0, errors: [] as string[] };
    const agentTasks = agents.map((agent) => runAgent(agent.upn, tag, stats));
    const delivered: Delivered[] = [];
    const deliverWave = async (wave: number): Promise<void> => {
      const from = Math.floor((emailCount * wave) / waves);
      const to = Math.floor((emailCount * (wave + 1)) / waves);
      for (let i = from; i < to; i += 1) {
        const mailbox = routed[i % routed.length] ?? '';
        const subject = `${tag} w${wave} q${i}`;
        const message = await endpoints.admin.deliver(demoProfile.tenantId, mailbox, { from: { address: `customer${i}@customer.example`, name: `Customer ${i}` }, subject, body: `Question number ${i}.` });
        delivered.push({ subject, mailbox, internetMessageId: message.internetMessageId, conversationId: message.conversationId, wave, deliveredAt: Date.now() });
      }
    };

    const waveDone = async (wave: number, timeoutMs: number): Promise<number> => {
      const size = delivered.filter((entry) => entry.wave === wave).length;
      const since = performance.now();
      await waitFor(
        async () => {
          const found = await interactionsTagged(`${tag} w${wave} `);
          return found.length >= size && found.every((interaction) => interaction.state === InteractionState.INTERACTION_STATE_COMPLETED);
        },
        { timeoutMs, intervalMs: 500, description: `wave ${wave}: ${size} interactions replied and completed` },
      ).catch(async (error: unknown) => {
        const found = await interactionsTagged(`${tag} w${wave} `).catch(() => []);
        throw new Error(`${String(error)}: ${found.length} found, states ${JSON.stringify(found.map((interaction) => InteractionState[interaction.state]))}, agent errors ${JSON.stringify(stats.errors.slice(0, 5))}`, { cause: error });
      });
      return Math.round(performance.now() - since);
    };

    // Wave 0 proves the whole pipeline flows before anything is replaced. Each later wave lands right
    // before a service is taken down, so its e-mail is in flight during the drain; the next service is
    // replaced only once that wave went all the way through (replied and completed) on the new replica.
    // On a fresh broker the first group joins wait for Kafka's internal topics: measured up to ~2 min on a loaded machine.
    await deliverWave(0);
    const warmUpMs = await waveDone(0, 240_000);
    const replacements: (Replacement & { waveDoneMs: number })[] = [];
    const upgradeStarted = performance.now();
    for (const [index, service] of order.entries()) {
      await deliverWave(index + 1);
      const replacement = await replace(service);
      replacements.push({ ...replacement, waveDoneMs: await waveDone(index + 1, 120_000) });
    }
    const upgradeMs = Math.round(performance.now() - upgradeStarted);

    for (const replacement of replacements) {
      expect({ service: replacement.service, exit: replacement.exit, failedSteps: replacement.failedSteps }).toEqual({ service: replacement.service, exit: { code: 0, signal: null }, failedSteps: [] });
      expect(replacement.shutdownSteps).toEqual(expect.arrayContaining(['grpc server']));
    }

    const subjects = delivered.map((entry) => entry.subject);
    // Every delivered e-mail became exactly one interaction, and every one was replied to and completed.
    const interactions = await waitFor(
      async () => {
        const found = await interactionsTagged(tag);
        return found.length >= emailCount && found.every((interaction) => interaction.state === InteractionState.INTERACTION_STATE_COMPLETED) ? found : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, description: `${emailCount} interactions completed after their reply` },
    ).catch(async (error: unknown) => {
      const found = await interactionsTagged(tag).catch(() => []);
      const states = found.reduce<Record<string, number>>((acc, interaction) => ({ ...acc, [InteractionState[interaction.state]]: (acc[InteractionState[interaction.state]] ?? 0) + 1 }), {});
      throw new Error(`${String(error)}: ${found.length} found, states ${JSON.stringify(states)}, agent errors ${JSON.stringify(stats.errors.slice(0, 5))}`, { cause: error });
    });
    expect(interactions.map((interaction) => interaction.subject).sort()).toEqual([...subjects].sort());
    expect(new Set(interactions.map((interaction) => interaction.interactionId)).size).toBe(emailCount);

    // Every reply went out exactly once, from the mailbox the e-mail arrived at, in the customer's thread.
    const sent = (await Promise.all(routed.map(async (mailbox) => (await endpoints.admin.sent(demoProfile.tenantId, mailbox)).value.map((record) => ({ mailbox, ...record }))))).flat();
    const repliesTo = (entry: Delivered) => sent.filter((record) => record.inReplyTo === entry.internetMessageId);
    expect(delivered.map((entry) => ({ subject: entry.subject, replies: repliesTo(entry).length }))).toEqual(delivered.map((entry) => ({ subject: entry.subject, replies: 1 })));
    for (const entry of delivered) {
      expect(repliesTo(entry)[0]).toMatchObject({ mailbox: entry.mailbox, conversationId: entry.conversationId });
    }
    expect(stats.errors).toEqual([]);
    // The agents' side: one successful Reply call per interaction (retries reuse the idempotency key).
    expect([...stats.replies.values()].every((n) => n === 1)).toBe(true);
    // The router was replaced under the agents: their streams ended and were connected again.
    expect(stats.reconnects).toBeGreaterThanOrEqual(agents.length);

    if (process.env['ROLLING_UPGRADE_TEST_REPORT'] === '1') {
      // Per wave (wave i lands just before order[i] is replaced): the slowest e-mail's delivery → interaction and delivery → reply sent.
      const bySubject = new Map(interactions.map((interaction) => [interaction.subject, interaction]));
      const perWave = Array.from({ length: waves }, (_, wave) => {
        const entries = delivered.filter((entry) => entry.wave === wave);
        const max = (values: number[]) => Math.max(...values.map((value) => Math.round(value)));
        return {
          wave,
          inFlightWhileReplacing: order[wave - 1] ?? '(warm-up)',
          maxToInteractionMs: max(entries.map((entry) => (bySubject.get(entry.subject)?.createdAt?.getTime() ?? NaN) - entry.deliveredAt)),
          maxToSentMs: max(entries.map((entry) => Date.parse(repliesTo(entry)[0]?.sentAt ?? '') - entry.deliveredAt)),
        };
      });
      console.log(
        JSON.stringify(
          { emails: emailCount, warmUpMs, upgradeMs, reconnects: stats.reconnects, replacements: replacements.map(({ service, drainMs, readyMs, waveDoneMs, shutdownSteps }) => ({ service, drainMs, readyMs, waveDoneMs, shutdownSteps: shutdownSteps.join(' → ') })), perWave },
          null,
          2,
        ),
      );
    }
    agentsStop.abort();
    await Promise.allSettled(agentTasks);
  }, 420_000);
});
