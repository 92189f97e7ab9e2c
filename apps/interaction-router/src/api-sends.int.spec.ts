import { randomUUID } from 'node:crypto';
import {
  ActorKind,
  InteractionState,
  OutboundRequest,
  OutboundResult,
  SendKind,
  SendOrigin,
  SendState,
} from '@mailroute/contracts';
import { eventKey, events, toEventMessage } from '@mailroute/messaging';
import { randomId, startDedicatedKafka, testInfra, waitFor, type DedicatedKafka } from '@mailroute/testing';
import { startRouterDesk, type RouterDesk } from '../test/router-harness';

const slow = { timeoutMs: 120_000, intervalMs: 500 };

/**
 * Every send about an interaction is recorded on it, whoever sent it (issue 13 item 1): a reply
 * through outbound-send's API (SendReply with an API key) is published by outbound-send as an
 * OutboundRequest and reported as OutboundResult events, exactly as below; the router counts it
 * (reply count, first reply, REPLIED when an agent holds it) and shows it on the thread. The broker
 * is this suite's own: an outbound-send of another suite on a shared broker would consume these
 * requests too.
 */
describe('interaction-router: sends it did not originate', () => {
  const tenant = randomId('tenant-api-send');
  const directory = randomId('dir-api-send');
  let kafka: DedicatedKafka;
  let desk: RouterDesk;

  beforeAll(async () => {
    kafka = await startDedicatedKafka();
    desk = await startRouterDesk({
      tenant,
      directory,
      infra: { kafkaBrokers: [kafka.brokers], mongoUrl: testInfra().mongoUrl },
      queues: [
        { queueId: 'support', displayName: 'Support', offerTimeoutSeconds: 300 },
        { queueId: 'nobody', displayName: 'Nobody staffs it', offerTimeoutSeconds: 300 },
      ],
      agent: { agentId: 'pia', displayName: 'Pia', capacity: 3 },
    });
  }, 300_000);

  afterAll(async () => {
    await desk?.close();
    await kafka?.dispose();
  }, 120_000);

  /** Publishes an inbound e-mail (again, until it is stored: a new consumer group skips what precedes its first fetch). */
  async function inbound(queueId: string, state: InteractionState): Promise<string> {
    const interactionId = randomId('ix');
    await waitFor(
      async () => {
        const got = await desk.harness.stores.interactions.get(tenant, interactionId);
        if (!got)
          await desk.harness.publishInbound({
            tenantId: tenant,
            interactionId,
            defaultQueueId: queueId,
            message: { subject: 'Help', conversationId: `conv-${interactionId}`, graphMessageId: `g-${interactionId}` } as never,
          });
        return got?.state === state || undefined;
      },
      { timeoutMs: 120_000, intervalMs: 3_000 },
    );
    return interactionId;
  }

  /** A SendReply of the workload-manager API as outbound-send publishes it: request, then results. */
  function apiSend(interactionId: string) {
    const supervisor = { kind: ActorKind.ACTOR_KIND_SUPERVISOR, id: 'key-automation', displayName: '' };
    const request = OutboundRequest.fromPartial({
      eventId: randomUUID(),
      tenantId: tenant,
      occurredAt: new Date(),
      sendId: randomUUID(),
      idempotencyKey: randomUUID(),
      kind: SendKind.SEND_KIND_REPLY,
      interactionId,
      mailboxId: 'support',
      mailboxAddress: 'support@contoso.test',
      replyToGraphMessageId: `g-${interactionId}`,
      content: {
        subject: '',
        bodyText: 'Sent through the API',
        bodyHtml: '',
        to: [],
        cc: [],
        bcc: [],
        attachments: [],
        importance: 0,
      },
      requestedBy: supervisor,
    });
    const result = (state: SendState) =>
      OutboundResult.fromPartial({
        eventId: randomUUID(),
        tenantId: tenant,
        occurredAt: new Date(),
        sendId: request.sendId,
        idempotencyKey: request.idempotencyKey,
        origin: SendOrigin.SEND_ORIGIN_API,
        kind: SendKind.SEND_KIND_REPLY,
        interactionId,
        mailboxId: 'support',
        state,
        attempts: 1,
        requestedBy: supervisor,
        ...(state === SendState.SEND_STATE_SENT
          ? {
              sent: {
                graphMessageId: `sent-${request.sendId}`,
                internetMessageId: '<api@contoso.test>',
                conversationId: `conv-${interactionId}`,
                sentAt: new Date(),
              },
            }
          : {}),
      });
    const key = eventKey(tenant, 'support');
    return {
      request,
      publishRequest: () =>
        desk.harness.bus.publish(events.outboundRequest.topic, toEventMessage('outboundRequest', key, request)),
      publishResult: (state: SendState) =>
        desk.harness.bus.publish(events.outboundResult.topic, toEventMessage('outboundResult', key, result(state))),
    };
  }

  async function outboundOnThread(interactionId: string, sendId: string) {
    const thread = (await desk.harness.admin(tenant).listInteractionMessages({ interactionId })).messages;
    const found = thread.find((m) => m.message?.$case === 'outbound' && m.message.value.sendId === sendId);
    return found?.message?.$case === 'outbound' ? found.message.value : undefined;
  }

  it('counts an API reply on a waiting interaction and shows it on the thread, with its content and state', async () => {
    const interactionId = await inbound('nobody', InteractionState.INTERACTION_STATE_QUEUED);
    const send = apiSend(interactionId);
    await send.publishRequest();
    await send.publishResult(SendState.SEND_STATE_SENT);
    const counted = await waitFor(async () => {
      const got = (await desk.harness.admin(tenant).getInteraction({ interactionId })).interaction;
      return got && got.replyCount === 1 ? got : undefined;
    }, slow);
    expect(counted.state).toBe(InteractionState.INTERACTION_STATE_QUEUED);
    expect(counted.firstRepliedAt).toBeDefined();
    const shown = await waitFor(async () => {
      const message = await outboundOnThread(interactionId, send.request.sendId);
      return message?.content?.bodyText && message.sendState === SendState.SEND_STATE_SENT ? message : undefined;
    }, slow);
    expect(shown).toMatchObject({
      content: expect.objectContaining({ bodyText: 'Sent through the API' }),
      sentBy: expect.objectContaining({ kind: ActorKind.ACTOR_KIND_SUPERVISOR }),
    });
  }, 300_000);

  it('makes an agent-held interaction REPLIED by an API reply whose result arrives before its request, once on a redelivery', async () => {
    const interactionId = randomId('ix');
    const offer = await waitFor(
      async () => {
        const found = desk.stream.offers().find((o) => o.interaction?.interactionId === interactionId);
        if (!found)
          await desk.harness.publishInbound({
            tenantId: tenant,
            interactionId,
            defaultQueueId: 'support',
            message: { subject: 'Help', conversationId: `conv-${interactionId}`, graphMessageId: `g-${interactionId}` } as never,
          });
        return found;
      },
      { timeoutMs: 120_000, intervalMs: 3_000 },
    );
    await desk.desktop.accept({ offerId: offer.offerId });
    const send = apiSend(interactionId);
    await send.publishResult(SendState.SEND_STATE_SENT);
    const replied = await waitFor(async () => {
      const got = (await desk.desktop.getMyInteraction({ interactionId })).interaction;
      return got?.state === InteractionState.INTERACTION_STATE_REPLIED ? got : undefined;
    }, slow);
    expect(replied.replyCount).toBe(1);
    await send.publishRequest();
    await send.publishResult(SendState.SEND_STATE_SENT); // a redelivery
    const shown = await waitFor(async () => {
      const message = await outboundOnThread(interactionId, send.request.sendId);
      return message?.content?.bodyText ? message : undefined;
    }, slow);
    expect(shown.sendState).toBe(SendState.SEND_STATE_SENT);
    // The agent sees the reply on the thread before replying again.
    expect(
      (await desk.desktop.listMyInteractionMessages({ interactionId })).messages.filter((m) => m.message?.$case === 'outbound'),
    ).toHaveLength(1);
    expect((await desk.desktop.getMyInteraction({ interactionId })).interaction?.replyCount).toBe(1);
  }, 300_000);
});
