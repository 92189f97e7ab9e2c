import { randomBytes } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { ClientError, Status } from 'nice-grpc';
import {
  AgentPresence,
  InteractionOrder,
  InteractionRouterServiceDefinition,
  InteractionState,
  OutgoingMessage,
  ReplyMode,
  type Interaction,
} from '@mailroute/contracts';
import { demoProfile, type GraphSandbox, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { createGrpcClient } from '@mailroute/platform';
import {
  freePort,
  startDedicatedKafka,
  startServiceProcess,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  waitForServing,
  type DedicatedKafka,
  type ServiceProcess,
} from '@mailroute/testing';
import {
  dispatchDesktopUpdate,
  dropFleetDatabases,
  newFleetTenant,
  registerFleetTenant,
  serviceEnvironment,
  serviceOrder as order,
  signInDesktop,
  withProcessOutput,
  writeProcessLogs,
  type ServiceName,
} from './testing/service-fleet';

/**
 * Rolling upgrade, as Kubernetes does it with the manifests' maxSurge 1 / maxUnavailable 0: the four
 * services run as real processes (their main.ts), each on a port of its own (a pod IP), behind a
 * fixed address per service (a Service's ClusterIP: a TCP proxy here that hands each new connection
 * to a Ready endpoint). While e-mail arrives in waves and two agents accept and reply to every one,
 * each service in turn gets a new process (same configuration, new replica id) that must answer
 * grpc.health.v1 SERVING while the old one still runs; only then is the old one taken out of the
 * Service's endpoints and sent SIGTERM, and it must drain and exit 0 within the grace period. So for
 * a while two replicas of each run side by side: two auth-brokers, two mailbox-fetch replicas
 * sharing the mailbox leases, two routers planning, two outbound-send consumers in one group. In the
 * end every delivered e-mail is exactly one interaction and got exactly one reply in its thread.
 *
 * Real: the graph sandbox over HTTPS (Entra ID + Graph; agent sign-in by device code), FerretDB
 * (a random database per service), and a Kafka broker of this test's own (the router's consumer
 * group id is fixed, so a shared broker would hand this test's events to other suites' routers).
 * Size: ROLLING_UPGRADE_TEST_EMAILS (default 40), delivered in 5 waves.
 */
const emailCount = Number(process.env['ROLLING_UPGRADE_TEST_EMAILS'] ?? 40);
const waves = 5;
/** terminationGracePeriodSeconds in deploy/k8s/base/<service>/deployment.yaml: from the start of termination to SIGKILL. */
const gracePeriodMs = 40_000;
/** The manifests' preStop pause is 5 s (for endpoints to propagate); here removal is immediate, so a short one suffices. */
const preStopMs = 1_000;

const routed = demoProfile.routedMailboxes;
const agents = [
  { id: 'alice', upn: 'alice@contoso-demo.example' },
  { id: 'bob', upn: 'bob@contoso-demo.example' },
];
/** Codes a client retries on: the server is away (restarting) or cut the call while going away. */
const transient = new Set([
  Status.UNAVAILABLE,
  Status.DEADLINE_EXCEEDED,
  Status.CANCELLED,
  Status.ABORTED,
  Status.UNKNOWN,
  Status.INTERNAL,
]);
const isTransient = (error: unknown): boolean =>
  error instanceof ClientError ? transient.has(error.code) : (error as Error)?.name === 'AbortError';

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
  /** New process started → SERVING (the readiness probe passes), while the old one still runs. */
  readyMs: number;
  /** SIGTERM → exit of the old process. */
  drainMs: number;
  /** New replica SERVING → old process exited: both ran side by side. */
  overlapMs: number;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  shutdownSteps: string[];
  failedSteps: string[];
}

/**
 * A Kubernetes Service in front of a Deployment's pods, as kube-proxy makes it: a fixed address whose
 * new TCP connections go to one of the Ready endpoints (round robin); removing an endpoint stops new
 * connections to it but leaves established ones alone (HTTP/2 clients move when the server sends GOAWAY).
 */
interface ClusterService {
  address: string;
  add(endpoint: string): void;
  remove(endpoint: string): void;
  close(): Promise<void>;
}

async function startClusterService(port: number): Promise<ClusterService> {
  const endpoints: string[] = [];
  const sockets = new Set<Socket>();
  let next = 0;
  const server: Server = createServer((client) => {
    const endpoint = endpoints[next++ % Math.max(endpoints.length, 1)];
    // No Ready endpoint: the connection is refused, as a Service without endpoints does.
    if (!endpoint) return void client.destroy();
    const [host, targetPort] = endpoint.split(':');
    const upstream = createConnection({ host: host ?? '127.0.0.1', port: Number(targetPort) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    address: `127.0.0.1:${port}`,
    add: (endpoint) => void endpoints.push(endpoint),
    remove: (endpoint) => {
      const index = endpoints.indexOf(endpoint);
      if (index >= 0) endpoints.splice(index, 1);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
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
  const services = new Map<ServiceName, ClusterService>();
  const endpointOf = new Map<ServiceProcess, string>();
  const tenant = newFleetTenant('rolling');
  const agentsStop = new AbortController();

  /** Starts a new pod of `service` on a port of its own and waits for its readiness (SERVING); does not add it to the Service. */
  async function startPod(service: ServiceName): Promise<ServiceProcess> {
    const next = (generation.get(service) ?? 0) + 1;
    generation.set(service, next);
    const env = envOf.get(service);
    if (!env) throw new Error(`no environment for ${service}`);
    const proc = startServiceProcess(`apps/${service}/src/main.ts`, env(`${service}-r${next}`));
    replicaOf.set(proc, `${service}-r${next}`);
    const failed = (error: unknown): never => {
      throw withProcessOutput(`${service}-r${next}`, proc, error);
    };
    const timeout = setTimeout(() => void proc.stop('SIGKILL'), 120_000);
    try {
      const endpoint = `127.0.0.1:${await proc.port().catch(failed)}`;
      endpointOf.set(proc, endpoint);
      await waitForServing(endpoint, { timeoutMs: 120_000 }).catch(failed);
    } catch (error) {
      retired.push(proc);
      throw error;
    } finally {
      clearTimeout(timeout);
    }
    return proc;
  }

  beforeAll(async () => {
    const kafkaStarting = startDedicatedKafka();
    ({ sandbox, endpoints } = await startTestGraphSandbox({ profile: 'demo', deviceCodeIntervalSeconds: 1 }));
    const { mongoUrl } = testInfra();
    for (const service of order) {
      const clusterService = await startClusterService(await freePort());
      services.set(service, clusterService);
      address.set(service, clusterService.address);
    }
    // Every pod listens on a port of its own (GRPC_PORT 0; its pod IP) and is reached through its Service.
    const common = { GRPC_PORT: '0', LOG_LEVEL: 'info', NODE_EXTRA_CA_CERTS: endpoints.caCertPath };
    kafka = await kafkaStarting;
    const brokers = kafka.brokers;

    const env = (service: ServiceName) =>
      serviceEnvironment(service, {
        tenant,
        endpoints,
        mongoUrl,
        brokers,
        authBrokerAddress: address.get('auth-broker') ?? '',
        common,
      });
    envOf.set('auth-broker', () => env('auth-broker'));
    envOf.set('mailbox-fetch', (replicaId) => ({ ...env('mailbox-fetch'), MAILBOX_FETCH_REPLICA_ID: replicaId }));
    envOf.set('interaction-router', (replicaId) => ({
      ...env('interaction-router'),
      ROUTER_REPLICA_ID: replicaId,
      // Two routers run side by side during the upgrade: no fixed metrics port.
      ROUTER_METRICS_PORT: '0',
    }));
    envOf.set('outbound-send', (replicaId) => ({ ...env('outbound-send'), OUTBOUND_SEND_REPLICA_ID: replicaId }));

    await Promise.all(
      order.map(async (service) => {
        const pod = await startPod(service);
        running.set(service, pod);
        services.get(service)?.add(endpointOf.get(pod) ?? '');
      }),
    );

    // The tenant, as a workload manager registers it through the public APIs.
    await registerFleetTenant({
      tenant,
      endpoints,
      address: (service) => address.get(service) ?? '',
      displayName: 'Contoso (rolling upgrade)',
      agents,
      mailboxes: routed,
    });
  }, 240_000);

  afterAll(async () => {
    agentsStop.abort();
    // ROLLING_UPGRADE_TEST_LOGS=<dir>: every process's output, one file per replica, for diagnosis.
    const logDir = process.env['ROLLING_UPGRADE_TEST_LOGS'];
    if (logDir)
      writeProcessLogs(
        logDir,
        [...retired, ...running.values()].map((proc) => [replicaOf.get(proc) ?? 'unknown', proc] as const),
      );
    await Promise.all([...running.values(), ...retired].map((proc) => proc.stop('SIGKILL')));
    await Promise.all([...services.values()].map((clusterService) => clusterService.close()));
    await sandbox?.stop();
    await kafka?.dispose();
    await dropFleetDatabases(tenant);
  }, 120_000);

  /**
   * One step of the rollout (maxSurge 1, maxUnavailable 0): a new pod starts and must be Ready
   * (grpc.health.v1 SERVING) while the old one still serves; it joins the Service; the old pod leaves
   * the Service's endpoints, gets the preStop pause, then SIGTERM, and must drain cleanly — exit 0,
   * `shutdown: complete` with ok, no failed step — within the grace period. `whileBothServe` runs
   * when both are in the Service, right before the old one's termination starts.
   */
  async function replace(service: ServiceName, whileBothServe: () => Promise<void>): Promise<Replacement> {
    const old = running.get(service);
    const clusterService = services.get(service);
    if (!old || !clusterService) throw new Error(`${service} is not running`);
    const starting = performance.now();
    const fresh = await startPod(service);
    const servingAt = performance.now();
    running.set(service, fresh);
    clusterService.add(endpointOf.get(fresh) ?? '');
    // Both really serve side by side: the old process is still up when the new one is Ready.
    if (old.child.exitCode !== null || old.child.signalCode !== null)
      throw new Error(`${service}: the old process exited before its replacement was Ready\n${old.output.slice(-30).join('\n')}`);
    await whileBothServe();

    retired.push(old);
    const terminating = performance.now();
    clusterService.remove(endpointOf.get(old) ?? '');
    await new Promise((resolve) => setTimeout(resolve, preStopMs));
    const stopping = performance.now();
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(resolve, gracePeriodMs - (stopping - terminating), 'timeout').unref(),
    );
    const exit = await Promise.race([old.stop('SIGTERM'), timeout]);
    if (exit === 'timeout') {
      await old.stop('SIGKILL');
      throw new Error(
        `${service} did not exit within the ${gracePeriodMs / 1000} s grace period\n${old.output.slice(-30).join('\n')}`,
      );
    }
    const exitedAt = performance.now();
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
      throw new Error(
        `${service} did not drain cleanly: exit ${JSON.stringify(exit)}, failed steps ${JSON.stringify(failedSteps)}\n${old.output.slice(-30).join('\n')}`,
      );
    }
    return {
      service,
      readyMs: Math.round(servingAt - starting),
      drainMs: Math.round(exitedAt - stopping),
      overlapMs: Math.round(exitedAt - servingAt),
      exit,
      shutdownSteps: logged.filter((entry) => entry.msg === 'shutdown: step done').map((entry) => entry.step ?? ''),
      failedSteps,
    };
  }

  /**
   * A desktop agent through restarts of the router: one stream, reconnected whenever it ends (the
   * router tells streams to reconnect when it drains); accepts every offer (and what the snapshot
   * shows as pending or already assigned), replies once to this test's e-mail (same idempotency
   * key on every retry, complete after send) and completes anything else (the demo tenant's seeded mail).
   */
  function runAgent(
    upn: string,
    tag: string,
    stats: { replies: Map<string, number>; reconnects: number; errors: string[] },
  ): Promise<void> {
    return (async () => {
      const { desktop, channel } = await signInDesktop(endpoints, upn, address.get('interaction-router') ?? '');
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
            await retrying(() =>
              desktop.complete(
                { interactionId: interaction.interactionId, dispositionCode: '', note: 'rolling upgrade: not ours' },
                { signal: AbortSignal.timeout(15_000) },
              ),
            );
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
            for await (const update of desktop.connect(
              { clientInstanceId: `rolling-${upn.split('@')[0] ?? ''}`, initialPresence: AgentPresence.AGENT_PRESENCE_AVAILABLE },
              { signal: agentsStop.signal },
            )) {
              dispatchDesktopUpdate(update, { work, accept });
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
    const router = createGrpcClient(InteractionRouterServiceDefinition, address.get('interaction-router') ?? '', {
      deadlineMs: 30_000,
    });
    try {
      const found: Interaction[] = [];
      let pageToken = '';
      do {
        const page = await router.client.searchInteractions(
          {
            page: { pageSize: 200, pageToken },
            filter: { subjectContains: tag },
            order: InteractionOrder.INTERACTION_ORDER_UNSPECIFIED,
          },
          { metadata: tenant.metadata() },
        );
        found.push(...page.interactions);
        pageToken = page.nextPageToken;
      } while (pageToken);
      return found;
    } finally {
      router.close();
    }
  }

  it(`replaces each service one by one (new replica SERVING beside the old → SIGTERM → old exits 0) while ${emailCount} e-mails are routed and answered: none lost, none doubled`, async () => {
    const tag = `RU${randomBytes(3).toString('hex')}`;
    const stats = { replies: new Map<string, number>(), reconnects: 0, errors: [] as string[] };
    const agentTasks = agents.map((agent) => runAgent(agent.upn, tag, stats));
    const delivered: Delivered[] = [];
    /** Delivers wave `wave`, or one half of it (`half` 0 or 1). */
    const deliverWave = async (wave: number, half?: 0 | 1): Promise<void> => {
      const start = Math.floor((emailCount * wave) / waves);
      const end = Math.floor((emailCount * (wave + 1)) / waves);
      const middle = Math.floor((start + end) / 2);
      const from = half === 1 ? middle : start;
      const to = half === 0 ? middle : end;
      for (let i = from; i < to; i += 1) {
        const mailbox = routed[i % routed.length] ?? '';
        const subject = `${tag} w${wave} q${i}`;
        const message = await endpoints.admin.deliver(demoProfile.tenantId, mailbox, {
          from: { address: `customer${i}@customer.example`, name: `Customer ${i}` },
          subject,
          body: `Question number ${i}.`,
        });
        delivered.push({
          subject,
          mailbox,
          internetMessageId: message.internetMessageId,
          conversationId: message.conversationId,
          wave,
          deliveredAt: Date.now(),
        });
      }
    };

    const waveDone = async (wave: number, timeoutMs: number): Promise<number> => {
      const size = delivered.filter((entry) => entry.wave === wave).length;
      const since = performance.now();
      await waitFor(
        async () => {
          const found = await interactionsTagged(`${tag} w${wave} `);
          return (
            found.length >= size &&
            found.every((interaction) => interaction.state === InteractionState.INTERACTION_STATE_COMPLETED)
          );
        },
        { timeoutMs, intervalMs: 500, description: `wave ${wave}: ${size} interactions replied and completed` },
      ).catch(async (error: unknown) => {
        const found = await interactionsTagged(`${tag} w${wave} `).catch(() => []);
        throw new Error(
          `${String(error)}: ${found.length} found, states ${JSON.stringify(found.map((interaction) => InteractionState[interaction.state]))}, agent errors ${JSON.stringify(stats.errors.slice(0, 5))}`,
          { cause: error },
        );
      });
      return Math.round(performance.now() - since);
    };

    // Wave 0 proves the whole pipeline flows before anything is replaced. Each later wave is in flight
    // during one replacement: its first half lands as the new replica starts (the old one alone
    // serves), its second half once both serve, right before the old one is taken out and sent
    // SIGTERM, so it is fetched, routed or sent across the handover and the drain. The next service is
    // replaced only once that wave went all the way through (replied and completed).
    // On a fresh broker the first group joins wait for Kafka's internal topics: measured up to ~2 min on a loaded machine.
    await deliverWave(0);
    const warmUpMs = await waveDone(0, 240_000);
    const replacements: (Replacement & { waveDoneMs: number })[] = [];
    const upgradeStarted = performance.now();
    for (const [index, service] of order.entries()) {
      await deliverWave(index + 1, 0);
      const replacement = await replace(service, () => deliverWave(index + 1, 1));
      replacements.push({ ...replacement, waveDoneMs: await waveDone(index + 1, 120_000) });
    }
    const upgradeMs = Math.round(performance.now() - upgradeStarted);

    for (const replacement of replacements) {
      expect({ service: replacement.service, exit: replacement.exit, failedSteps: replacement.failedSteps }).toEqual({
        service: replacement.service,
        exit: { code: 0, signal: null },
        failedSteps: [],
      });
      expect(replacement.shutdownSteps).toEqual(expect.arrayContaining(['grpc server']));
    }

    const subjects = delivered.map((entry) => entry.subject);
    // Every delivered e-mail became exactly one interaction, and every one was replied to and completed.
    const interactions = await waitFor(
      async () => {
        const found = await interactionsTagged(tag);
        return found.length >= emailCount &&
          found.every((interaction) => interaction.state === InteractionState.INTERACTION_STATE_COMPLETED)
          ? found
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, description: `${emailCount} interactions completed after their reply` },
    ).catch(async (error: unknown) => {
      const found = await interactionsTagged(tag).catch(() => []);
      const states = found.reduce<Record<string, number>>(
        (acc, interaction) => ({
          ...acc,
          [InteractionState[interaction.state]]: (acc[InteractionState[interaction.state]] ?? 0) + 1,
        }),
        {},
      );
      throw new Error(
        `${String(error)}: ${found.length} found, states ${JSON.stringify(states)}, agent errors ${JSON.stringify(stats.errors.slice(0, 5))}`,
        { cause: error },
      );
    });
    expect(interactions.map((interaction) => interaction.subject).sort()).toEqual([...subjects].sort());
    expect(new Set(interactions.map((interaction) => interaction.interactionId)).size).toBe(emailCount);

    // Every reply went out exactly once, from the mailbox the e-mail arrived at, in the customer's thread.
    const sent = (
      await Promise.all(
        routed.map(async (mailbox) =>
          (await endpoints.admin.sent(demoProfile.tenantId, mailbox)).value.map((record) => ({ mailbox, ...record })),
        ),
      )
    ).flat();
    const repliesTo = (entry: Delivered) => sent.filter((record) => record.inReplyTo === entry.internetMessageId);
    expect(delivered.map((entry) => ({ subject: entry.subject, replies: repliesTo(entry).length }))).toEqual(
      delivered.map((entry) => ({ subject: entry.subject, replies: 1 })),
    );
    for (const entry of delivered) {
      expect(repliesTo(entry)[0]).toMatchObject({ mailbox: entry.mailbox, conversationId: entry.conversationId });
    }
    expect(stats.errors).toEqual([]);
    // The agents' side: one successful Reply call per interaction (retries reuse the idempotency key).
    expect([...stats.replies.values()].every((n) => n === 1)).toBe(true);
    // The router was replaced under the agents: their streams ended and were connected again.
    expect(stats.reconnects).toBeGreaterThanOrEqual(agents.length);

    if (process.env['ROLLING_UPGRADE_TEST_REPORT'] === '1') {
      // Per wave (wave i is in flight while order[i - 1] is replaced): the slowest e-mail's delivery → interaction and delivery → reply sent.
      const bySubject = new Map(interactions.map((interaction) => [interaction.subject, interaction]));
      const perWave = Array.from({ length: waves }, (_, wave) => {
        const entries = delivered.filter((entry) => entry.wave === wave);
        const max = (values: number[]) => Math.max(...values.map((value) => Math.round(value)));
        return {
          wave,
          inFlightWhileReplacing: order[wave - 1] ?? '(warm-up)',
          maxToInteractionMs: max(
            entries.map((entry) => (bySubject.get(entry.subject)?.createdAt?.getTime() ?? NaN) - entry.deliveredAt),
          ),
          maxToSentMs: max(entries.map((entry) => Date.parse(repliesTo(entry)[0]?.sentAt ?? '') - entry.deliveredAt)),
        };
      });
      console.log(
        JSON.stringify(
          {
            emails: emailCount,
            warmUpMs,
            upgradeMs,
            reconnects: stats.reconnects,
            replacements: replacements.map(({ service, readyMs, overlapMs, drainMs, waveDoneMs, shutdownSteps }) => ({
              service,
              readyMs,
              overlapMs,
              drainMs,
              waveDoneMs,
              shutdownSteps: shutdownSteps.join(' → '),
            })),
            perWave,
          },
          null,
          2,
        ),
      );
    }
    agentsStop.abort();
    await Promise.allSettled(agentTasks);
  }, 420_000);
});
