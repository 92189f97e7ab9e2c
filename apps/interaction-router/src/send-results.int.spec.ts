import { randomUUID } from 'node:crypto';
import {
  ActorKind,
  InteractionState,
  OutboundResult,
  SendFailureReason,
  SendKind,
  SendOrigin,
  SendState,
  StateChangeReason,
  type AgentDesktopServiceClient,
  type OutboundRequest,
} from '@mailroute/contracts';
import { eventKey, events, toEventMessage, type Subscription } from '@mailroute/messaging';
import { randomId, testInfra, waitFor } from '@mailroute/testing';
import {
  collectStream,
  createTestIdentityProvider,
  startHarness,
  type Harness,
  watchOutboundRequests,
} from '../test/router-harness';

const collect = collectStream;

const slow = { timeoutMs: 60_000, intervalMs: 100 };

/** OutboundResult events (as outbound-send publishes them) flowing back into the router over real Kafka. */
describe('interaction-router: outbound results', () => {
  const tenant = randomId('tenant-send');
  const directory = randomId('dir-send');
  let idp: Awaited<ReturnType<typeof createTestIdentityProvider>>;
  let harness: Harness;
  let outbound: Subscription;
  let requests: OutboundRequest[] = [];
  let desktop: AgentDesktopServiceClient;
  let stream: ReturnType<typeof collect>;
  const abort = new AbortController();

  beforeAll(async () => {
    idp = await createTestIdentityProvider(new Map([[directory, tenant]]));
    harness = await startHarness({ infra: testInfra(), replicas: 1, tenants: [tenant], verifier: idp.verifier });
    const watch = await watchOutboundRequests(harness, tenant);
    outbound = watch.subscription;
    requests = watch.requests;
    const admin = harness.admin(tenant);
    await admin.createQueue({ queueId: 'support', queue: { displayName: 'Support', offerTimeout: { seconds: 60, nanos: 0 } } });
    await admin.createAgent({
      agentId: 'sam',
      agent: { displayName: 'Sam', entraObjectId: 'oid-sam', queueIds: ['support'], capacity: 5, skills: [] },
    });
    const token = await idp.token(directory, 'oid-sam');
    desktop = harness.desktop(token);
    stream = collect(harness.desktop(token).connect({ clientInstanceId: 'desk-1' }, { signal: abort.signal }));
    await waitFor(() => stream.of('snapshot').length === 1, slow);
    // A consumer group that starts at the latest offset skips what is published before its first
    // fetch, which may come well after its partitions are assigned on a loaded machine: re-publish a
    // probe result (idempotent) until the router has recorded it.
    const probe = await reply(await assignedInteraction(), false);
    await waitFor(
      async () => {
        await publishResult(probe, SendState.SEND_STATE_RETRYING, { attempts: 1 });
        const thread = (await desktop.listMyInteractionMessages({ interactionId: probe.interactionId })).messages;
        return thread.some((m) => m.message?.$case === 'outbound' && m.message.value.sendState === SendState.SEND_STATE_RETRYING);
      },
      { timeoutMs: 150_000, intervalMs: 2_000 },
    );
  }, 240_000);

  afterAll(async () => {
    abort.abort();
    await stream?.done;
    await outbound?.close();
    await harness?.close();
  });

  /** An interaction routed, offered on the stream and accepted by Sam. */
  async function assignedInteraction(): Promise<string> {
    const interactionId = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId,
      defaultQueueId: 'support',
      message: {
        subject: `Help ${interactionId}`,
        conversationId: `conv-${interactionId}`,
        graphMessageId: `g-${interactionId}`,
      } as never,
    });
    const offer = await waitFor(
      () =>
        stream.of('offer').find((m) => m.event?.$case === 'offer' && m.event.value.interaction?.interactionId === interactionId),
      slow,
    );
    if (offer.event?.$case !== 'offer') throw new Error('not an offer');
    await desktop.accept({ offerId: offer.event.value.offerId });
    return interactionId;
  }

  async function reply(interactionId: string, completeAfterSend: boolean): Promise<OutboundRequest> {
    const { sendId } = await desktop.reply({
      idempotencyKey: randomUUID(),
      interactionId,
      content: { subject: '', bodyText: 'Done.', bodyHtml: '', to: [], cc: [], bcc: [], attachments: [], importance: 0 },
      mode: 0,
      replyToGraphMessageId: '',
      completeAfterSend,
    });
    return waitFor(() => requests.find((r) => r.sendId === sendId), slow);
  }

  /** Publishes a result for `request` exactly as outbound-send would. */
  async function publishResult(
    request: OutboundRequest,
    state: SendState,
    fields: Parameters<typeof OutboundResult.fromPartial>[0] = {},
  ): Promise<void> {
    const result = OutboundResult.fromPartial({
      eventId: randomUUID(),
      tenantId: request.tenantId,
      occurredAt: new Date(),
      sendId: request.sendId,
      idempotencyKey: request.idempotencyKey,
      origin: SendOrigin.SEND_ORIGIN_AGENT,
      kind: SendKind.SEND_KIND_REPLY,
      interactionId: request.interactionId,
      mailboxId: request.mailboxId,
      state,
      requestedBy: request.requestedBy,
      ...fields,
    });
    await harness.bus.publish(
      events.outboundResult.topic,
      toEventMessage('outboundResult', eventKey(result.tenantId, result.mailboxId), result),
    );
  }

  const sendResults = (sendId: string) =>
    stream
      .of('sendResult')
      .flatMap((m) => (m.event?.$case === 'sendResult' && m.event.value.sendId === sendId ? [m.event.value] : []));
  const interaction = async (interactionId: string) =>
    (await harness.admin(tenant).getInteraction({ interactionId })).interaction;

  it('records RETRYING then SENT: REPLIED once, the sent message on the thread, the result on the stream; a redelivery changes nothing', async () => {
    const interactionId = await assignedInteraction();
    const request = await reply(interactionId, false);
    await publishResult(request, SendState.SEND_STATE_RETRYING, {
      attempts: 1,
      failure: {
        reason: SendFailureReason.SEND_FAILURE_REASON_TRANSIENT,
        message: 'Graph answered 503',
        graphErrorCode: '',
        httpStatus: 503,
        graphRequestId: 'req-1',
      },
    });
    await waitFor(() => sendResults(request.sendId).some((r) => r.state === SendState.SEND_STATE_RETRYING), slow);
    const sent = {
      graphMessageId: 'sent-graph-id-1',
      internetMessageId: '<sent-1@contoso.test>',
      conversationId: `conv-${interactionId}`,
      sentAt: new Date(),
    };
    await publishResult(request, SendState.SEND_STATE_SENT, { attempts: 2, sent });

    const replied = await waitFor(async () => {
      const got = await interaction(interactionId);
      return got?.state === InteractionState.INTERACTION_STATE_REPLIED ? got : undefined;
    }, slow);
    expect(replied.replyCount).toBe(1);
    expect(replied.firstRepliedAt).toBeDefined();
    const onStream = await waitFor(() => sendResults(request.sendId).find((r) => r.state === SendState.SEND_STATE_SENT), slow);
    expect(onStream.sent?.graphMessageId).toBe('sent-graph-id-1');
    expect(onStream.idempotencyKey).toBe(request.idempotencyKey);

    const thread = await waitFor(async () => {
      const messages = (await desktop.listMyInteractionMessages({ interactionId })).messages;
      const out = messages.flatMap((m) => (m.message?.$case === 'outbound' ? [m.message.value] : []));
      return out[0]?.sendState === SendState.SEND_STATE_SENT ? out : undefined;
    }, slow);
    expect(thread).toHaveLength(1);
    expect(thread[0]?.sent?.graphMessageId).toBe('sent-graph-id-1');

    // Redelivered SENT (twice) and a late RETRYING: nothing moves.
    await publishResult(request, SendState.SEND_STATE_SENT, { attempts: 2, sent });
    await publishResult(request, SendState.SEND_STATE_RETRYING, { attempts: 1 });
    await publishResult(request, SendState.SEND_STATE_SENT, { attempts: 2, sent });
    // A marker result published after them on the same key (same partition) tells when they were consumed.
    const marker = await reply(interactionId, false);
    await publishResult(marker, SendState.SEND_STATE_FAILED, {
      attempts: 1,
      failure: {
        reason: SendFailureReason.SEND_FAILURE_REASON_INVALID_RECIPIENT,
        message: 'rejected',
        graphErrorCode: 'ErrorInvalidRecipients',
        httpStatus: 400,
        graphRequestId: '',
      },
    });
    await waitFor(async () => {
      const messages = (await desktop.listMyInteractionMessages({ interactionId })).messages;
      return messages.some(
        (m) =>
          m.message?.$case === 'outbound' &&
          m.message.value.sendId === marker.sendId &&
          m.message.value.sendState === SendState.SEND_STATE_FAILED,
      );
    }, slow);
    const after = await interaction(interactionId);
    expect(after?.version).toBe(replied.version);
    expect(after?.replyCount).toBe(1);
    const history = await harness.admin(tenant).listInteractionHistory({ interactionId });
    expect(history.entries.filter((e) => e.reason === StateChangeReason.STATE_CHANGE_REASON_REPLIED)).toHaveLength(1);
    const stored = (await desktop.listMyInteractionMessages({ interactionId })).messages.flatMap((m) =>
      m.message?.$case === 'outbound' ? [m.message.value] : [],
    );
    expect(stored.find((m) => m.sendId === request.sendId)?.sendState).toBe(SendState.SEND_STATE_SENT);
  });

  it('completes the interaction after a SENT reply that asked for it, freeing the agent', async () => {
    const interactionId = await assignedInteraction();
    const request = await reply(interactionId, true);
    expect(request.completeAfterSend).toBe(true);
    expect((await interaction(interactionId))?.state).toBe(InteractionState.INTERACTION_STATE_ASSIGNED);
    await publishResult(request, SendState.SEND_STATE_SENT, {
      attempts: 1,
      sent: { graphMessageId: 'sent-2', internetMessageId: '', conversationId: '', sentAt: new Date() },
    });
    const done = await waitFor(async () => {
      const got = await interaction(interactionId);
      return got?.state === InteractionState.INTERACTION_STATE_COMPLETED ? got : undefined;
    }, slow);
    expect(done.replyCount).toBe(1);
    expect(done.agentId).toBe('sam');
    await waitFor(
      () =>
        stream
          .of('assignmentEnded')
          .some((m) => m.event?.$case === 'assignmentEnded' && m.event.value.interactionId === interactionId),
      slow,
    );
    // The slot is freed after the completion is committed and published: wait for it rather than race it.
    await waitFor(
      async () =>
        !(await harness.stores.slots.list({ prefix: `${tenant}/sam/`, limit: 100 })).some(
          (s) => s.document.interactionId === interactionId,
        ),
      slow,
    );
    const history = (await harness.admin(tenant).listInteractionHistory({ interactionId })).entries.map((e) => e.reason);
    expect(history.slice(-2)).toEqual([
      StateChangeReason.STATE_CHANGE_REASON_REPLIED,
      StateChangeReason.STATE_CHANGE_REASON_COMPLETED,
    ]);
  });

  it('shows a FAILED send with its reason on the stream and the thread; the interaction stays with the agent', async () => {
    const interactionId = await assignedInteraction();
    const request = await reply(interactionId, true);
    await publishResult(request, SendState.SEND_STATE_FAILED, {
      attempts: 3,
      failure: {
        reason: SendFailureReason.SEND_FAILURE_REASON_MAILBOX_OUTSIDE_ACCESS_POLICY,
        message: 'The mailbox is outside the application access policy.',
        graphErrorCode: 'ErrorAccessDenied',
        httpStatus: 403,
        graphRequestId: 'req-9',
      },
    });
    const failed = await waitFor(() => sendResults(request.sendId).find((r) => r.state === SendState.SEND_STATE_FAILED), slow);
    expect(failed.failure?.reason).toBe(SendFailureReason.SEND_FAILURE_REASON_MAILBOX_OUTSIDE_ACCESS_POLICY);
    const thread = await waitFor(async () => {
      const out = (await desktop.listMyInteractionMessages({ interactionId })).messages.flatMap((m) =>
        m.message?.$case === 'outbound' ? [m.message.value] : [],
      );
      return out[0]?.sendState === SendState.SEND_STATE_FAILED ? out[0] : undefined;
    }, slow);
    expect(thread.failure?.graphErrorCode).toBe('ErrorAccessDenied');
    // A final state is never followed by another: a stray SENT afterwards changes nothing.
    await publishResult(request, SendState.SEND_STATE_SENT, { attempts: 4 });
    const marker = await reply(interactionId, false);
    await publishResult(marker, SendState.SEND_STATE_RETRYING, { attempts: 1 });
    await waitFor(() => sendResults(marker.sendId).length > 0, slow);
    await waitFor(async () => {
      const out = (await desktop.listMyInteractionMessages({ interactionId })).messages.flatMap((m) =>
        m.message?.$case === 'outbound' ? [m.message.value] : [],
      );
      return out.find((m) => m.sendId === marker.sendId)?.sendState === SendState.SEND_STATE_RETRYING;
    }, slow);
    const after = await interaction(interactionId);
    expect(after?.state).toBe(InteractionState.INTERACTION_STATE_ASSIGNED);
    expect(after?.replyCount).toBe(0);
    expect(requests.find((r) => r.sendId === request.sendId)?.requestedBy?.kind).toBe(ActorKind.ACTOR_KIND_AGENT);
  });
});
