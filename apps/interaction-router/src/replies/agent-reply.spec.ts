import { waitFor } from '@mailroute/testing';
import { events } from '@mailroute/messaging';
import {
  ActorKind,
  MailboxSettings,
  OutboundResult,
  MessageTemplate,
  OutboundRequest,
  ReplyRequest,
  SendState,
  SignatureRule,
  SignatureSource,
  TemplateKind,
  type Agent,
  type Queue,
} from '@mailroute/contracts';
import { FailedPreconditionError, IdempotencyKeyReusedError, NotFoundError } from '@mailroute/platform';
import { createTestCore, silentLogger, type TestCore } from '../../test/router-core.fixture';
import { createSendResultHandler } from '../results/send-results';
import { createAgentReplies } from './agent-reply';

const alice = { tenantId: 't1', agentId: 'alice', agentName: 'Alice' };
const request = (patch: Partial<ReplyRequest> = {}) =>
  ReplyRequest.fromPartial({
    idempotencyKey: 'reply-1',
    interactionId: 'i1',
    content: { subject: '', bodyText: 'Paid, thanks', bodyHtml: '', to: [], cc: [] },
    ...patch,
  });

describe('an agent’s reply', () => {
  let t: TestCore;
  beforeEach(async () => {
    t = createTestCore();
    await t.assignedToAlice('i1');
  });
  afterEach(() => t.close());

  it('is ACCEPTED once stored, published as an OutboundRequest, and a retry answers the same send', async () => {
    const replies = createAgentReplies({ core: t.core, stores: t.stores });
    const first = await replies.reply(alice, request());
    expect(first.state).toBe(SendState.SEND_STATE_ACCEPTED);
    const again = await replies.reply(alice, request());
    expect(again.sendId).toBe(first.sendId);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(t.bus.published.filter((p) => p.topic === events.outboundRequest.topic).length).toBeGreaterThanOrEqual(1);
  });

  it('publishes a reply without writing the send again: its marker leaves with the next batch, and a retry then publishes nothing more', async () => {
    const replies = createAgentReplies({ core: t.core, stores: t.stores });
    const sendWrites = jest.spyOn(t.stores.sends, 'put');
    const first = await replies.reply(alice, request());
    const requests = () => t.bus.published.filter((p) => p.topic === events.outboundRequest.topic).length;
    await waitFor(async () => requests() === 1 && (await t.stores.outbox.list({ prefix: '', limit: 10 })).length === 0);
    expect(sendWrites).not.toHaveBeenCalled();
    // A retry of the same key looks for the marker; none, so nothing is published (or indexed) again.
    const markerLook = jest.spyOn(t.stores.outbox, 'get');
    const reindex = jest.spyOn(t.stores.sendIndex, 'insert');
    expect((await replies.reply(alice, request())).sendId).toBe(first.sendId);
    await waitFor(() => markerLook.mock.calls.length > 0);
    await markerLook.mock.results[0]?.value;
    expect(reindex).not.toHaveBeenCalled();
    expect(requests()).toBe(1);
  });

  it('stores no send-id index entry for an agent reply: its result finds the send by agent and idempotency key', async () => {
    const replies = createAgentReplies({ core: t.core, stores: t.stores });
    const { sendId } = await replies.reply(alice, request());
    await waitFor(() => t.bus.published.some((p) => p.topic === events.outboundRequest.topic));
    expect(await t.stores.sendIndex.list({ prefix: '', limit: 10 })).toEqual([]);
    const results = createSendResultHandler({ core: t.core, stores: t.stores, logger: silentLogger });
    const outcome = await results.handle(
      OutboundResult.fromPartial({
        tenantId: 't1',
        sendId,
        idempotencyKey: 'reply-1',
        interactionId: 'i1',
        state: SendState.SEND_STATE_SENT,
        attempts: 1,
        sent: { sentAt: new Date(t.now()) },
        requestedBy: { kind: ActorKind.ACTOR_KIND_AGENT, id: 'alice', displayName: 'Alice' },
      }),
    );
    expect(outcome).not.toBe('unknown-send');
    expect((await t.stores.interactions.get('t1', 'i1'))?.replyCount).toBe(1);
  });

  it('refuses the same idempotency key for other content, and an interaction the agent does not hold', async () => {
    const replies = createAgentReplies({ core: t.core, stores: t.stores });
    await replies.reply(alice, request());
    await expect(
      replies.reply(alice, request({ content: { subject: '', bodyText: 'Not paid', bodyHtml: '', to: [], cc: [] } as never })),
    ).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    await expect(replies.reply({ ...alice, agentId: 'bob' }, request({ idempotencyKey: 'reply-2' }))).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it("carries the agent's signature, else the queue's, rendered for the interaction with markup escaped", async () => {
    const now = t.now();
    const template = (templateId: string, html: string) =>
      t.core.config.write(
        't1',
        'template',
        templateId,
        0,
        MessageTemplate.fromPartial({
          templateId,
          displayName: templateId,
          kind: TemplateKind.TEMPLATE_KIND_SIGNATURE,
          html,
          text: html.replace(/<[^>]+>/g, ''),
        }),
        now,
        now,
      );
    await template('team', '<p>The {{queue_name}} team</p>');
    await template('own', '<p>{{agent_name}}</p>');
    const update = async (kind: 'agent' | 'queue', id: string, patch: Partial<Agent> | Partial<Queue>) => {
      const stored = await t.core.config.get('t1', kind, id);
      await t.core.config.write('t1', kind, id, stored?.version ?? 0, { ...stored?.value, ...patch } as never, now, now);
      t.core.invalidateRules('t1'); // as the admin API does after a write: replies read configuration through its cache
    };
    const replies = createAgentReplies({ core: t.core, stores: t.stores });
    const published = async (idempotencyKey: string) => {
      const { sendId } = await replies.reply(alice, request({ idempotencyKey }));
      const send = (await t.stores.sends.list({ prefix: 't1/alice/', limit: 10 })).find((row) => row.document.sendId === sendId);
      return OutboundRequest.fromJSON(send?.document.request).signature;
    };
    expect(await published('none')).toBeUndefined();
    await update('queue', 'q', { displayName: 'Billing', signatureTemplateId: 'team' });
    expect(await published('queue')).toEqual({ html: '<p>The Billing team</p>', text: 'The Billing team', templateId: 'team' });
    await update('agent', 'alice', { displayName: 'Alice <A>', signatureTemplateId: 'own' });
    expect((await published('agent'))?.html).toBe('<p>Alice &lt;A&gt;</p>');
  });

  it("follows the tenant's signature rule over the agent's, the queue's and the mailbox's signatures", async () => {
    const now = t.now();
    const write = (kind: 'template' | 'queue' | 'agent' | 'mailbox' | 'signatureRule', id: string, value: unknown) =>
      t.core.config
        .get('t1', kind, id)
        .then((stored) =>
          t.core.config.write(
            't1',
            kind,
            id,
            stored?.version ?? 0,
            { ...stored?.value, ...(value as object) } as never,
            now,
            now,
          ),
        )
        .then(() => t.core.invalidateRules('t1')); // as the admin API does: replies read configuration through its cache
    for (const [id, text] of [
      ['own', '{{agent_name}}'],
      ['team', 'The {{queue_name}} team'],
      ['box', 'Sent from {{mailbox_address}}'],
    ] as const)
      await write(
        'template',
        id,
        MessageTemplate.fromPartial({ displayName: id, kind: TemplateKind.TEMPLATE_KIND_SIGNATURE, text }),
      );
    const record = await t.stores.interactions.get('t1', 'i1');
    await write('mailbox', record?.mailboxId ?? '', MailboxSettings.fromPartial({ signatureTemplateId: 'box' }));
    const replies = createAgentReplies({ core: t.core, stores: t.stores });
    const published = async (idempotencyKey: string) => {
      const { sendId } = await replies.reply(alice, request({ idempotencyKey }));
      const send = (await t.stores.sends.list({ prefix: 't1/alice/', limit: 10 })).find((row) => row.document.sendId === sendId);
      return OutboundRequest.fromJSON(send?.document.request).signature;
    };
    // Default rule, nothing but the mailbox's: the mailbox's.
    expect(await published('default-mailbox')).toEqual({
      html: '',
      text: `Sent from ${record?.mailboxAddress}`,
      templateId: 'box',
    });
    await write('queue', 'q', { displayName: 'Billing', signatureTemplateId: 'team' });
    await write('agent', 'alice', { displayName: 'Alice', signatureTemplateId: 'own' });
    const { SIGNATURE_SOURCE_AGENT: AGENT, SIGNATURE_SOURCE_QUEUE: QUEUE, SIGNATURE_SOURCE_MAILBOX: MAILBOX } = SignatureSource;
    const rule = (...parts: SignatureSource[][]) => SignatureRule.fromPartial({ parts: parts.map((sources) => ({ sources })) });
    await write('signatureRule', 'tenant', rule([AGENT], [QUEUE, MAILBOX]));
    expect(await published('agent-then-team')).toEqual({ html: '', text: 'Alice\n\nThe Billing team', templateId: 'own,team' });
    await write('signatureRule', 'tenant', rule([MAILBOX]));
    expect((await published('mailbox-only'))?.templateId).toBe('box');
    await write('signatureRule', 'tenant', rule());
    expect(await published('no-signatures')).toBeUndefined();
  });

  it('refuses to answer an auto-reply or a bounce (a mail loop)', async () => {
    const looping = createTestCore();
    await looping.assignedToAlice('i1', { automation: { autoReply: true } });
    const replies = createAgentReplies({ core: looping.core, stores: looping.stores });
    await expect(replies.reply(alice, request())).rejects.toBeInstanceOf(FailedPreconditionError);
    expect(await looping.stores.sends.list({ prefix: '', limit: 10 })).toEqual([]);
    await looping.close();
  });
});
