import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClientError, Status } from 'nice-grpc';
import {
  AgentPresence,
  InteractionOrder,
  InteractionRouterServiceDefinition,
  InteractionState,
  OutboundSendServiceDefinition,
  OutgoingMessage,
  ReplyMode,
  SendState,
  type AgentDesktopServiceClient,
  type Interaction,
} from '@mailroute/contracts';
import {
  GraphSandboxAdminClient,
  SubscriptionsAdminClient,
  demoProfile,
  trustCertificateAuthority,
  type GraphSandboxEndpoints,
} from '@mailroute/graph-sandbox';
import { createGrpcClient } from '@mailroute/platform';
import {
  freePort,
  seededRandom,
  startDedicatedFerretDb,
  startDedicatedKafka,
  startServiceProcess,
  waitFor,
  waitForServing,
  type DedicatedFerretDb,
  type DedicatedKafka,
  type ServiceProcess,
} from '@mailroute/testing';
import {
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
 * Chaos, as operators run mailroute: Kafka + MongoDB (FerretDB) mode, the graph sandbox as a process
 * of its own, the four services as real processes (their main.ts) on fixed ports, and two agents on
 * desktop streams. While customer e-mail arrives (some of it follow-ups in the same thread, which
 * merge into the open interaction), the Kafka broker, FerretDB and the services are SIGKILLed and
 * restarted at random moments, and for a while a fifth of Graph's mail requests answer 429 or 503.
 *
 * The agents accept every offer after a moment's thought and reply once (complete after send). They
 * do NOT retry a reply: whatever Reply answers, they never call it again for that interaction while
 * their desktop shows the reply in the interaction's thread (ListMyInteractionMessages); only when
 * the router shows no reply of theirs at all (it never recorded it, e.g. the store was down) do they
 * write it again — as an agent would, looking at an unanswered e-mail. A follow-up that merged in
 * after their reply went out reopens the interaction; they complete it without a second reply.
 *
 * At the end: every e-mail is exactly one interaction; every interaction that is not merged got
 * exactly one reply in Sent Items and is completed; no send that went out is FAILED; every e-mail
 * was marked read (the mailboxes' default post-processing); no agent ever held more than its
 * capacity; no agent's stream carried a second live offer of an interaction it already had an
 * offer of.
 *
 * Real: Kafka and FerretDB of this test's own (tools/test-infra, own data directories, restarted on
 * the same port and data), the graph sandbox over HTTPS, gRPC over sockets.
 * Size (CI default in brackets): CHAOS_TEST_EMAILS [16], CHAOS_TEST_FAULTS [3: the broker, the store
 * and one service, in random order; more adds random kinds], CHAOS_TEST_GRAPH_FAULT_SECONDS [20],
 * CHAOS_TEST_SEED [random; printed on failure], CHAOS_TEST_TIMEOUT_SECONDS [150: how long the system
 * gets to settle after the last fault]. CHAOS_TEST_LOGS=<dir> writes every process's output there;
 * CHAOS_TEST_REPORT=1 prints the run's figures.
 */
const emailCount = Number(process.env['CHAOS_TEST_EMAILS'] ?? 16);
const faultCount = Number(process.env['CHAOS_TEST_FAULTS'] ?? 3);
const graphFaultMs = Number(process.env['CHAOS_TEST_GRAPH_FAULT_SECONDS'] ?? 20) * 1000;
const seed = Number(process.env['CHAOS_TEST_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const settleMs = Number(process.env['CHAOS_TEST_TIMEOUT_SECONDS'] ?? 150) * 1000;
/** Agents' capacity as registerFleetTenant creates them. */
const capacity = 5;

const routed = demoProfile.routedMailboxes;
const agents = [
  { id: 'alice', upn: 'alice@contoso-demo.example' },
  { id: 'bob', upn: 'bob@contoso-demo.example' },
];

/** mulberry32: a small seeded generator, so a failing run can be repeated with CHAOS_TEST_SEED. */
const random = seededRandom(seed);
const between = (min: number, max: number) => min + Math.floor(random() * (max - min));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type FaultKind = 'kafka' | 'ferretdb' | ServiceName;

interface Delivered {
  subject: string;
  mailbox: string;
  internetMessageId: string;
  /** The e-mail this one follows up (same thread), if any. */
  followUpOf?: string;
}

interface AgentStats {
  replyCalls: number;
  replyErrors: string[];
  /** Replies written again because the router showed none in the thread. */
  rewritten: number;
  maxHeld: number;
  duplicateOffers: string[];
  offers: number;
  reconnects: number;
}

describe('chaos: SIGKILLs of the broker, the store and the services, and a Graph 429/503 window, while agents work', () => {
  let kafka: DedicatedKafka | undefined;
  let ferret: DedicatedFerretDb | undefined;
  let sandboxProc: ServiceProcess | undefined;
  let endpoints: GraphSandboxEndpoints;
  const certDir = mkdtempSync(path.join(tmpdir(), 'chaos-sandbox-'));
  const tenant = newFleetTenant('chaos');
  const ports = new Map<ServiceName, number>();
  const address = (service: ServiceName) => `127.0.0.1:${ports.get(service) ?? 0}`;
  const envOf = new Map<ServiceName, Record<string, string>>();
  const running = new Map<ServiceName, ServiceProcess>();
  const retired: [string, ServiceProcess][] = [];
  const generation = new Map<ServiceName, number>();
  const agentsStop = new AbortController();

  async function startService(service: ServiceName): Promise<void> {
    const next = (generation.get(service) ?? 0) + 1;
    generation.set(service, next);
    const proc = startServiceProcess(`apps/${service}/src/main.ts`, envOf.get(service) ?? {});
    running.set(service, proc);
    retired.push([`${service}-${next}`, proc]);
    await proc.port().catch((error: unknown) => {
      throw withProcessOutput(`${service}-${next}`, proc, error);
    });
  }

  beforeAll(async () => {
    const infra = Promise.all([startDedicatedKafka(), startDedicatedFerretDb()]);
    sandboxProc = startServiceProcess('apps/graph-sandbox/src/main.ts', {
      GRAPH_SANDBOX_PORT: '0',
      GRAPH_SANDBOX_ADMIN_PORT: '0',
      GRAPH_SANDBOX_CERT_DIR: certDir,
      GRAPH_SANDBOX_PROFILE: 'demo',
      GRAPH_SANDBOX_DEVICE_CODE_INTERVAL_SECONDS: '1',
      LOG_LEVEL: 'info',
    });
    const proc = sandboxProc;
    const ready = await waitFor(
      () => {
        for (const line of proc.output) {
          try {
            const entry = JSON.parse(line) as {
              baseUrl?: string;
              adminUrl?: string;
              caCertPath?: string;
              serverCertSpkiSha256?: string;
            };
            if (entry.baseUrl && entry.adminUrl && entry.caCertPath && entry.serverCertSpkiSha256) {
              return entry as Required<typeof entry>;
            }
          } catch {
            // not a JSON log line
          }
        }
        if (proc.child.exitCode !== null) throw new Error(`the graph sandbox exited:\n${proc.output.join('\n')}`);
        return undefined;
      },
      { timeoutMs: 60_000, intervalMs: 100, description: 'the graph sandbox process ready' },
    );
    const caCertPem = readFileSync(ready.caCertPath, 'utf8');
    // This process signs agents in over the sandbox's HTTPS too.
    trustCertificateAuthority(caCertPem);
    endpoints = {
      baseUrl: ready.baseUrl,
      graphBaseUrl: `${ready.baseUrl}/`,
      authorityHost: new URL(ready.baseUrl).host,
      adminUrl: ready.adminUrl,
      caCertPem,
      caCertPath: ready.caCertPath,
      serverCertSpkiSha256: ready.serverCertSpkiSha256,
      admin: new GraphSandboxAdminClient(ready.adminUrl),
      subscriptions: new SubscriptionsAdminClient(ready.adminUrl),
    };
    [kafka, ferret] = await infra;

    for (const service of order) ports.set(service, await freePort());
    for (const service of order) {
      const common = { GRPC_PORT: String(ports.get(service)), LOG_LEVEL: 'info', NODE_EXTRA_CA_CERTS: endpoints.caCertPath };
      const env = serviceEnvironment(service, {
        tenant,
        endpoints,
        mongoUrl: ferret.url,
        brokers: kafka.brokers,
        authBrokerAddress: address('auth-broker'),
        common,
      });
      envOf.set(service, {
        ...env,
        ...(service === 'interaction-router' ? { ROUTER_METRICS_PORT: '0' } : {}),
        // The test reads each send's state (no send that went out may be FAILED).
        ...(service === 'outbound-send'
          ? { OUTBOUND_SEND_API_KEYS: `wm:${tenant.tenantId}:sends.read:${tenant.apiKeyHash}` }
          : {}),
      });
    }
    for (const service of order) await startService(service);
    await Promise.all(order.map((service) => waitForServing(address(service), { timeoutMs: 120_000 })));
    await registerFleetTenant({ tenant, endpoints, address, displayName: 'Contoso (chaos)', agents, mailboxes: routed });
  }, 300_000);

  afterAll(async () => {
    agentsStop.abort();
    const logDir = process.env['CHAOS_TEST_LOGS'];
    if (logDir)
      writeProcessLogs(logDir, [
        ...retired,
        ...(sandboxProc ? [['graph-sandbox', sandboxProc] as [string, ServiceProcess]] : []),
      ]);
    await Promise.all([...running.values()].map((proc) => proc.stop('SIGKILL')));
    await sandboxProc?.stop('SIGKILL');
    await kafka?.dispose();
    await ferret?.dispose();
    rmSync(certDir, { recursive: true, force: true });
  }, 120_000);

  /**
   * One agent: a desktop stream reconnected whenever it ends; accepts each offer once after a moment;
   * replies once per interaction (see the suite's comment for when it writes a reply again); every
   * 2 s looks at its own interactions (ListMyInteractions), as the desktop's list does, which is also
   * how it finds an interaction whose Accept answer it never got.
   */
  function runAgent(agent: { id: string; upn: string }, tag: string, stats: AgentStats): Promise<void> {
    return (async () => {
      const { desktop, channel } = await signInDesktop(endpoints, agent.upn, address('interaction-router'));
      const call = { signal: () => AbortSignal.any([agentsStop.signal, AbortSignal.timeout(10_000)]) };
      /** interaction → the agent's reply: in flight, answered by the router, or failed (the call's answer was an error). */
      const replies = new Map<string, 'pending' | 'accepted' | 'failed'>();
      /** interaction → its offers on this agent's streams that are live (not revoked, not expired, not answered). */
      const liveOffers = new Map<string, Map<string, number>>();
      const acceptedOffers = new Set<string>();

      const reply = (interaction: { interactionId: string; subject: string }): void => {
        if (!interaction.subject.includes(tag)) {
          void desktop
            .complete(
              { interactionId: interaction.interactionId, dispositionCode: '', note: 'chaos: not ours' },
              { signal: call.signal() },
            )
            .catch(() => undefined);
          return;
        }
        const state = replies.get(interaction.interactionId);
        if (state === 'pending' || state === 'accepted') return;
        replies.set(interaction.interactionId, 'pending');
        void (async () => {
          await sleep(between(100, 800));
          stats.replyCalls += 1;
          try {
            await replyOnce(desktop, interaction.interactionId, call.signal());
            replies.set(interaction.interactionId, 'accepted');
          } catch (error) {
            replies.set(interaction.interactionId, 'failed');
            stats.replyErrors.push(`${agent.id} ${interaction.interactionId}: ${String(error)}`);
          }
        })();
      };

      const noteOffer = (offerId: string, interactionId: string, expiresAt: number): void => {
        const now = Date.now();
        const live = liveOffers.get(interactionId) ?? new Map<string, number>();
        for (const [other, expiry] of live) if (expiry <= now) live.delete(other);
        // A second live offer of an interaction the agent already has a live offer of (the "one offer per interaction").
        if (!live.has(offerId) && live.size > 0 && expiresAt > now)
          stats.duplicateOffers.push(
            `${agent.id}: ${interactionId} offered as ${offerId} while ${[...live.keys()].join(', ')} was live`,
          );
        live.set(offerId, expiresAt);
        liveOffers.set(interactionId, live);
      };
      const endOffer = (offerId: string, interactionId: string): void => void liveOffers.get(interactionId)?.delete(offerId);

      const accept = (offerId: string, interactionId: string): void => {
        if (acceptedOffers.has(offerId)) return;
        acceptedOffers.add(offerId);
        void (async () => {
          await sleep(between(300, 1_500));
          try {
            const { interaction } = await desktop.accept({ offerId }, { signal: call.signal() });
            endOffer(offerId, interactionId);
            if (interaction) reply(interaction);
          } catch {
            // Not retried: the offer lapses and comes again, or the list shows it assigned.
            endOffer(offerId, interactionId);
          }
        })();
      };

      // The desktop's list: capacity sample, and interactions held but not yet (visibly) answered.
      const listing = (async () => {
        while (!agentsStop.signal.aborted) {
          await sleep(2_000);
          try {
            const { interactions } = await desktop.listMyInteractions(
              {
                page: { pageSize: 100, pageToken: '' },
                states: [InteractionState.INTERACTION_STATE_ASSIGNED, InteractionState.INTERACTION_STATE_REPLIED],
              },
              { signal: call.signal() },
            );
            stats.maxHeld = Math.max(stats.maxHeld, interactions.length);
            for (const interaction of interactions) {
              const state = replies.get(interaction.interactionId);
              if (
                state === 'accepted' &&
                interaction.state === InteractionState.INTERACTION_STATE_ASSIGNED &&
                interaction.replyCount > 0
              ) {
                // The customer wrote again after the reply went out (the follow-up merged in after it): nothing more to say.
                await desktop.complete(
                  { interactionId: interaction.interactionId, dispositionCode: '', note: 'chaos: answered already' },
                  { signal: call.signal() },
                );
              } else if (state === undefined) reply(interaction);
              else if (state === 'failed') {
                const { messages } = await desktop.listMyInteractionMessages(
                  { interactionId: interaction.interactionId, page: { pageSize: 100, pageToken: '' } },
                  { signal: call.signal() },
                );
                if (messages.some((message) => message.message?.$case === 'outbound'))
                  replies.set(interaction.interactionId, 'accepted');
                else {
                  stats.rewritten += 1;
                  replies.delete(interaction.interactionId);
                  reply(interaction);
                }
              }
            }
          } catch {
            // the router or the store is down: look again later
          }
        }
      })();

      try {
        while (!agentsStop.signal.aborted) {
          try {
            for await (const update of desktop.connect(
              { clientInstanceId: `chaos-${agent.id}`, initialPresence: AgentPresence.AGENT_PRESENCE_AVAILABLE },
              { signal: agentsStop.signal },
            )) {
              const event = update.event;
              if (event?.$case === 'snapshot') {
                liveOffers.clear();
                for (const offer of event.value.pendingOffers) {
                  const id = offer.interaction?.interactionId ?? '';
                  noteOffer(offer.offerId, id, offer.expiresAt?.getTime() ?? Date.now());
                  accept(offer.offerId, id);
                }
                for (const interaction of event.value.assigned) reply(interaction);
              } else if (event?.$case === 'offer') {
                stats.offers += 1;
                const id = event.value.interaction?.interactionId ?? '';
                noteOffer(event.value.offerId, id, event.value.expiresAt?.getTime() ?? Date.now());
                accept(event.value.offerId, id);
              } else if (event?.$case === 'offerRevoked') endOffer(event.value.offerId, event.value.interactionId);
              else if (event?.$case === 'assignment' && event.value.interaction) reply(event.value.interaction);
            }
          } catch {
            // the router went away: connect again
          }
          if (agentsStop.signal.aborted) break;
          stats.reconnects += 1;
          await sleep(500);
        }
      } finally {
        await listing;
        channel.close();
      }
    })();
  }

  async function interactionsTagged(tag: string): Promise<Interaction[]> {
    const router = createGrpcClient(InteractionRouterServiceDefinition, address('interaction-router'), { deadlineMs: 15_000 });
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

  it(`loses, doubles and strands nothing: ${emailCount} e-mails, ${faultCount} SIGKILLs and a Graph 429/503 window`, async () => {
    const tag = `CH${seed.toString(36)}`;
    const stats = new Map(
      agents.map((agent) => [
        agent.id,
        { replyCalls: 0, replyErrors: [], rewritten: 0, maxHeld: 0, duplicateOffers: [], offers: 0, reconnects: 0 } as AgentStats,
      ]),
    );
    const agentTasks = agents.map((agent) => runAgent(agent, tag, stats.get(agent.id) as AgentStats));
    const delivered: Delivered[] = [];
    const faults: { kind: FaultKind; downMs: number }[] = [];
    const describeRun = () => `seed ${seed} (CHAOS_TEST_SEED), faults ${JSON.stringify(faults)}`;

    // E-mail over the whole fault schedule; after about a quarter of them the customer writes again in
    // the same thread a moment later, while the first is still waiting or offered (it merges into it).
    const deliver = async (
      entry: Omit<Delivered, 'internetMessageId'>,
      customer: string,
      inReplyTo?: string,
    ): Promise<Delivered> => {
      const message = await waitFor(
        () =>
          endpoints.admin.deliver(demoProfile.tenantId, entry.mailbox, {
            from: { address: customer, name: 'Customer' },
            subject: entry.subject,
            body: `About ${entry.subject}.`,
            ...(inReplyTo ? { inReplyTo, references: [inReplyTo] } : {}),
          }),
        { timeoutMs: 30_000, intervalMs: 500, description: `delivery of ${entry.subject}` },
      );
      const done = { ...entry, internetMessageId: message.internetMessageId };
      delivered.push(done);
      return done;
    };
    const deliveries = (async () => {
      for (let i = 0; i < emailCount; i += 1) {
        const customer = `customer${i}@customer.example`;
        const original = await deliver({ subject: `${tag} question ${i}`, mailbox: routed[i % routed.length] ?? '' }, customer);
        if (random() < 0.25) {
          await sleep(between(200, 1_000));
          await deliver(
            { subject: `RE: ${original.subject}`, mailbox: original.mailbox, followUpOf: original.internetMessageId },
            customer,
            original.internetMessageId,
          );
        }
        await sleep(between(500, 2_500));
      }
    })();

    // The Graph fault window: 429 and 503 (each a tenth of mail requests), somewhere in the run.
    const graphWindow = (async () => {
      await sleep(between(2_000, 15_000));
      const rules = await Promise.all(
        ([429, 503] as const).map((status) =>
          endpoints.admin.addFault({
            tenantId: demoProfile.tenantId,
            endpoint: 'messages.*',
            status,
            retryAfterSeconds: 1,
            probability: 0.1,
          }),
        ),
      );
      await sleep(graphFaultMs);
      await Promise.all(rules.map((rule) => endpoints.admin.removeFault(rule.id)));
    })();

    // The kills: the broker, the store and one service first (random order), then random kinds.
    const kinds: FaultKind[] = ['kafka', 'ferretdb', order[between(0, order.length)] ?? 'interaction-router'];
    for (let i = kinds.length - 1; i > 0; i -= 1) {
      const j = between(0, i + 1);
      [kinds[i], kinds[j]] = [kinds[j] as FaultKind, kinds[i] as FaultKind];
    }
    while (kinds.length < faultCount)
      kinds.push((['kafka', 'ferretdb', ...order] as FaultKind[])[between(0, order.length + 2)] ?? 'kafka');
    for (const kind of kinds.slice(0, faultCount)) {
      await sleep(between(3_000, 10_000));
      const downMs = between(500, 5_000);
      faults.push({ kind, downMs });
      if (kind === 'kafka') {
        await kafka?.kill();
        await sleep(downMs);
        await kafka?.restart();
      } else if (kind === 'ferretdb') {
        await ferret?.kill();
        await sleep(downMs);
        await ferret?.restart();
      } else {
        await running.get(kind)?.stop('SIGKILL');
        await sleep(downMs);
        await startService(kind);
      }
    }
    await Promise.all([deliveries, graphWindow]);

    // Settling: every e-mail an interaction, every open one replied and completed, every e-mail read.
    const originals = delivered.length;
    const settled = await waitFor(
      async () => {
        const interactions = await interactionsTagged(tag);
        if (interactions.length < originals) return undefined;
        const open = interactions.filter(
          (interaction) =>
            interaction.state !== InteractionState.INTERACTION_STATE_COMPLETED &&
            interaction.state !== InteractionState.INTERACTION_STATE_MERGED,
        );
        if (open.length > 0) return undefined;
        return interactions;
      },
      { timeoutMs: settleMs, intervalMs: 1_000, description: 'every interaction completed or merged' },
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
        `${String(error)}: ${found.length} of ${originals} e-mails are interactions, states ${JSON.stringify(states)}, agents ${JSON.stringify([...stats])}; ${describeRun()}`,
        { cause: error },
      );
    });

    // Every e-mail exactly one interaction.
    expect(settled.map((interaction) => interaction.internetMessageId).sort()).toEqual(
      delivered.map((entry) => entry.internetMessageId).sort(),
    );

    // Every interaction that is not merged: exactly one reply in Sent Items (the agents put its id in the body); merged ones none.
    const sent = (
      await Promise.all(routed.map(async (mailbox) => (await endpoints.admin.sent(demoProfile.tenantId, mailbox)).value))
    ).flat();
    const repliesOf = (interactionId: string) => sent.filter((record) => record.body.content.includes(`[${interactionId}]`));
    expect(
      settled.map((interaction) => ({
        id: interaction.interactionId,
        state: InteractionState[interaction.state],
        replies: repliesOf(interaction.interactionId).length,
      })),
    ).toEqual(
      settled.map((interaction) => ({
        id: interaction.interactionId,
        state: InteractionState[interaction.state],
        replies: interaction.state === InteractionState.INTERACTION_STATE_MERGED ? 0 : 1,
      })),
    );

    // No send that went out is FAILED.
    const sends = createGrpcClient(OutboundSendServiceDefinition, address('outbound-send'), { deadlineMs: 15_000 });
    try {
      const ours = sent.filter(
        (record) =>
          record.body.content.includes(tag) ||
          settled.some((interaction) => record.body.content.includes(`[${interaction.interactionId}]`)),
      );
      const states = await Promise.all(
        ours.map(async (record) => {
          const sendId =
            record.internetMessageHeaders.find((header) => header.name.toLowerCase() === 'x-mailroute-send-id')?.value ?? '';
          const { send } = await sends.client.getSendStatus(
            { key: { $case: 'sendId', value: sendId } },
            { metadata: tenant.metadata() },
          );
          return { sendId, state: SendState[send?.state ?? SendState.SEND_STATE_UNSPECIFIED] };
        }),
      );
      expect(states.filter((entry) => entry.state === 'SEND_STATE_FAILED')).toEqual([]);
    } finally {
      sends.close();
    }

    // Every e-mail marked read (the default post-processing), wherever it is.
    await waitFor(
      async () => {
        const inbox = (
          await Promise.all(
            routed.map(async (mailbox) => (await endpoints.admin.folderMessages(demoProfile.tenantId, mailbox, 'inbox')).value),
          )
        ).flat();
        const unread = delivered.filter((entry) =>
          inbox.some((message) => message.internetMessageId === entry.internetMessageId && !message.isRead),
        );
        return unread.length === 0 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, description: 'every delivered e-mail marked read' },
    ).catch(async (error: unknown) => {
      const inbox = (
        await Promise.all(
          routed.map(async (mailbox) => (await endpoints.admin.folderMessages(demoProfile.tenantId, mailbox, 'inbox')).value),
        )
      ).flat();
      const unread = delivered
        .filter((entry) => inbox.some((message) => message.internetMessageId === entry.internetMessageId && !message.isRead))
        .map((entry) => entry.subject);
      throw new Error(`${String(error)}: still unread ${JSON.stringify(unread)}; ${describeRun()}`, { cause: error });
    });

    // No agent over capacity, no duplicate offer.
    for (const [agentId, agentStats] of stats) {
      expect({ agentId, maxHeld: agentStats.maxHeld <= capacity, duplicateOffers: agentStats.duplicateOffers }).toEqual({
        agentId,
        maxHeld: true,
        duplicateOffers: [],
      });
    }

    if (process.env['CHAOS_TEST_REPORT'] === '1') {
      console.log(
        JSON.stringify(
          {
            seed,
            emails: delivered.length,
            followUps: delivered.filter((entry) => entry.followUpOf).length,
            interactions: settled.length,
            merged: settled.filter((interaction) => interaction.state === InteractionState.INTERACTION_STATE_MERGED).length,
            faults,
            agents: Object.fromEntries(stats),
          },
          null,
          2,
        ),
      );
    }
    agentsStop.abort();
    await Promise.allSettled(agentTasks);
  }, 600_000);
});

/** One Reply call: the body names the interaction (`[id]`), so Sent Items can be matched to interactions. */
async function replyOnce(desktop: AgentDesktopServiceClient, interactionId: string, signal: AbortSignal): Promise<void> {
  try {
    await desktop.reply(
      {
        idempotencyKey: `chaos-${interactionId}`,
        interactionId,
        replyToGraphMessageId: '',
        mode: ReplyMode.REPLY_MODE_REPLY,
        content: OutgoingMessage.fromPartial({ bodyHtml: `<p>Answer [${interactionId}]</p>` }),
        completeAfterSend: true,
      },
      { signal },
    );
  } catch (error) {
    if (error instanceof ClientError && error.code === Status.OK) return;
    throw error;
  }
}
