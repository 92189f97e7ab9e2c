import { randomUUID } from 'node:crypto';
import { InteractionState, OutboundRequest, SendKind, SendState } from '@mailroute/contracts';
import { eventKey, events, fromEventMessage, KafkaEventBus, toEventMessage, type Subscription } from '@mailroute/messaging';
import { randomId, startDedicatedKafka, testInfra, waitFor, type DedicatedKafka } from '@mailroute/testing';
import { startRouterDesk, type RouterDesk } from '../test/router-harness';

const slow = { timeoutMs: 120_000, intervalMs: 250 };

/**
 * A reply the router accepted is a promise (issue 21 item 1): with Kafka down, Reply still answers
 * ACCEPTED at once, and the router itself publishes the OutboundRequest once the broker is back —
 * exactly once, with no retry by the desktop. The broker is this suite's own, so the outage
 * touches no other suite.
 */
describe('interaction-router: replies accepted while Kafka is down', () => {
  const tenant = randomId('tenant-outbox');
  const directory = randomId('dir-outbox');
  let kafka: DedicatedKafka;
  let desk: RouterDesk;

  beforeAll(async () => {
    kafka = await startDedicatedKafka();
    desk = await startRouterDesk({
      tenant,
      directory,
      infra: { kafkaBrokers: [kafka.brokers], mongoUrl: testInfra().mongoUrl },
      queues: [{ queueId: 'support', displayName: 'Support', offerTimeoutSeconds: 120 }],
      agent: { agentId: 'ola', displayName: 'Ola', capacity: 2 },
      relayIntervalMs: 500,
    });
  }, 300_000);

  afterAll(async () => {
    await desk?.close();
    await kafka?.dispose();
  }, 120_000);

  it('answers ACCEPTED (and Complete) without waiting on the broker and publishes the OutboundRequest once, by itself, when the broker is back', async () => {
    const interactionId = randomId('ix');
    // A new consumer group starting at the latest offset skips what was published before its first
    // fetch: publish again (intake is idempotent per interaction id) until the offer shows.
    const offer = await waitFor(
      async () => {
        const found = desk.stream.offers().find((o) => o.interaction?.interactionId === interactionId);
        if (!found)
          await desk.harness.publishInbound({
            tenantId: tenant,
            interactionId,
            defaultQueueId: 'support',
            message: {
              subject: 'Where is my order?',
              conversationId: `conv-${interactionId}`,
              graphMessageId: `g-${interactionId}`,
            } as never,
          });
        return found;
      },
      { timeoutMs: 120_000, intervalMs: 3_000 },
    );
    await desk.desktop.accept({ offerId: offer.offerId });

    await kafka.stop();
    const started = Date.now();
    const answer = await desk.desktop.reply(
      {
        idempotencyKey: randomUUID(),
        interactionId,
        content: { subject: '', bodyText: 'On its way.', bodyHtml: '', to: [], cc: [], bcc: [], attachments: [], importance: 0 },
        mode: 0,
        replyToGraphMessageId: '',
        completeAfterSend: false,
      },
      // Today's Reply waited on the producer's retries (~20 s) and then failed UNAVAILABLE.
      { signal: AbortSignal.timeout(8_000) },
    );
    const answeredInMs = Date.now() - started;
    expect(answer.state).toBe(SendState.SEND_STATE_ACCEPTED);
    expect(answer.sendId).not.toBe('');
    // The promise is in the store: the send and its outbox marker.
    const marker = `${tenant}/${interactionId}/send/${answer.sendId}`;
    expect(await desk.harness.stores.outbox.get(marker)).toMatchObject({ sendKey: expect.stringContaining(tenant) });
    // The thread shows the reply at once.
    const thread = await desk.desktop.listMyInteractionMessages({ interactionId });
    expect(thread.messages.some((m) => m.message?.$case === 'outbound' && m.message.value.sendId === answer.sendId)).toBe(true);

    // Other desktop calls commit in the store and wait on the bus for a bounded time only.
    const completedAt = Date.now();
    const completed = await desk.desktop.complete(
      { interactionId, dispositionCode: 'answered', note: '' },
      { signal: AbortSignal.timeout(8_000) },
    );
    expect(completed.interaction?.state).toBe(InteractionState.INTERACTION_STATE_COMPLETED);
    expect(Date.now() - completedAt).toBeLessThan(8_000);

    await kafka.restart();
    const backAt = Date.now();
    // Everything on the topic from the beginning, in a group of its own, read after the broker is back.
    const watcher = new KafkaEventBus({ brokers: [kafka.brokers], clientId: 'outbox-watch' });
    const seen: OutboundRequest[] = [];
    let subscription: Subscription | undefined;
    try {
      subscription = await watcher.subscribe({
        groupId: randomId('outbox-watch'),
        topics: [events.outboundRequest.topic],
        fromBeginning: true,
        handler: async (message) => {
          const request = fromEventMessage('outboundRequest', message);
          if (request.tenantId === tenant) seen.push(request);
        },
      });
      await waitFor(() => seen.some((r) => r.sendId === answer.sendId), slow);
      process.stdout.write(
        `reply-outbox: Reply answered in ${answeredInMs} ms with the broker down; the request was on the topic ${Date.now() - backAt} ms after the broker was back\n`,
      );
      await waitFor(async () => (await desk.harness.stores.outbox.get(marker)) === undefined, slow);
      // Nothing republishes a send once its marker is gone; a sentinel on the same partition, read
      // after everything published before it, closes the count.
      const sentinel = OutboundRequest.fromPartial({
        eventId: randomUUID(),
        tenantId: tenant,
        sendId: `sentinel-${randomUUID()}`,
        kind: SendKind.SEND_KIND_REPLY,
        interactionId,
        mailboxId: 'support',
      });
      await watcher.publish(
        events.outboundRequest.topic,
        toEventMessage('outboundRequest', eventKey(tenant, 'support'), sentinel),
      );
      await waitFor(() => seen.some((r) => r.sendId === sentinel.sendId), slow);
      expect(seen.filter((r) => r.sendId === answer.sendId)).toHaveLength(1);
      expect(seen.find((r) => r.sendId === answer.sendId)).toMatchObject({
        interactionId,
        kind: SendKind.SEND_KIND_REPLY,
        content: expect.objectContaining({ bodyText: 'On its way.' }),
      });
      expect(answeredInMs).toBeLessThan(8_000);
    } finally {
      await subscription?.close();
      await watcher.close();
    }
  }, 400_000);
});
