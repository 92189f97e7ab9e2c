import {
  Importance,
  type InboundMessage,
  type RuleAction,
  type RuleEvaluation,
  type SkillRequirement,
} from '@mailroute/contracts';
import type { FieldViolation } from './errors';
import type { CompiledRuleSet, RoutingEvaluation } from './routing-rules';
import { isEmailAddress, isResourceId, Violations } from './validation';

/** The most body text a sample may carry (rules see the first 65,536 characters; more is a mistake). */
const maxSampleBodyCharacters = 1_048_576;

/**
 * Validates TestRoutingRules' sample: `mailbox_id` (a resource id) and the message with at least
 * `from.address` and `subject`; the fields rules test are checked for shape. Field paths are the
 * request's (e.g. "message.from.address").
 */
export function validateRoutingSample(request: { mailboxId: string; message?: InboundMessage | undefined }): FieldViolation[] {
  const v = new Violations();
  if (!request.mailboxId) v.add('mailbox_id', 'is required');
  else if (!isResourceId(request.mailboxId)) v.add('mailbox_id', 'is not a mailbox id');
  const message = request.message;
  if (!message) {
    v.add('message', 'is required: from and subject at least');
    return v.list;
  }
  if (!message.from?.address) v.add('message.from.address', 'is required');
  else if (!isEmailAddress(message.from.address)) v.add('message.from.address', 'is not an e-mail address');
  if (!message.subject) v.add('message.subject', 'is required');
  else v.text('message.subject', message.subject, { max: 4096 });
  for (const [field, recipients] of [
    ['to', message.to],
    ['cc', message.cc],
  ] as const) {
    if (!v.count(`message.${field}`, recipients, 500)) continue;
    recipients.forEach((recipient, index) => {
      if (!isEmailAddress(recipient.address)) v.add(`message.${field}[${index}].address`, 'is not an e-mail address');
    });
  }
  v.text('message.body_text', message.bodyText, { max: maxSampleBodyCharacters });
  v.text('message.language', message.language, { max: 64 });
  const importances: number[] = [
    Importance.IMPORTANCE_UNSPECIFIED,
    Importance.IMPORTANCE_LOW,
    Importance.IMPORTANCE_NORMAL,
    Importance.IMPORTANCE_HIGH,
  ];
  if (!importances.includes(message.importance)) v.add('message.importance', 'is not an importance');
  return v.list;
}

/** TestRoutingRules' answer: what intake would do with the sample, and why. */
export interface RoutingExplanation {
  evaluations: RuleEvaluation[];
  matchedRuleId: string;
  outcome: RuleAction | undefined;
  requiredSkills: SkillRequirement[];
}

/**
 * Turns an evaluation (`evaluateRules` over `ruleSet`) into TestRoutingRules' answer: the outcome
 * is the matching rule's action with the priority it takes effect with (unset means 100), or a
 * route to the default queue; `requiredSkills` are the rule's plus the queue's. A route to a queue
 * that does not exist leaves the e-mail UNROUTED at intake, so the outcome is unset then while the
 * matching rule is still named. `queueExists` tells which queues the tenant has.
 */
export function explainRouting(
  ruleSet: CompiledRuleSet,
  evaluation: RoutingEvaluation,
  queueExists: (queueId: string) => boolean,
): RoutingExplanation {
  const evaluations = evaluation.trace.map((step) => ({
    ruleId: step.ruleId,
    matched: step.matched,
    disabled: step.disabled,
    failedCondition: step.failedCondition ?? '',
  }));
  const outcome = evaluation.outcome;
  switch (outcome.kind) {
    case 'discard':
      return {
        evaluations,
        matchedRuleId: outcome.ruleId,
        outcome: { action: { $case: 'discard', value: { reason: outcome.reason } } },
        requiredSkills: [],
      };
    case 'route': {
      const routed = queueExists(outcome.queueId);
      return {
        evaluations,
        matchedRuleId: outcome.ruleId ?? '',
        outcome: routed
          ? {
              action: {
                $case: 'route',
                value: {
                  queueId: outcome.queueId,
                  priority: outcome.priority,
                  requiredSkills: ruleSkills(ruleSet, outcome.ruleId),
                  tags: [...outcome.tags],
                },
              },
            }
          : undefined,
        requiredSkills: routed ? outcome.requiredSkills.map((s) => ({ ...s })) : [],
      };
    }
    default:
      return { evaluations, matchedRuleId: '', outcome: undefined, requiredSkills: [] };
  }
}

/** The matching rule's own skill requirements (its RouteAction's), none for a default-queue route. */
function ruleSkills(ruleSet: CompiledRuleSet, ruleId: string | undefined): SkillRequirement[] {
  if (ruleId === undefined) return [];
  const action = ruleSet.rules.find((compiled) => compiled.rule.ruleId === ruleId)?.rule.action?.action;
  return action?.$case === 'route' ? action.value.requiredSkills.map((s) => ({ ...s })) : [];
}
