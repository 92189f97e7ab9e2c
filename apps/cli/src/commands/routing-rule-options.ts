// Routing rules on the command line: conditions and actions from options, and a rule in one line.
import { type RoutingRule, type RuleAction, type RuleCondition, type TextPattern } from '@mailroute/contracts';
import { flag, list, str, type CommandContext } from '../command';
import { UsageError } from '../errors';
import { parseInteger, parseSkill } from '../values';

function patterns(context: CommandContext, containsOption: string, regexOption: string): TextPattern[] {
  return [
    ...list(context.values, containsOption).map((value): TextPattern => ({ pattern: { $case: 'contains', value } })),
    ...list(context.values, regexOption).map((value): TextPattern => ({ pattern: { $case: 'regex', value } })),
  ];
}

export function ruleCondition(context: CommandContext): RuleCondition {
  const { values } = context;
  const attachments = str(values, 'has-attachments');
  const automated = str(values, 'automated');
  const yesNo = (text: string, option: string) => {
    if (!['yes', 'no'].includes(text)) throw new UsageError(`${option}: must be yes or no`);
    return text === 'yes';
  };
  return {
    mailboxIds: list(values, 'mailbox'),
    senderAddresses: list(values, 'sender'),
    senderDomains: list(values, 'sender-domain'),
    senderListIds: list(values, 'sender-list'),
    recipientAddresses: list(values, 'recipient'),
    subjectPatterns: patterns(context, 'subject-contains', 'subject-regex'),
    bodyPatterns: patterns(context, 'body-contains', 'body-regex'),
    languages: list(values, 'language'),
    importances: [],
    ...(attachments !== undefined ? { hasAttachments: yesNo(attachments, '--has-attachments') } : {}),
    ...(automated !== undefined ? { automated: yesNo(automated, '--automated') } : {}),
  };
}

export function ruleAction(context: CommandContext): RuleAction {
  const { values } = context;
  const queue = str(values, 'queue');
  if (flag(values, 'discard')) {
    if (queue) throw new UsageError('--discard and --queue exclude each other');
    return { action: { $case: 'discard', value: { reason: str(values, 'reason') ?? '' } } };
  }
  if (!queue) throw new UsageError('--queue is required (or --discard)');
  const priority = str(values, 'priority');
  return {
    action: {
      $case: 'route',
      value: {
        queueId: queue,
        ...(priority !== undefined ? { priority: parseInteger(priority, '--priority', 0, 1000) } : {}),
        requiredSkills: list(values, 'skill').map((text) => {
          const { skill, level } = parseSkill(text, '--skill');
          return { skill, minLevel: level };
        }),
        tags: list(values, 'tag'),
      },
    },
  };
}

export function describeRule(rule: RoutingRule): string {
  const c = rule.condition;
  const parts: string[] = [];
  if (c) {
    if (c.mailboxIds.length) parts.push(`mailbox ${c.mailboxIds.join('|')}`);
    if (c.senderAddresses.length) parts.push(`sender ${c.senderAddresses.join('|')}`);
    if (c.senderDomains.length) parts.push(`domain ${c.senderDomains.join('|')}`);
    if (c.senderListIds.length) parts.push(`list ${c.senderListIds.join('|')}`);
    if (c.recipientAddresses.length) parts.push(`to ${c.recipientAddresses.join('|')}`);
    if (c.subjectPatterns.length)
      parts.push(
        `subject ${c.subjectPatterns.map((p) => (p.pattern?.$case === 'regex' ? `/${p.pattern.value}/` : `"${p.pattern?.value ?? ''}"`)).join('|')}`,
      );
    if (c.bodyPatterns.length)
      parts.push(
        `body ${c.bodyPatterns.map((p) => (p.pattern?.$case === 'regex' ? `/${p.pattern.value}/` : `"${p.pattern?.value ?? ''}"`)).join('|')}`,
      );
    if (c.languages.length) parts.push(`language ${c.languages.join('|')}`);
    if (c.hasAttachments !== undefined) parts.push(c.hasAttachments ? 'with attachments' : 'without attachments');
    if (c.automated !== undefined) parts.push(c.automated ? 'automated' : 'not automated');
  }
  return parts.join(', ') || 'every e-mail';
}

export function describeAction(action: RuleAction | undefined): string {
  const a = action?.action;
  if (!a) return '';
  if (a.$case === 'discard') return `discard${a.value.reason ? ` (${a.value.reason})` : ''}`;
  const skills = a.value.requiredSkills.map((s) => `${s.skill}:${s.minLevel || 1}`).join(' ');
  return `→ ${a.value.queueId} p${a.value.priority ?? 100}${skills ? ` skills ${skills}` : ''}${a.value.tags.length ? ` tags ${a.value.tags.join(',')}` : ''}`;
}
