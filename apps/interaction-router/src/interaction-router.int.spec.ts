import { randomUUID } from 'node:crypto';
import { Status, type ClientError } from 'nice-grpc';
import { AgentPresence, InteractionState, StateChangeReason } from '@mailroute/contracts';
import type { Subscription } from '@mailroute/messaging';
import { randomId, testInfra, waitFor } from '@mailroute/testing';
import {
  collectStream,
  createTestIdentityProvider,
  startHarness,
  type Harness,
  watchOutboundRequests,
} from '../test/router-harness';

const collect = collectStream;
/**
 * Every wait here is on the pipeline (Kafka intake, planning, the desktop stream): it returns as soon
 * as the condition holds, and only a stuck pipeline takes the whole budget. CI runs this on two busy
 * cores, where a consumer rebalance alone can stall intake for a session timeout (10 s).
 */
const slow = { timeoutMs: 90_000 };

describe('interaction-router with real Kafka, FerretDB and gRPC streams', () => {
  const tenant = randomId('tenant-a');
  const directory = randomId('dir-a');
  let idp: Awaited<ReturnType<typeof createTestIdentityProvider>>;
  let harness: Harness;
  let outbound: Subscription;
  let outboundRequests: { tenantId: string; interactionId: string; sendId: string }[] = [];

  beforeAll(async () => {
    idp = await createTestIdentityProvider(new Map([[directory, tenant]]));
    harness = await startHarness({ infra: testInfra(), replicas: 1, tenants: [tenant], verifier: idp.verifier });
    const watch = await watchOutboundRequests(harness, tenant);
    outbound = watch.subscription;
    outboundRequests = watch.requests;
    const admin = harness.admin(tenant);
    await admin.createQueue({ queueId: 'billing', queue: { displayName: 'Billing', offerTimeout: { seconds: 10, nanos: 0 } } });
    await admin.createRoutingRule({
      ruleId: 'invoices',
      rule: {
        displayName: 'Invoices',
        condition: { subjectPatterns: [{ pattern: { $case: 'contains', value: 'invoice' } }] },
        action: {
          action: { $case: 'route', value: { queueId: 'billing', priority: 300, requiredSkills: [], tags: ['invoice'] } },
        },
      },
    });
    await admin.createAgent({
      agentId: 'alice',
      agent: { displayName: 'Alice', entraObjectId: 'oid-alice', queueIds: ['billing'], capacity: 2, skills: [] },
    });
  });

  afterAll(async () => {
    await outbound?.close();
    await harness?.close();
  });

  /**
   * An agent with a queue of its own, whose offers do not lapse during a test. Alice's 'billing' queue
   * collects what earlier tests leave waiting; each of those is offered to whoever signs in and holds
   * a unit of capacity until its 10 s offer timeout, so a test waiting there for its own offer waited
   * one offer timeout or more (10 s of a 20 s budget), depending on the tests before it.
   */
  async function agentOfItsOwn(agentId: string): Promise<{ token: string; queueId: string }> {
    const admin = harness.admin(tenant);
    const queueId = `own-${agentId}`;
    await admin.createQueue({ queueId, queue: { displayName: queueId, offerTimeout: { seconds: 300, nanos: 0 } } });
    await admin.createAgent({
      agentId,
      agent: { displayName: agentId, entraObjectId: `oid-${agentId}`, queueIds: [queueId], capacity: 2, skills: [] },
    });
    return { token: await idp.token(directory, `oid-${agentId}`), queueId };
  }

  it('routes an inbound e-mail by rule, offers it on the agent stream, and sends the reply as an outbound request', async () => {
    const abort = new AbortController();
    const stream = collect(
      harness.desktop(await idp.token(directory, 'oid-alice')).connect({ clientInstanceId: 'tab-1' }, { signal: abort.signal }),
    );
    await waitFor(() => stream.of('snapshot').length === 1, slow);
    const interactionId = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId,
      message: {
        subject: 'Your invoice 42',
        conversationId: `conv-${interactionId}`,
        graphMessageId: 'g1',
        from: { address: 'Carol@Customer.test', name: 'Carol' },
      } as never,
    });
    const offer = await waitFor(
      () =>
        stream.of('offer').find((m) => m.event?.$case === 'offer' && m.event.value.interaction?.interactionId === interactionId),
      slow,
    );
    if (offer.event?.$case !== 'offer') throw new Error('not an offer');
    expect(offer.event.value.interaction?.queueId).toBe('billing');
    expect(offer.event.value.interaction?.tags).toEqual(['invoice']);

    const desktop = harness.desktop(await idp.token(directory, 'oid-alice'));
    const accepted = await desktop.accept({ offerId: offer.event.value.offerId });
    expect(accepted.interaction?.state).toBe(InteractionState.INTERACTION_STATE_ASSIGNED);
    expect((await desktop.accept({ offerId: offer.event.value.offerId })).interaction?.interactionId).toBe(interactionId);
    await waitFor(() => stream.of('assignment').length === 1, slow);

    const key = randomUUID();
    const reply = await desktop.reply({
      idempotencyKey: key,
      interactionId,
      content: {
        subject: '',
        bodyText: 'Paid, thanks',
        bodyHtml: '',
        to: [],
        cc: [],
        bcc: [],
        attachments: [],
        importance: 0,
      } as never,
      mode: 0,
      replyToGraphMessageId: '',
      completeAfterSend: false,
    });
    const again = await desktop.reply({
      idempotencyKey: key,
      interactionId,
      content: {
        subject: '',
        bodyText: 'Paid, thanks',
        bodyHtml: '',
        to: [],
        cc: [],
        bcc: [],
        attachments: [],
        importance: 0,
      } as never,
      mode: 0,
      replyToGraphMessageId: '',
      completeAfterSend: false,
    });
    expect(again.sendId).toBe(reply.sendId);
    await waitFor(() => outboundRequests.some((r) => r.sendId === reply.sendId), slow);
    expect(outboundRequests.filter((r) => r.interactionId === interactionId)).toHaveLength(1);

    const completed = await desktop.complete({ interactionId, dispositionCode: 'resolved', note: '' });
    expect(completed.interaction?.state).toBe(InteractionState.INTERACTION_STATE_COMPLETED);
    await waitFor(() => stream.of('assignmentEnded').length === 1, slow);
    abort.abort();
    await stream.done;
  });

  it("shows a customer's HTML on the thread sanitized, cid: images as attachment references", async () => {
    const interactionId = randomId('ix');
    const bodyHtml =
      '<p onclick="x()">My <i>order</i></p><script>alert(1)</script><img src="https://tracker.example/o.gif"><img src="cid:photo1" alt="photo"><ul><li>mug</li></ul><a href="javascript:alert(1)">x</a>';
    await harness.publishInbound({
      tenantId: tenant,
      interactionId,
      message: {
        subject: 'invoice html',
        conversationId: `conv-${interactionId}`,
        graphMessageId: 'g-in-html',
        hasHtmlBody: true,
        bodyHtml,
      } as never,
    });
    const admin = harness.admin(tenant);
    const [first] = await waitFor(async () => {
      const messages = (await admin.listInteractionMessages({ interactionId }).catch(() => undefined))?.messages ?? [];
      return messages.length > 0 ? messages : undefined;
    }, slow);
    if (first?.message?.$case !== 'inbound') throw new Error('not an inbound message');
    expect(first.message.value.bodyHtmlSanitized).toBe(
      '<p>My <i>order</i></p><img alt="" data-remote-src="https://tracker.example/o.gif" /><img alt="photo" data-cid="photo1" /><ul><li>mug</li></ul><a>x</a>',
    );
    expect(first.message.value.message?.bodyHtml).toBe('');
  });

  it('refuses a reply idempotency key reused for another interaction or other content with ALREADY_EXISTS naming idempotency_key; a retry gets the first send', async () => {
    const abort = new AbortController();
    const { token, queueId } = await agentOfItsOwn('reuse');
    const stream = collect(harness.desktop(token).connect({ clientInstanceId: 'tab-reuse' }, { signal: abort.signal }));
    await waitFor(() => stream.of('snapshot').length === 1, slow);
    const desktop = harness.desktop(token);
    const held: string[] = [];
    for (const n of [1, 2]) {
      const interactionId = randomId('ix');
      await harness.publishInbound({
        tenantId: tenant,
        interactionId,
        defaultQueueId: queueId,
        message: {
          subject: `order reuse ${n}`,
          conversationId: `conv-${interactionId}`,
          graphMessageId: `g-${interactionId}`,
        } as never,
      });
      const offer = await waitFor(() => stream.offers().find((o) => o.interaction?.interactionId === interactionId), slow);
      await desktop.accept({ offerId: offer.offerId });
      held.push(interactionId);
    }
    const [first = '', second = ''] = held;
    const content = { subject: '', bodyText: 'Paid', bodyHtml: '', to: [], cc: [], bcc: [], attachments: [], importance: 0 };
    const request = {
      idempotencyKey: randomUUID(),
      interactionId: first,
      content,
      mode: 0,
      replyToGraphMessageId: '',
      completeAfterSend: false,
    };
    const sent = await desktop.reply(request);
    expect((await desktop.reply(request)).sendId).toBe(sent.sendId);
    const refused = { code: Status.ALREADY_EXISTS, details: expect.stringContaining('idempotency_key') };
    await expect(desktop.reply({ ...request, interactionId: second })).rejects.toMatchObject(refused);
    await expect(desktop.reply({ ...request, content: { ...content, bodyText: 'Not paid' } })).rejects.toMatchObject(refused);
    for (const interactionId of held) await desktop.complete({ interactionId, dispositionCode: 'resolved', note: '' });
    abort.abort();
    await stream.done;
  });

  it("shows an agent's HTML reply on the thread sanitized, as customer mail is", async () => {
    const abort = new AbortController();
    const { token, queueId } = await agentOfItsOwn('html');
    const stream = collect(harness.desktop(token).connect({ clientInstanceId: 'tab-html' }, { signal: abort.signal }));
    await waitFor(() => stream.of('snapshot').length === 1, slow);
    const interactionId = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId,
      defaultQueueId: queueId,
      message: { subject: 'order photo', conversationId: `conv-${interactionId}`, graphMessageId: 'g-html' } as never,
    });
    const offer = await waitFor(
      () =>
        stream.of('offer').find((m) => m.event?.$case === 'offer' && m.event.value.interaction?.interactionId === interactionId),
      slow,
    );
    if (offer.event?.$case !== 'offer') throw new Error('not an offer');
    const desktop = harness.desktop(token);
    await desktop.accept({ offerId: offer.event.value.offerId });
    const bodyHtml =
      '<p onmouseover="steal()">Paid <b>today</b></p><script>alert(1)</script><img src="https://tracker.example/x.gif"><img src="cid:stamp" alt="stamp"><a href="javascript:alert(1)">x</a><div style="font-weight: bold expression(alert(1))">ok</div>';
    await desktop.reply({
      idempotencyKey: randomUUID(),
      interactionId,
      content: {
        subject: '',
        bodyText: 'Paid today',
        bodyHtml,
        to: [],
        cc: [],
        bcc: [],
        attachments: [],
        importance: 0,
      } as never,
      mode: 0,
      replyToGraphMessageId: '',
      completeAfterSend: false,
    });
    const thread = (await harness.admin(tenant).listInteractionMessages({ interactionId })).messages;
    const shown = thread.flatMap((m) => (m.message?.$case === 'outbound' ? [m.message.value.content?.bodyHtml ?? ''] : []));
    expect(shown).toHaveLength(1);
    expect(shown[0]).toContain('<p>Paid <b>today</b></p>');
    expect(shown[0]).toContain('<img alt="stamp" data-cid="stamp" />');
    // The remote image is only held back (data-remote-src, loaded when the agent asks), never a src.
    expect(shown[0]).toContain('<img alt="" data-remote-src="https://tracker.example/x.gif" />');
    expect(shown[0]).not.toMatch(/<script|onmouseover|\ssrc="https?:|javascript:|expression/);
    await desktop.complete({ interactionId, dispositionCode: 'resolved', note: '' });
    abort.abort();
    await stream.done;
  });

  it("ranks a longest-idle queue by when each agent's work last ended, not by when it signed in", async () => {
    const admin = harness.admin(tenant);
    await admin.createQueue({ queueId: 'fair', queue: { displayName: 'Fair', offerTimeout: { seconds: 30, nanos: 0 } } });
    await admin.createAgent({
      agentId: 'bob',
      agent: { displayName: 'Bob', entraObjectId: 'oid-bob', queueIds: ['fair'], capacity: 1, skills: [] },
    });
    await admin.createAgent({
      agentId: 'cy',
      agent: { displayName: 'Cy', entraObjectId: 'oid-cy', queueIds: ['fair'], capacity: 1, skills: [] },
    });
    const abort = new AbortController();
    // Bob signs in first, so before any work he is the longest idle.
    const bob = collect(
      harness.desktop(await idp.token(directory, 'oid-bob')).connect({ clientInstanceId: 'bob-1' }, { signal: abort.signal }),
    );
    await waitFor(() => bob.of('snapshot').length === 1, slow);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const cy = collect(
      harness.desktop(await idp.token(directory, 'oid-cy')).connect({ clientInstanceId: 'cy-1' }, { signal: abort.signal }),
    );
    await waitFor(() => cy.of('snapshot').length === 1, slow);
    const offerOf = (stream: ReturnType<typeof collect>, interactionId: string) =>
      stream.of('offer').find((m) => m.event?.$case === 'offer' && m.event.value.interaction?.interactionId === interactionId);

    const first = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId: first,
      defaultQueueId: 'fair',
      message: { subject: 'first', conversationId: `conv-${first}`, graphMessageId: `g-${first}` } as never,
    });
    const offered = await waitFor(() => offerOf(bob, first) ?? offerOf(cy, first), slow);
    expect(offerOf(bob, first)).toBeDefined();
    if (offered.event?.$case !== 'offer') throw new Error('not an offer');
    const bobDesk = harness.desktop(await idp.token(directory, 'oid-bob'));
    await bobDesk.accept({ offerId: offered.event.value.offerId });
    await bobDesk.complete({ interactionId: first, dispositionCode: 'resolved', note: '' });

    // Bob's work just ended; Cy has been idle since she signed in: the next one is Cy's.
    const second = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId: second,
      defaultQueueId: 'fair',
      message: { subject: 'second', conversationId: `conv-${second}`, graphMessageId: `g-${second}` } as never,
    });
    await waitFor(() => offerOf(bob, second) ?? offerOf(cy, second), slow);
    expect(offerOf(cy, second)).toBeDefined();
    expect(offerOf(bob, second)).toBeUndefined();
    abort.abort();
    await Promise.all([bob.done, cy.done]);
  });

  it('searches by subject across the store order: every match once, page after page', async () => {
    const admin = harness.admin(tenant);
    const prefix = randomId('srch');
    const ids = Array.from({ length: 12 }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
    const needles = new Set(ids.filter((_, i) => i % 3 === 2)); // 4 matches, none among the first two
    await Promise.all(
      ids.map((interactionId) =>
        harness.publishInbound({
          tenantId: tenant,
          interactionId,
          defaultQueueId: 'billing',
          message: {
            subject: needles.has(interactionId) ? `Needle ${prefix}` : `hay ${interactionId}`,
            conversationId: `conv-${interactionId}`,
            graphMessageId: `g-${interactionId}`,
          } as never,
        }),
      ),
    );
    await waitFor(async () => {
      const got = await Promise.all(ids.map((interactionId) => admin.getInteraction({ interactionId }).catch(() => undefined)));
      return got.every(
        (g) =>
          g?.interaction?.state === InteractionState.INTERACTION_STATE_QUEUED ||
          g?.interaction?.state === InteractionState.INTERACTION_STATE_OFFERED,
      );
    }, slow);
    const found: string[] = [];
    let pageToken = '';
    for (let page = 0; page < 10; page += 1) {
      const result = await admin.searchInteractions({
        page: { pageSize: 3, pageToken },
        filter: { subjectContains: `needle ${prefix}` } as never,
        order: 0,
      });
      found.push(...result.interactions.map((i) => i.interactionId));
      // A page is filled with matches, not cut at 3 records of the store's order (which hold one).
      if (page === 0) expect(result.interactions).toHaveLength(3);
      if (!result.nextPageToken) break;
      pageToken = result.nextPageToken;
    }
    expect(found.sort()).toEqual([...needles].sort());
  });

  it('changes nothing when the same inbound event is delivered again', async () => {
    const interactionId = randomId('ix');
    const event = {
      tenantId: tenant,
      interactionId,
      message: { subject: 'invoice question', conversationId: `conv-${interactionId}`, graphMessageId: 'g2' } as never,
    };
    await harness.publishInbound(event);
    const admin = harness.admin(tenant);
    const first = await waitFor(async () => {
      const got = await admin.getInteraction({ interactionId }).catch(() => undefined);
      return got?.interaction?.state === InteractionState.INTERACTION_STATE_QUEUED ? got.interaction : undefined;
    }, slow);
    await harness.publishInbound(event);
    await harness.publishInbound(event);
    // A later event of the same mailbox shares the partition: once it is in, both redeliveries were handled.
    const after = randomId('ix');
    await harness.publishInbound({
      ...event,
      interactionId: after,
      message: { subject: 'invoice after', conversationId: `conv-${after}`, graphMessageId: 'g2-after' } as never,
    });
    await waitFor(async () => (await admin.getInteraction({ interactionId: after }).catch(() => undefined))?.interaction, slow);
    const history = await admin.listInteractionHistory({ interactionId });
    expect(history.entries.map((e) => e.reason)).toEqual([
      StateChangeReason.STATE_CHANGE_REASON_RECEIVED,
      StateChangeReason.STATE_CHANGE_REASON_ROUTED,
    ]);
    expect((await admin.getInteraction({ interactionId })).interaction?.version).toBe(first.version);
  });

  it('threads a customer reply into the open interaction of its conversation', async () => {
    const first = randomId('ix');
    const conversationId = `conv-${first}`;
    const admin = harness.admin(tenant);
    await harness.publishInbound({
      tenantId: tenant,
      interactionId: first,
      message: { subject: 'invoice wrong', conversationId, graphMessageId: 'g3' } as never,
    });
    await waitFor(
      async () =>
        (await admin.getInteraction({ interactionId: first }).catch(() => undefined))?.interaction?.state ===
          InteractionState.INTERACTION_STATE_QUEUED || undefined,
      slow,
    );
    const second = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId: second,
      message: { subject: 'RE: invoice wrong', conversationId, graphMessageId: 'g4' } as never,
    });
    const merged = await waitFor(async () => {
      const got = (await admin.getInteraction({ interactionId: second }).catch(() => undefined))?.interaction;
      return got?.state === InteractionState.INTERACTION_STATE_MERGED ? got : undefined;
    }, slow);
    expect(merged.mergedIntoInteractionId).toBe(first);
    const open = (await admin.getInteraction({ interactionId: first })).interaction;
    expect(open?.inboundMessageCount).toBe(2);
    expect(open?.latestInboundGraphMessageId).toBe('g4');
  });

  it("keeps one offer on the agent's stream when a follow-up merges into an offered interaction, and that offer is accepted", async () => {
    const admin = harness.admin(tenant);
    await admin.createQueue({
      queueId: 'followups',
      queue: { displayName: 'Follow-ups', offerTimeout: { seconds: 300, nanos: 0 } },
    });
    await admin.createAgent({
      agentId: 'dana',
      agent: { displayName: 'Dana', entraObjectId: 'oid-dana', queueIds: ['followups'], capacity: 1, skills: [] },
    });
    const abort = new AbortController();
    const token = await idp.token(directory, 'oid-dana');
    const stream = collect(harness.desktop(token).connect({ clientInstanceId: 'dana-1' }, { signal: abort.signal }));
    await waitFor(() => stream.of('snapshot').length === 1, slow);
    const first = randomId('ix');
    const conversationId = `conv-${first}`;
    await harness.publishInbound({
      tenantId: tenant,
      interactionId: first,
      defaultQueueId: 'followups',
      message: { subject: 'parcel missing', conversationId, graphMessageId: `g-${first}` } as never,
    });
    const offersOf = () => stream.offers().filter((o) => o.interaction?.interactionId === first);
    await waitFor(() => offersOf().length === 1 || undefined, slow);
    const [offer] = offersOf();

    const second = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId: second,
      defaultQueueId: 'followups',
      message: { subject: 'RE: parcel missing', conversationId, graphMessageId: `g-${second}` } as never,
    });
    await waitFor(
      async () => (await admin.getInteraction({ interactionId: first })).interaction?.inboundMessageCount === 2 || undefined,
      slow,
    );
    expect((await admin.getInteraction({ interactionId: first })).interaction).toMatchObject({
      state: InteractionState.INTERACTION_STATE_OFFERED,
      offerId: offer?.offerId,
    });

    // The offer the agent has is still the offer: accepting it works (it failed FAILED_PRECONDITION).
    const accepted = await harness.desktop(token).accept({ offerId: offer?.offerId ?? '' });
    expect(accepted.interaction).toMatchObject({ state: InteractionState.INTERACTION_STATE_ASSIGNED, inboundMessageCount: 2 });
    // The assignment follows the merge's change on the interaction's partition: once it is on the
    // stream, so is anything the merge caused.
    await waitFor(
      () =>
        stream
          .of('assignment')
          .some((m) => m.event?.$case === 'assignment' && m.event.value.interaction?.interactionId === first) || undefined,
      slow,
    );
    expect(offersOf()).toHaveLength(1);
    expect(stream.of('offerRevoked')).toHaveLength(0);
    await harness.desktop(token).complete({ interactionId: first, dispositionCode: 'resolved', note: '' });
    abort.abort();
    await stream.done;
  });

  it('offers an interaction again to the only agent of its queue after that agent declined it, with the passes cleared', async () => {
    const { token, queueId } = await agentOfItsOwn('solo');
    const admin = harness.admin(tenant);
    const abort = new AbortController();
    const stream = collect(harness.desktop(token).connect({ clientInstanceId: 'solo-1' }, { signal: abort.signal }));
    await waitFor(() => stream.of('snapshot').length === 1, slow);
    const interactionId = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId,
      defaultQueueId: queueId,
      message: {
        subject: 'nobody else here',
        conversationId: `conv-${interactionId}`,
        graphMessageId: `g-${interactionId}`,
      } as never,
    });
    const offersOf = () => stream.offers().filter((o) => o.interaction?.interactionId === interactionId);
    const [first] = await waitFor(() => (offersOf().length === 1 ? offersOf() : undefined), slow);
    await harness.desktop(token).decline({ offerId: first?.offerId ?? '', reason: 'not now' });
    // Every open agent of the queue has passed: the pass is set aside and the offer comes again (it waited for good).
    const again = await waitFor(() => offersOf().find((o) => o.offerId !== first?.offerId), slow);
    expect((await admin.getInteraction({ interactionId })).interaction).toMatchObject({
      state: InteractionState.INTERACTION_STATE_OFFERED,
      offerId: again.offerId,
    });
    await harness.desktop(token).accept({ offerId: again.offerId });
    await harness.desktop(token).complete({ interactionId, dispositionCode: 'resolved', note: '' });
    abort.abort();
    await stream.done;
  });

  it("shows every automation flag of every message of the interaction, a follow-up's too", async () => {
    const first = randomId('ix');
    const conversationId = `conv-${first}`;
    const admin = harness.admin(tenant);
    await harness.publishInbound({
      tenantId: tenant,
      interactionId: first,
      message: {
        subject: 'invoice copy',
        conversationId,
        graphMessageId: 'g5',
        automation: { noReplySender: true, autoResponseSuppressed: true },
      } as never,
    });
    const received = await waitFor(async () => {
      const got = (await admin.getInteraction({ interactionId: first }).catch(() => undefined))?.interaction;
      return got?.state === InteractionState.INTERACTION_STATE_QUEUED ? got : undefined;
    }, slow);
    expect(received.automation).toEqual({
      autoReply: false,
      autoGenerated: false,
      bounce: false,
      bulk: false,
      autoResponseSuppressed: true,
      noReplySender: true,
      loopSuspected: false,
    });

    const followUp = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId: followUp,
      message: {
        subject: 'RE: invoice copy',
        conversationId,
        graphMessageId: 'g6',
        automation: { loopSuspected: true, bulk: true },
      } as never,
    });
    const open = await waitFor(async () => {
      const got = (await admin.getInteraction({ interactionId: first })).interaction;
      return got?.inboundMessageCount === 2 ? got : undefined;
    }, slow);
    expect(open.automation).toEqual({
      autoReply: false,
      autoGenerated: false,
      bounce: false,
      bulk: true,
      autoResponseSuppressed: true,
      noReplySender: true,
      loopSuspected: true,
    });
  });

  it("refuses a reply to an automatic follow-up but not to the customer's next message, while the interaction keeps the flag", async () => {
    const abort = new AbortController();
    const { token, queueId } = await agentOfItsOwn('ooo');
    const stream = collect(harness.desktop(token).connect({ clientInstanceId: 'tab-ooo' }, { signal: abort.signal }));
    await waitFor(() => stream.of('snapshot').length === 1, slow);
    const interactionId = randomId('ix');
    const conversationId = `conv-${interactionId}`;
    await harness.publishInbound({
      tenantId: tenant,
      interactionId,
      defaultQueueId: queueId,
      message: { subject: 'order missing', conversationId, graphMessageId: 'g-ooo-1' } as never,
    });
    const offer = await waitFor(
      () =>
        stream.of('offer').find((m) => m.event?.$case === 'offer' && m.event.value.interaction?.interactionId === interactionId),
      slow,
    );
    if (offer.event?.$case !== 'offer') throw new Error('not an offer');
    const desktop = harness.desktop(token);
    await desktop.accept({ offerId: offer.event.value.offerId });
    const admin = harness.admin(tenant);
    const joined = async (count: number) =>
      waitFor(
        async () =>
          (await admin.getInteraction({ interactionId })).interaction?.inboundMessageCount === count ? true : undefined,
        slow,
      );
    const reply = () =>
      desktop.reply({
        idempotencyKey: randomUUID(),
        interactionId,
        content: {
          subject: '',
          bodyText: 'Sent again',
          bodyHtml: '',
          to: [],
          cc: [],
          bcc: [],
          attachments: [],
          importance: 0,
        } as never,
        mode: 0,
        replyToGraphMessageId: '',
        completeAfterSend: false,
      });

    await harness.publishInbound({
      tenantId: tenant,
      interactionId: randomId('ix'),
      message: {
        subject: 'Automatic reply: order missing',
        conversationId,
        graphMessageId: 'g-ooo-2',
        automation: { autoReply: true },
      } as never,
    });
    await joined(2);
    await expect(reply()).rejects.toMatchObject({ code: Status.FAILED_PRECONDITION });

    await harness.publishInbound({
      tenantId: tenant,
      interactionId: randomId('ix'),
      message: { subject: 'RE: order missing', conversationId, graphMessageId: 'g-ooo-3' } as never,
    });
    await joined(3);
    expect((await reply()).sendId).not.toBe('');
    expect((await admin.getInteraction({ interactionId })).interaction?.automation?.autoReply).toBe(true);
    await desktop.complete({ interactionId, dispositionCode: 'resolved', note: '' });
    abort.abort();
    await stream.done;
  });

  it('refuses agent tokens from another directory, audience or issuer', async () => {
    for (const token of [
      await idp.token('other-directory', 'oid-alice'),
      await idp.token(directory, 'oid-alice', { audience: 'someone-else' }),
      await idp.token(directory, 'oid-alice', { issuer: 'https://evil.test/v2.0' }),
      await idp.token(directory, 'oid-alice', { expiresIn: '-10m' }),
    ]) {
      await expect(harness.desktop(token).getMyInteraction({ interactionId: 'x' })).rejects.toMatchObject({
        code: Status.UNAUTHENTICATED,
      });
    }
    await expect(
      harness.desktop(await idp.token(directory, 'oid-nobody')).getMyInteraction({ interactionId: 'x' }),
    ).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
  });

  it("refuses at the call a reply outbound-send would refuse later (CR/LF in cc/bcc, a body over the limit…), naming the field, with outbound-send's own rules", async () => {
    const abort = new AbortController();
    const { token, queueId } = await agentOfItsOwn('checks');
    const stream = collect(harness.desktop(token).connect({ clientInstanceId: 'tab-checks' }, { signal: abort.signal }));
    await waitFor(() => stream.of('snapshot').length === 1, slow);
    const desktop = harness.desktop(token);
    const interactionId = randomId('ix');
    await harness.publishInbound({
      tenantId: tenant,
      interactionId,
      defaultQueueId: queueId,
      message: {
        subject: 'order checks',
        conversationId: `conv-${interactionId}`,
        graphMessageId: `g-${interactionId}`,
      } as never,
    });
    const offer = await waitFor(() => stream.offers().find((o) => o.interaction?.interactionId === interactionId), slow);
    await desktop.accept({ offerId: offer.offerId });
    const content = { subject: '', bodyText: 'Paid', bodyHtml: '', to: [], cc: [], bcc: [], attachments: [], importance: 0 };
    const cases: [Record<string, unknown>, string][] = [
      [{ cc: [{ address: 'ok@customer.test', name: 'Carol\r\nBcc: all@victims.test' }] }, 'content.cc[0].name'],
      [{ bcc: [{ address: 'audit@partner.test\nBcc: x@evil.test', name: '' }] }, 'content.bcc[0].address'],
      [{ cc: [{ address: 'not an address', name: '' }] }, 'content.cc[0].address'],
      [{ bodyHtml: `<p>${'x'.repeat(600_000)}</p>` }, 'content.body_html'],
      [{ bodyText: 'y'.repeat(300_000) }, 'content.body_text'],
      [{ subject: 'Re: x\r\nBcc: all@victims.test' }, 'content.subject'],
    ];
    for (const [change, field] of cases) {
      const error = (await desktop
        .reply({
          idempotencyKey: randomUUID(),
          interactionId,
          content: { ...content, ...change } as never,
          mode: 0,
          replyToGraphMessageId: '',
          completeAfterSend: false,
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        )) as ClientError | undefined;
      expect({ field, code: error?.code }).toEqual({ field, code: Status.INVALID_ARGUMENT });
      expect(error?.details).toContain(field);
    }
    await desktop.complete({ interactionId, dispositionCode: 'resolved', note: '' });
    abort.abort();
    await stream.done;
  });

  it('answers malformed requests with INVALID_ARGUMENT naming the field', async () => {
    const admin = harness.admin(tenant);
    const cases: [() => Promise<unknown>, string][] = [
      [() => admin.createQueue({ queueId: 'Bad Id', queue: { displayName: 'x' } }), 'queue_id'],
      [() => admin.createQueue({ queueId: 'q-empty', queue: { displayName: '' } }), 'queue.display_name'],
      [
        () => admin.createAgent({ agentId: 'bob', agent: { displayName: 'Bob', entraObjectId: 'oid-bob', capacity: 500 } }),
        'agent.capacity',
      ],
      [
        () =>
          admin.createAgent({ agentId: 'bob', agent: { displayName: 'Bob', entraObjectId: 'oid-bob', queueIds: ['missing'] } }),
        'agent.queue_ids[0]',
      ],
      [
        () =>
          admin.createRoutingRule({
            ruleId: 'r-bad',
            rule: {
              displayName: 'bad',
              condition: { subjectPatterns: [{ pattern: { $case: 'regex', value: '(a)\\1' } }] },
              action: { action: { $case: 'route', value: { queueId: 'billing', requiredSkills: [], tags: [] } } },
            },
          }),
        'rule.condition.subject_patterns[0].regex',
      ],
      [() => admin.listQueues({ page: { pageSize: 0, pageToken: 'garbage' } }), 'page_token'],
      [() => admin.updateQueue({ queueId: 'billing', queue: { displayName: 'B' }, updateMask: [] }), 'update_mask'],
      [() => admin.setAgentPresence({ agentId: 'alice', presence: AgentPresence.AGENT_PRESENCE_UNSPECIFIED }), 'presence'],
    ];
    for (const [call, field] of cases) {
      const error = (await call().then(
        () => undefined,
        (e: unknown) => e,
      )) as ClientError | undefined;
      expect({ field, code: error?.code }).toEqual({ field, code: Status.INVALID_ARGUMENT });
      expect(error?.details).toContain(field);
    }
  });
});
