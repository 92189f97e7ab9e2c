import { events } from '@mailroute/messaging';
import {
  MessageTemplate,
  OutboundRequest,
  ReplyRequest,
  SendState,
  TemplateKind,
  type Agent,
  type Queue,
} from '@mailroute/contracts';
import { FailedPreconditionError, IdempotencyKeyReusedError, NotFoundError } from '@mailroute/platform';
import { createTestCore, type TestCore } from '../../test/router-core.fixture';
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

  it('refuses to answer an auto-reply or a bounce (a mail loop)', async () => {
    const looping = createTestCore();
    await looping.assignedToAlice('i1', { automation: { autoReply: true } });
    const replies = createAgentReplies({ core: looping.core, stores: looping.stores });
    await expect(replies.reply(alice, request())).rejects.toBeInstanceOf(FailedPreconditionError);
    expect(await looping.stores.sends.list({ prefix: '', limit: 10 })).toEqual([]);
    await looping.close();
  });
});
