import { InteractionState } from '@mailroute/contracts';
import { createTestCore, subjectRule, type TestCore } from '../../test/router-core.fixture';
import { conversationKey, threadPrefix } from '../store/router-keys';

const S = InteractionState;

describe('intake', () => {
  let t: TestCore;
  beforeEach(async () => {
    t = createTestCore();
    await t.addQueue('t1', 'billing');
    await t.addRule('t1', 'invoices', subjectRule('invoice', 'billing', 300));
  });
  afterEach(() => t.close());

  it('records the e-mail, keeps its message on the thread and routes it by the rules, then wakes planning', async () => {
    const woken: string[] = [];
    t.core.onWork((tenantId) => woken.push(tenantId));
    await t.core.intake(t.inbound({ tenantId: 't1', interactionId: 'i1', message: { subject: 'Invoice 42' } as never }));
    expect(await t.stores.interactions.get('t1', 'i1')).toMatchObject({
      state: S.INTERACTION_STATE_QUEUED,
      queueId: 'billing',
      priority: 300,
      matchedRuleId: 'invoices',
      tags: ['invoice'],
    });
    expect(await t.stores.messages.list({ prefix: threadPrefix('t1', 'i1'), limit: 10 })).toHaveLength(1);
    expect(t.bus.stateChanges().map((e) => e.state)).toEqual([S.INTERACTION_STATE_RECEIVED, S.INTERACTION_STATE_QUEUED]);
    expect(woken).toEqual(['t1']);
  });

  it('leaves an e-mail no rule matches UNROUTED', async () => {
    await t.core.intake(t.inbound({ tenantId: 't1', interactionId: 'i1', message: { subject: 'Hello' } as never }));
    expect((await t.stores.interactions.get('t1', 'i1'))?.state).toBe(S.INTERACTION_STATE_UNROUTED);
  });

  it('changes nothing when the same event is delivered again', async () => {
    const event = t.inbound({ tenantId: 't1', interactionId: 'i1', message: { subject: 'Invoice 42' } as never });
    await t.core.intake(event);
    await t.core.intake(event);
    expect(await t.stores.interactions.history('t1', 'i1', 0, 10)).toHaveLength(2);
    expect(t.bus.stateChanges()).toHaveLength(2);
  });

  it('reads the conversation once: the routing commit opens it with what threading read', async () => {
    const reads = jest.spyOn(t.stores.conversations, 'get');
    await t.core.intake(
      t.inbound({ tenantId: 't1', interactionId: 'i1', message: { subject: 'Invoice 42', conversationId: 'conv-1' } as never }),
    );
    expect(reads).toHaveBeenCalledTimes(1);
    expect(await t.stores.conversations.get(conversationKey('t1', 'conv-1'))).toEqual({ openInteractionId: 'i1' });
  });

  it('merges a message of a conversation with an open interaction into it', async () => {
    const message = { subject: 'Invoice 42', conversationId: 'conv-1' };
    await t.core.intake(
      t.inbound({ tenantId: 't1', interactionId: 'i1', message: { ...message, graphMessageId: 'g1' } as never }),
    );
    t.advance(60_000);
    await t.core.intake(
      t.inbound({
        tenantId: 't1',
        interactionId: 'i2',
        message: { ...message, graphMessageId: 'g2', subject: 'RE: Invoice 42' } as never,
      }),
    );
    expect((await t.stores.interactions.get('t1', 'i2'))?.state).toBe(S.INTERACTION_STATE_MERGED);
    expect(await t.stores.interactions.get('t1', 'i1')).toMatchObject({
      state: S.INTERACTION_STATE_QUEUED,
      inboundMessageCount: 2,
    });
    expect(await t.stores.messages.list({ prefix: threadPrefix('t1', 'i1'), limit: 10 })).toHaveLength(2);
  });

  it('refuses an event without its tenant, interaction or mailbox (INVALID_ARGUMENT naming the field)', async () => {
    await expect(t.core.intake(t.inbound({ tenantId: '', interactionId: 'i1' }))).rejects.toMatchObject({ field: 'tenant_id' });
    await expect(t.core.intake(t.inbound({ tenantId: 't1', interactionId: '' }))).rejects.toMatchObject({
      field: 'interaction_id',
    });
    await expect(t.core.intake(t.inbound({ tenantId: 't1', interactionId: 'i1', mailboxId: '' }))).rejects.toMatchObject({
      field: 'mailbox_id',
    });
  });
});
