import { Importance, InboundMessage, RoutingRule, RuleCondition, type SenderList } from '@mailroute/contracts';
import {
  autoReplyDiscardRule,
  compileRuleSet,
  evaluateRules,
  validateRoutingRule,
  validateSenderList,
  type RoutableEmail,
} from './routing-rules';

function email(partial: Parameters<typeof InboundMessage.fromPartial>[0] = {}, mailboxId = 'support'): RoutableEmail {
  return {
    mailboxId,
    message: InboundMessage.fromPartial({
      from: { address: 'Jane@Fabrikam.com' },
      to: [{ address: 'support@contoso.com' }],
      subject: 'Question about my invoice',
      bodyText: 'Hello, my order 12345 did not arrive.',
      language: 'de-CH',
      importance: Importance.IMPORTANCE_NORMAL,
      ...partial,
    }),
  };
}

let position = 0;
function rule(
  ruleId: string,
  condition: Partial<RuleCondition>,
  queueId = ruleId,
  extra: Partial<RoutingRule> = {},
): RoutingRule {
  return RoutingRule.fromPartial({
    ruleId,
    displayName: ruleId,
    position: position++,
    condition: RuleCondition.fromPartial(condition),
    action: {
      action: {
        $case: 'route',
        value: { queueId, priority: 200, requiredSkills: [{ skill: 'german', minLevel: 2 }], tags: ['t'] },
      },
    },
    ...extra,
  });
}

const vip: SenderList = {
  senderListId: 'vip',
  displayName: 'VIP',
  description: '',
  entries: ['ceo@northwind.com', '@fabrikam.com'],
  etag: '',
};

function routeOf(rules: RoutingRule[], message = email(), options: Parameters<typeof evaluateRules>[2] = {}) {
  return evaluateRules(compileRuleSet(rules, [vip]), message, options);
}

describe('evaluateRules', () => {
  it('applies the first matching enabled rule and explains why earlier ones did not match', () => {
    const result = routeOf([
      rule('disabled', {}, 'x', { enabled: false }),
      rule('sales', { mailboxIds: ['sales'] }),
      rule('domain', { senderDomains: ['fabrikam.com'] }),
      rule('catch-all', {}),
    ]);
    expect(result.outcome).toMatchObject({ kind: 'route', ruleId: 'domain', queueId: 'domain', priority: 200, tags: ['t'] });
    expect(result.trace).toEqual([
      { ruleId: 'disabled', matched: false, disabled: true },
      { ruleId: 'sales', matched: false, disabled: false, failedCondition: 'mailbox_ids' },
      { ruleId: 'domain', matched: true, disabled: false },
    ]);
  });

  it('evaluates rules by position, not by list order', () => {
    const late = rule('late', {});
    const early = rule('early', {}, 'early', { position: -1 });
    expect(routeOf([late, early]).outcome).toMatchObject({ ruleId: 'early' });
  });

  it.each<[string, Partial<RuleCondition>, boolean]>([
    ['sender address, case-insensitively', { senderAddresses: ['jane@fabrikam.COM'] }, true],
    ['another sender address', { senderAddresses: ['joe@fabrikam.com'] }, false],
    ['a wildcard domain on a subdomain sender', { senderDomains: ['*.fabrikam.com'] }, false],
    ['an exact domain', { senderDomains: ['FABRIKAM.com'] }, true],
    ['a VIP list domain entry', { senderListIds: ['vip'] }, true],
    ['an unknown sender list', { senderListIds: ['nobody'] }, false],
    ['a recipient', { recipientAddresses: ['SUPPORT@contoso.com'] }, true],
    ['a language prefix ("de" matches "de-CH")', { languages: ['de'] }, true],
    ['another language', { languages: ['fr', 'de-AT'] }, false],
    ['an importance', { importances: [Importance.IMPORTANCE_HIGH] }, false],
    ['no attachments', { hasAttachments: false }, true],
    ['not automated', { automated: false }, true],
    ['a subject that contains a word', { subjectPatterns: [{ pattern: { $case: 'contains', value: 'INVOICE' } }] }, true],
    ['a subject regex', { subjectPatterns: [{ pattern: { $case: 'regex', value: '^question\\b' } }] }, true],
    ['a body regex', { bodyPatterns: [{ pattern: { $case: 'regex', value: 'order \\d{5}' } }] }, true],
    ['a body regex that does not match', { bodyPatterns: [{ pattern: { $case: 'regex', value: 'refund' } }] }, false],
    [
      'all of several fields',
      {
        senderDomains: ['fabrikam.com'],
        languages: ['de'],
        subjectPatterns: [{ pattern: { $case: 'contains', value: 'invoice' } }],
      },
      true,
    ],
  ])('matches on %s: %s', (_label, condition, matches) => {
    expect(routeOf([rule('r', condition)]).outcome.kind).toBe(matches ? 'route' : 'unrouted');
  });

  it('matches a wildcard domain on any proper subdomain only', () => {
    const rules = [rule('r', { senderDomains: ['*.contoso.com'] })];
    expect(routeOf(rules, email({ from: { address: 'a@eu.mail.contoso.com' } })).outcome.kind).toBe('route');
    expect(routeOf(rules, email({ from: { address: 'a@contoso.com' } })).outcome.kind).toBe('unrouted');
    expect(routeOf(rules, email({ from: { address: 'a@evilcontoso.com' } })).outcome.kind).toBe('unrouted');
  });

  it('matches an e-mail without a language hint against no language condition', () => {
    expect(routeOf([rule('r', { languages: ['de'] })], email({ language: '' })).outcome.kind).toBe('unrouted');
  });

  it('treats inline images as no attachment and unset importance as NORMAL', () => {
    const inline = email({
      attachments: [{ attachmentId: 'a', name: 'logo.png', isInline: true }],
      importance: Importance.IMPORTANCE_UNSPECIFIED,
    });
    expect(
      routeOf([rule('r', { hasAttachments: false, importances: [Importance.IMPORTANCE_NORMAL] })], inline).outcome.kind,
    ).toBe('route');
  });

  it('discards auto-replies with the starter rule before any routing rule', () => {
    const outOfOffice = email({ automation: { autoReply: true } });
    const result = routeOf([{ ...autoReplyDiscardRule(), position: -10 }, rule('catch-all', {})], outOfOffice);
    expect(result.outcome).toEqual({ kind: 'discard', ruleId: 'discard-automated', reason: 'automated message' });
    expect(routeOf([{ ...autoReplyDiscardRule(), position: -10 }, rule('catch-all', {})]).outcome).toMatchObject({
      ruleId: 'catch-all',
    });
  });

  it('falls back to the default queue with priority 100, else leaves the e-mail unrouted', () => {
    expect(routeOf([rule('r', { mailboxIds: ['sales'] })], email(), { defaultQueueId: 'inbox' }).outcome).toEqual({
      kind: 'route',
      ruleId: undefined,
      queueId: 'inbox',
      priority: 100,
      requiredSkills: [],
      tags: [],
    });
    expect(routeOf([]).outcome).toEqual({ kind: 'unrouted' });
  });

  it('adds the target queue’s own required skills to the rule’s, keeping the stricter level', () => {
    const result = routeOf([rule('r', {})], email(), {
      queueSkills: () => [
        { skill: 'german', minLevel: 4 },
        { skill: 'billing', minLevel: 1 },
      ],
    });
    expect(result.outcome).toMatchObject({
      requiredSkills: [
        { skill: 'billing', minLevel: 1 },
        { skill: 'german', minLevel: 4 },
      ],
    });
  });

  it('matches a catastrophic-backtracking pattern against a hostile body in linear time', () => {
    const hostile = email({ bodyText: `${'a'.repeat(60_000)}!`, subject: 'x' });
    const started = performance.now();
    const result = routeOf(
      [
        rule('redos', {
          bodyPatterns: [{ pattern: { $case: 'regex', value: '(a+)+$' } }, { pattern: { $case: 'regex', value: '(a|aa)*b' } }],
        }),
      ],
      hostile,
    );
    expect(result.outcome.kind).toBe('unrouted');
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('validateRoutingRule', () => {
  it('accepts a valid rule', () => {
    expect(
      validateRoutingRule(
        rule('ok', { senderDomains: ['*.contoso.com'], subjectPatterns: [{ pattern: { $case: 'regex', value: '^re:' } }] }),
      ),
    ).toEqual([]);
  });

  it('names each invalid field by its proto path, including a refused regex', () => {
    const bad = RoutingRule.fromPartial({
      displayName: '',
      condition: {
        senderAddresses: ['not-an-address'],
        senderDomains: ['*.'],
        subjectPatterns: [{ pattern: { $case: 'regex', value: '(\\w+)\\1' } }, {}],
        bodyPatterns: [{ pattern: { $case: 'contains', value: '' } }],
        languages: ['german!'],
        importances: [Importance.IMPORTANCE_UNSPECIFIED],
      },
      action: {
        action: {
          $case: 'route',
          value: {
            queueId: '',
            priority: 5000,
            requiredSkills: [
              { skill: 'x', minLevel: 1 },
              { skill: 'x', minLevel: 2 },
            ],
            tags: ['Bad Tag'],
          },
        },
      },
    });
    const violations = validateRoutingRule(bad, { fieldPrefix: 'rule' });
    expect(violations.map((violation) => violation.field)).toEqual([
      'rule.display_name',
      'rule.condition.sender_addresses[0]',
      'rule.condition.sender_domains[0]',
      'rule.condition.subject_patterns[0].regex',
      'rule.condition.subject_patterns[1]',
      'rule.condition.body_patterns[0].contains',
      'rule.condition.languages[0]',
      'rule.condition.importances[0]',
      'rule.action.route.queue_id',
      'rule.action.route.priority',
      'rule.action.route.required_skills[1].skill',
      'rule.action.route.tags[0]',
    ]);
    expect(violations[3]?.message).toMatch(/backreferences are not supported/);
  });

  it('requires an action', () => {
    expect(validateRoutingRule(RoutingRule.fromPartial({ displayName: 'x' }))).toEqual([
      { field: 'action', message: 'is required: route or discard' },
    ]);
  });
});

describe('validateSenderList', () => {
  it('accepts addresses and @domains and names the bad entries', () => {
    expect(validateSenderList(vip)).toEqual([]);
    expect(
      validateSenderList({ ...vip, entries: ['ok@x.com', 'nope', '@'] }, { fieldPrefix: 'sender_list' }).map(
        (violation) => violation.field,
      ),
    ).toEqual(['sender_list.entries[1]', 'sender_list.entries[2]']);
  });
});
