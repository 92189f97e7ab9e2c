import { randomUUID } from 'node:crypto';
import { ClientError, Status } from 'nice-grpc';
import { InteractionState, type AgentDesktopServiceClient } from '@mailroute/contracts';
import { events, fromEventMessage, type Subscription } from '@mailroute/messaging';
import { randomId, testInfra, waitFor } from '@mailroute/testing';
import { createTestIdentityProvider, startHarness, type Harness } from '../test/router-harness';

/** Default 60 / 10 to fit the shared CI machine (FerretDB-bound); the acceptance size is ROUTER_TEST_INTERACTIONS=2000 ROUTER_TEST_AGENTS=50. */
const interactions = Number(process.env['ROUTER_TEST_INTERACTIONS'] ?? 60);
const agentCount = Number(process.env['ROUTER_TEST_AGENTS'] ?? 10);
const capacity = 3;
/** Generous waits that grow with the size (FerretDB v1 serializes writes: ~40 per interaction's life). */
const budgetMs = Math.max(180_000, interactions * 400);

describe('two router replicas under load', () => {
  const tenant = randomId('tenant-load');
  const directory = randomId('dir-load');
  let harness: Harness;
  let outbound: Subscription;
  const replied = new Set<string>();

  beforeAll(async () => {
    const idp = await createTestIdentityProvider(new Map([[directory, tenant]]));
    harness = await startHarness({
      infra: testInfra(),
      replicas: 2,
      tenants: [tenant],
      verifier: idp.verifier,
      sessionTtlMs: 8_000,
    });
    (harness as Harness & { idp?: typeof idp }).idp = idp;
    outbound = await harness.bus.subscribe({
      groupId: randomId('outbound-watch'),
      topics: [events.outboundRequest.topic],
      fromBeginning: false,
      handler: async (message) => {
        const request = fromEventMessage('outboundRequest', message);
        if (request.tenantId === tenant) replied.add(request.interactionId);
      },
    });
    await waitFor(() => outbound.assignments().length > 0, { timeoutMs: 60_000 });
  });

  afterAll(async () => {
    await outbound?.close();
    await harness?.close();
  });

  it(
    `assigns each of ${interactions} interactions exactly once to ${agentCount} agents within capacity, surviving the loss of a replica`,
    async () => {
      const idp = (harness as Harness & { idp: Awaited<ReturnType<typeof createTestIdentityProvider>> }).idp;
      const admin = harness.admin(tenant);
      await admin.createQueue({ queueId: 'general', queue: { displayName: 'General', offerTimeout: { seconds: 10, nanos: 0 } } });
      const assignedTo = new Map<string, string[]>();
      const held = new Map<string, number>();
      const completed = new Set<string>();
      let overCapacity = 0;
      let killed = false;
      const stop = new AbortController();

      async function runAgent(index: number): Promise<void> {
        const agentId = `agent-${index}`;
        const token = await idp.token(directory, `oid-${index}`);
        let replica = index % 2;
        /** A desktop acts once per offer id, even when a reconnect's snapshot repeats an offer it is already accepting. */
        const handled = new Set<string>();
        while (!stop.signal.aborted) {
          if (killed) replica = 0;
          const desktop: AgentDesktopServiceClient = harness.desktop(token, replica);
          const connection = new AbortController();
          const onStop = () => connection.abort();
          stop.signal.addEventListener('abort', onStop, { once: true });
          try {
            for await (const message of desktop.connect(
              { clientInstanceId: `desk-${index}-${randomUUID().slice(0, 8)}` },
              { signal: connection.signal },
            )) {
              const offers =
                message.event?.$case === 'offer'
                  ? [message.event.value]
                  : message.event?.$case === 'snapshot'
                    ? message.event.value.pendingOffers
                    : [];
              /** Retries on the surviving replica: accept, reply and complete are idempotent. */
              const call = async <T>(action: (client: AgentDesktopServiceClient) => Promise<T>): Promise<T> => {
                for (let attempt = 0; ; attempt += 1) {
                  try {
                    return await action(attempt === 0 && !killed ? desktop : harness.desktop(token, 0));
                  } catch (error) {
                    if (attempt >= 5 || (error instanceof ClientError && error.code === Status.FAILED_PRECONDITION)) throw error;
                    await new Promise((resolve) => setTimeout(resolve, 300));
                  }
                }
              };
              for (const offer of offers) {
                if (handled.has(offer.offerId)) continue;
                handled.add(offer.offerId);
                void (async () => {
                  const accepted = await call((d) => d.accept({ offerId: offer.offerId })).catch(() => undefined);
                  if (!accepted?.interaction) return;
                  const id = accepted.interaction.interactionId;
                  assignedTo.set(id, [...(assignedTo.get(id) ?? []), agentId]);
                  const now = (held.get(agentId) ?? 0) + 1;
                  held.set(agentId, now);
                  if (now > capacity) overCapacity += 1;
                  await call((d) =>
                    d.reply({
                      idempotencyKey: `r-${id}`,
                      interactionId: id,
                      content: {
                        subject: '',
                        bodyText: 'Thanks!',
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
                    }),
                  );
                  held.set(agentId, (held.get(agentId) ?? 1) - 1);
                  await call((d) => d.complete({ interactionId: id, dispositionCode: 'done', note: '' }));
                  completed.add(id);
                })().catch(() => undefined);
              }
            }
          } catch {
            // stream cut (replica killed or draining): reconnect
          } finally {
            stop.signal.removeEventListener('abort', onStop);
          }
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }

      for (let i = 0; i < agentCount; i += 1) {
        await admin.createAgent({
          agentId: `agent-${i}`,
          agent: { displayName: `Agent ${i}`, entraObjectId: `oid-${i}`, queueIds: ['general'], capacity, skills: [] },
        });
      }
      const agents = Array.from({ length: agentCount }, (_, i) => runAgent(i));

      let maxSlots = 0;
      const slotWatch = setInterval(() => {
        void harness.stores.slots.list({ prefix: `${tenant}/`, limit: 100_000 }).then((slots) => {
          const perAgent = new Map<string, number>();
          for (const slot of slots) {
            const agent = slot.key.split('/')[1] ?? '';
            perAgent.set(agent, (perAgent.get(agent) ?? 0) + 1);
          }
          maxSlots = Math.max(maxSlots, ...perAgent.values(), 0);
        });
      }, 250);

      const started = Date.now();
      const ids = Array.from({ length: interactions }, (_, i) => `ix-${String(i).padStart(5, '0')}`);
      for (let i = 0; i < ids.length; i += 100) {
        await Promise.all(
          ids.slice(i, i + 100).map((interactionId) =>
            harness.publishInbound({
              tenantId: tenant,
              interactionId,
              mailboxId: `mb-${Number(interactionId.slice(3)) % 16}`,
              defaultQueueId: 'general',
              message: {
                subject: `Question ${interactionId}`,
                conversationId: `conv-${interactionId}`,
                graphMessageId: `g-${interactionId}`,
              } as never,
            }),
          ),
        );
      }

      const completedCount = async () => {
        if (process.env['ROUTER_TEST_DEBUG'])
          process.stdout.write(
            `${Date.now() - started} ms completed ${completed.size}, waiting ${(await harness.stores.waiting.list({ prefix: `${tenant}/`, limit: 100_000 })).length} slots ${JSON.stringify((await harness.stores.slots.list({ prefix: `${tenant}/`, limit: 100_000 })).map((x) => x.document.kind[0]).join(''))} offers ${(await harness.stores.offers.list({ prefix: `${tenant}/`, limit: 1000 })).length} sessions ${(await harness.stores.sessions.list({ prefix: `${tenant}/`, limit: 1000 })).filter((x) => Date.now() - x.document.lastSeenAt < 8000 && !x.document.disconnectedAt).length}\n`,
          );
        return completed.size;
      };
      await waitFor(async () => (await completedCount()) >= interactions / 3, { timeoutMs: budgetMs, intervalMs: 500 });
      // Kill replica 1: its consumer, planner and streams stop without draining.
      killed = true;
      const victim = harness.replicas[1]?.server;
      if (!victim) throw new Error('no second replica');
      await victim.runtime.stop();
      await victim.hub.stop();
      await victim.shutdown(0);

      await waitFor(async () => (await completedCount()) === interactions, { timeoutMs: budgetMs * 2, intervalMs: 1_000 });
      const elapsed = Date.now() - started;
      stop.abort();
      clearInterval(slotWatch);
      await Promise.allSettled(agents);

      const twice = [...assignedTo].filter(([, who]) => who.length !== 1);
      expect(twice).toEqual([]);
      expect(assignedTo.size).toBe(interactions);
      expect(overCapacity).toBe(0);
      expect(maxSlots).toBeLessThanOrEqual(capacity);
      await waitFor(() => replied.size === interactions, { timeoutMs: 30_000 });
      // One accepted offer per interaction in the committed history as well.
      const sample = ids.filter((_, i) => i % 20 === 0);
      for (const interactionId of sample) {
        let assignments = 0;
        for (let version = 1; ; version += 1) {
          const entry = await harness.stores.interactions.historyEntry(tenant, interactionId, version);
          if (!entry) break;
          if (entry.state === InteractionState.INTERACTION_STATE_ASSIGNED) assignments += 1;
        }
        expect(assignments).toBe(1);
      }
      process.stdout.write(`two-replicas: ${interactions} interactions, ${agentCount} agents, ${elapsed} ms to complete all\n`);
    },
    budgetMs * 3 + 60_000,
  );
});
