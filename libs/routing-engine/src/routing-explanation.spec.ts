import { InboundMessage, RoutingRule, RuleCondition, type Importance } from '@mailroute/contracts';
import { explainRouting, validateRoutingSample } from './routing-explanation';
import { compileRuleSet, evaluateRules } from './routing-rules';

const sample = (partial: Parameters<typeof InboundMessage.fromPartial>[0] = {}) =>
  InboundMessage.fromPartial({
    from: { address: 'jane@fabrikam.com' },
    subject: 'Invoice 42 is wrong',
    bodyText: 'Please fix it',
    ...partial,
  });

function rule(
  ruleId: string,
  position: number,
  condition: Partial<RuleCondition>,
  action: RoutingRule['action'],
  enabled?: boolean,
): RoutingRule {
  return RoutingRule.fromPartial({
    ruleId,
    displayName: ruleId,
    position,
    condition: RuleCondition.fromPartial(condition),
    action,
    ...(enabled === undefined ? {} : { enabled }),
  });
}
const route = (
  queueId: string,
  extra: { priority?: number; skills?: { skill: string; minLevel: number }[]; tags?: string[] } = {},
): RoutingRule['action'] => ({
  action: {
    $case: 'route',
    value: {
      queueId,
      ...(extra.priority === undefined ? {} : { priority: extra.priority }),
      requiredSkills: extra.skills ?? [],
      tags: extra.tags ?? [],
    },
  },
});

describe('explainRouting', () => {
  const rules = [
    rule('vip', 0, { senderAddresses: ['ceo@northwind.com'] }, route('vip')),
    rule('off', 1, {}, route('nowhere'), false),
    rule('auto', 2, { automated: true }, { action: { $case: 'discard', value: { reason: 'automated' } } }),
    rule(
      'invoices',
      3,
      { subjectPatterns: [{ pattern: { $case: 'contains', value: 'invoice' } }] },
      route('billing', { skills: [{ skill: 'german', minLevel: 2 }], tags: ['invoice'] }),
    ),
    rule('ghost', 4, { subjectPatterns: [{ pattern: { $case: 'contains', value: 'ghost' } }] }, route('deleted-queue')),
  ];
  const set = compileRuleSet(rules);
  const queueSkills = (queueId: string) => (queueId === 'billing' ? [{ skill: 'finance', minLevel: 1 }] : []);
  const exists = (queueId: string) => queueId !== 'deleted-queue';

  it('names the matching rule, its action with the effective priority, the merged skills, and why earlier rules did not match', () => {
    const evaluation = evaluateRules(set, { mailboxId: 'support', message: sample() }, { queueSkills });
    expect(explainRouting(set, evaluation, exists)).toEqual({
      evaluations: [
        { ruleId: 'vip', matched: false, disabled: false, failedCondition: 'sender_addresses' },
        { ruleId: 'off', matched: false, disabled: true, failedCondition: '' },
        { ruleId: 'auto', matched: false, disabled: false, failedCondition: 'automated' },
        { ruleId: 'invoices', matched: true, disabled: false, failedCondition: '' },
      ],
      matchedRuleId: 'invoices',
      outcome: {
        action: {
          $case: 'route',
          value: { queueId: 'billing', priority: 100, requiredSkills: [{ skill: 'german', minLevel: 2 }], tags: ['invoice'] },
        },
      },
      requiredSkills: [
        { skill: 'finance', minLevel: 1 },
        { skill: 'german', minLevel: 2 },
      ],
    });
  });

  it('answers a discard with its reason', () => {
    const evaluation = evaluateRules(set, {
      mailboxId: 'support',
      message: sample({ automation: { autoReply: true } as never }),
    });
    expect(explainRouting(set, evaluation, exists)).toMatchObject({
      matchedRuleId: 'auto',
      outcome: { action: { $case: 'discard', value: { reason: 'automated' } } },
      requiredSkills: [],
    });
  });

  it('routes to the default queue when no rule matches, and leaves the outcome unset without one', () => {
    const message = sample({ subject: 'Hello' });
    const toDefault = explainRouting(
      set,
      evaluateRules(set, { mailboxId: 'support', message }, { defaultQueueId: 'billing', queueSkills }),
      exists,
    );
    expect(toDefault).toMatchObject({
      matchedRuleId: '',
      outcome: { action: { $case: 'route', value: { queueId: 'billing', priority: 100, requiredSkills: [], tags: [] } } },
      requiredSkills: [{ skill: 'finance', minLevel: 1 }],
    });
    expect(toDefault.evaluations.map((e) => e.ruleId)).toEqual(['vip', 'off', 'auto', 'invoices', 'ghost']);
    expect(explainRouting(set, evaluateRules(set, { mailboxId: 'support', message }), exists)).toMatchObject({
      matchedRuleId: '',
      outcome: undefined,
      requiredSkills: [],
    });
  });

  it('names a rule that routes to a missing queue but leaves the outcome unset, as intake leaves it UNROUTED', () => {
    const evaluation = evaluateRules(set, { mailboxId: 'support', message: sample({ subject: 'ghost story' }) });
    expect(explainRouting(set, evaluation, exists)).toMatchObject({
      matchedRuleId: 'ghost',
      outcome: undefined,
      requiredSkills: [],
    });
  });
});

describe('validateRoutingSample', () => {
  const fields = (request: Parameters<typeof validateRoutingSample>[0]) => validateRoutingSample(request).map((v) => v.field);

  it('accepts a sample with a mailbox, a sender and a subject', () => {
    expect(fields({ mailboxId: 'support', message: sample() })).toEqual([]);
  });

  it.each<[string, Parameters<typeof validateRoutingSample>[0], string]>([
    ['a missing mailbox', { mailboxId: '', message: sample() }, 'mailbox_id'],
    ['a malformed mailbox id', { mailboxId: 'Support Box', message: sample() }, 'mailbox_id'],
    ['a missing message', { mailboxId: 'support' }, 'message'],
    ['a missing sender', { mailboxId: 'support', message: sample({ from: undefined }) }, 'message.from.address'],
    [
      'a malformed sender',
      { mailboxId: 'support', message: sample({ from: { address: 'not an address' } }) },
      'message.from.address',
    ],
    ['a missing subject', { mailboxId: 'support', message: sample({ subject: '' }) }, 'message.subject'],
    [
      'a malformed recipient',
      { mailboxId: 'support', message: sample({ cc: [{ address: 'x', name: '' }] }) },
      'message.cc[0].address',
    ],
    ['an unknown importance', { mailboxId: 'support', message: sample({ importance: 42 as Importance }) }, 'message.importance'],
  ])('names the field of %s', (_label, request, field) => {
    expect(fields(request)).toContain(field);
  });
});
