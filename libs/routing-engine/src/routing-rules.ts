/**
 * Routing rules: their validation and their evaluation against one inbound message (conditions,
 * patterns, sender lists, actions), in rule order. One evaluator whose validation mirrors its
 * conditions field by field, hence the file's size (over 400 lines).
 */
import {
  Importance,
  type InboundMessage,
  type RoutingRule,
  type RuleCondition,
  type SenderList,
  type SkillRequirement,
  type TextPattern,
} from '@mailroute/contracts';
import type { FieldViolation } from './errors';
import { compareRulePlaces } from './rule-order';
import { compileSafeRegex } from './safe-regex';
import { mergeRequirements, type NormalizedRequirements } from './skills';
import { isDomain, isEmailAddress, isResourceId, isTag, Violations } from './validation';

/** Body text that patterns see (RuleCondition.body_patterns: the first 65,536 characters). */
const maxBodyCharactersMatched = 65_536;
/** RouteAction.priority when unset, and the priority of a default-queue route. */
const defaultRoutePriority = 100;

const languagePattern = /^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$/i;

/**
 * Validates a routing rule as given to CreateRoutingRule/UpdateRoutingRule. Returns every
 * violation with its proto field path under `fieldPrefix` (e.g. "rule" →
 * "rule.condition.subject_patterns[0].regex"); empty when valid. Regexes must compile with the
 * linear-time matcher (RE2 syntax: no backreferences or lookaround).
 */
export function validateRoutingRule(rule: RoutingRule, options: { fieldPrefix?: string } = {}): FieldViolation[] {
  const v = new Violations(options.fieldPrefix);
  v.text('display_name', rule.displayName, { min: 1, max: 200 });
  v.text('description', rule.description, { max: 1000 });
  if (rule.condition) validateCondition(v, rule.condition);
  const action = rule.action?.action;
  if (!action) v.add('action', 'is required: route or discard');
  else if (action.$case === 'route') {
    const route = action.value;
    if (!isResourceId(route.queueId)) v.add('action.route.queue_id', 'is required: a queue id');
    if (route.priority !== undefined) v.integer('action.route.priority', route.priority, 0, 1000);
    v.skills('action.route.required_skills', route.requiredSkills, 20);
    if (v.count('action.route.tags', route.tags, 20)) {
      route.tags.forEach((tag, index) => {
        if (!isTag(tag)) v.add(`action.route.tags[${index}]`, 'must be 1-63 characters of a-z, 0-9 and -');
      });
    }
  } else v.text('action.discard.reason', action.value.reason, { max: 256 });
  return v.list;
}

function validateCondition(v: Violations, condition: RuleCondition): void {
  const list = (field: string, values: readonly string[], max: number, check: (value: string) => string | undefined): void => {
    if (!v.count(`condition.${field}`, values, max)) return;
    values.forEach((value, index) => {
      const problem = check(value);
      if (problem) v.add(`condition.${field}[${index}]`, problem);
    });
  };
  list('mailbox_ids', condition.mailboxIds, 100, (id) => (isResourceId(id) ? undefined : 'is not a mailbox id'));
  list('sender_addresses', condition.senderAddresses, 1000, (address) =>
    isEmailAddress(address) ? undefined : 'is not an e-mail address',
  );
  list('sender_domains', condition.senderDomains, 1000, (domain) =>
    domain.length <= 255 && isDomain(domain.startsWith('*.') ? domain.slice(2) : domain)
      ? undefined
      : 'must be a domain such as contoso.com or *.contoso.com',
  );
  list('sender_list_ids', condition.senderListIds, 20, (id) => (isResourceId(id) ? undefined : 'is not a sender list id'));
  list('recipient_addresses', condition.recipientAddresses, 100, (address) =>
    isEmailAddress(address) ? undefined : 'is not an e-mail address',
  );
  for (const [field, patterns] of [
    ['subject_patterns', condition.subjectPatterns],
    ['body_patterns', condition.bodyPatterns],
  ] as const) {
    if (!v.count(`condition.${field}`, patterns, 50)) continue;
    patterns.forEach((pattern, index) => {
      const at = `condition.${field}[${index}]`;
      const test = pattern.pattern;
      if (!test) v.add(at, 'is required: contains or regex');
      else if (test.$case === 'contains') v.text(`${at}.contains`, test.value, { min: 1, max: 256 });
      else {
        const compiled = compileSafeRegex(test.value);
        if (!compiled.ok) v.add(`${at}.regex`, `${compiled.message} (at offset ${compiled.offset})`);
      }
    });
  }
  list('languages', condition.languages, 50, (tag) => (languagePattern.test(tag) ? undefined : 'is not a BCP 47 language tag'));
  if (v.count('condition.importances', condition.importances, 3)) {
    condition.importances.forEach((importance, index) => {
      if (![Importance.IMPORTANCE_LOW, Importance.IMPORTANCE_NORMAL, Importance.IMPORTANCE_HIGH].includes(importance)) {
        v.add(`condition.importances[${index}]`, 'must be LOW, NORMAL or HIGH');
      }
    });
  }
}

/** Validates a sender list's entries: an address, or "@domain" for a whole domain. */
export function validateSenderList(list: SenderList, options: { fieldPrefix?: string } = {}): FieldViolation[] {
  const v = new Violations(options.fieldPrefix);
  v.text('display_name', list.displayName, { min: 1, max: 200 });
  v.text('description', list.description, { max: 1000 });
  if (v.count('entries', list.entries, 5000)) {
    list.entries.forEach((entry, index) => {
      const ok = entry.length <= 320 && (entry.startsWith('@') ? isDomain(entry.slice(1)) : isEmailAddress(entry));
      if (!ok) v.add(`entries[${index}]`, 'must be an address or @domain');
    });
  }
  return v.list;
}

/** The e-mail facts rules test: the message as ingested and the mailbox it arrived at. */
export interface RoutableEmail {
  mailboxId: string;
  message: InboundMessage;
}

/** The condition fields in evaluation order; a non-matching rule names the first that failed. */
export type ConditionField =
  | 'mailbox_ids'
  | 'sender_addresses'
  | 'sender_domains'
  | 'sender_list_ids'
  | 'recipient_addresses'
  | 'languages'
  | 'importances'
  | 'has_attachments'
  | 'automated'
  | 'subject_patterns'
  | 'body_patterns';

type Test = (facts: EmailFacts) => boolean;

interface CompiledRule {
  rule: RoutingRule;
  enabled: boolean;
  tests: { field: ConditionField; test: Test }[];
}

/** A tenant's rules and sender lists, prepared once and evaluated per e-mail. */
export interface CompiledRuleSet {
  readonly rules: readonly CompiledRule[];
}

/** Lower-cased facts, computed once per e-mail and shared by every rule. */
interface EmailFacts {
  mailboxId: string;
  sender: string;
  senderDomain: string;
  recipients: readonly string[];
  subject: string;
  /** Computed on first use: most rules never look at the body. */
  body: () => string;
  language: string;
  importance: Importance;
  hasAttachments: boolean;
  automated: boolean;
}

function toFacts(email: RoutableEmail): EmailFacts {
  const message = email.message;
  const sender = (message.from?.address ?? '').toLowerCase();
  let body: string | undefined;
  const flags = message.automation;
  return {
    mailboxId: email.mailboxId,
    sender,
    senderDomain: sender.slice(sender.lastIndexOf('@') + 1),
    recipients: [...message.to, ...message.cc].map((recipient) => recipient.address.toLowerCase()),
    subject: message.subject.toLowerCase(),
    body: () => (body ??= message.bodyText.slice(0, maxBodyCharactersMatched).toLowerCase()),
    language: message.language.toLowerCase(),
    importance: message.importance === Importance.IMPORTANCE_UNSPECIFIED ? Importance.IMPORTANCE_NORMAL : message.importance,
    // Like Graph's hasAttachments: inline images (signatures, logos) do not count.
    hasAttachments: message.attachmentsOverLimit || message.attachments.some((attachment) => !attachment.isInline),
    automated: Boolean(flags && (flags.autoReply || flags.autoGenerated || flags.bounce || flags.bulk || flags.loopSuspected)),
  };
}

/** Sender list entries as sets (addresses and "@domain" entries). */
interface CompiledSenderList {
  addresses: ReadonlySet<string>;
  domains: ReadonlySet<string>;
}

function compileTextPatterns(patterns: readonly TextPattern[]): ((text: string) => boolean)[] {
  return patterns.flatMap((pattern): ((text: string) => boolean)[] => {
    const test = pattern.pattern;
    if (!test) return [];
    if (test.$case === 'contains') {
      const needle = test.value.toLowerCase();
      return [(text) => text.includes(needle)];
    }
    const compiled = compileSafeRegex(test.value);
    // An invalid stored pattern (validation bypassed) matches nothing rather than failing routing.
    return compiled.ok ? [(text) => compiled.regex.test(text)] : [() => false];
  });
}

function compileCondition(
  condition: RuleCondition | undefined,
  senderLists: ReadonlyMap<string, CompiledSenderList>,
): CompiledRule['tests'] {
  if (!condition) return [];
  const tests: CompiledRule['tests'] = [];
  if (condition.mailboxIds.length > 0) {
    const ids = new Set(condition.mailboxIds);
    tests.push({ field: 'mailbox_ids', test: (facts) => ids.has(facts.mailboxId) });
  }
  if (condition.senderAddresses.length > 0) {
    const addresses = new Set(condition.senderAddresses.map((address) => address.toLowerCase()));
    tests.push({ field: 'sender_addresses', test: (facts) => addresses.has(facts.sender) });
  }
  if (condition.senderDomains.length > 0) {
    const exact = new Set<string>();
    const parents = new Set<string>();
    for (const domain of condition.senderDomains.map((entry) => entry.toLowerCase())) {
      if (domain.startsWith('*.')) parents.add(domain.slice(2));
      else exact.add(domain);
    }
    tests.push({
      field: 'sender_domains',
      test: ({ senderDomain }) => {
        if (exact.has(senderDomain)) return true;
        // "*.contoso.com": any proper subdomain, found by walking up the labels.
        for (let dot = senderDomain.indexOf('.'); dot !== -1; dot = senderDomain.indexOf('.', dot + 1)) {
          if (parents.has(senderDomain.slice(dot + 1))) return true;
        }
        return false;
      },
    });
  }
  if (condition.senderListIds.length > 0) {
    const lists = condition.senderListIds.flatMap((id) => senderLists.get(id) ?? []);
    tests.push({
      field: 'sender_list_ids',
      test: ({ sender, senderDomain }) => lists.some((list) => list.addresses.has(sender) || list.domains.has(senderDomain)),
    });
  }
  if (condition.recipientAddresses.length > 0) {
    const addresses = new Set(condition.recipientAddresses.map((address) => address.toLowerCase()));
    tests.push({ field: 'recipient_addresses', test: (facts) => facts.recipients.some((recipient) => addresses.has(recipient)) });
  }
  if (condition.languages.length > 0) {
    const languages = condition.languages.map((tag) => tag.toLowerCase());
    tests.push({
      field: 'languages',
      test: ({ language }) => language !== '' && languages.some((tag) => language === tag || language.startsWith(`${tag}-`)),
    });
  }
  if (condition.importances.length > 0) {
    const importances = new Set(condition.importances);
    tests.push({ field: 'importances', test: (facts) => importances.has(facts.importance) });
  }
  if (condition.hasAttachments !== undefined) {
    const wanted = condition.hasAttachments;
    tests.push({ field: 'has_attachments', test: (facts) => facts.hasAttachments === wanted });
  }
  if (condition.automated !== undefined) {
    const wanted = condition.automated;
    tests.push({ field: 'automated', test: (facts) => facts.automated === wanted });
  }
  // Text patterns last: the cheap set lookups usually decide first.
  if (condition.subjectPatterns.length > 0) {
    const patterns = compileTextPatterns(condition.subjectPatterns);
    tests.push({ field: 'subject_patterns', test: (facts) => patterns.some((matches) => matches(facts.subject)) });
  }
  if (condition.bodyPatterns.length > 0) {
    const patterns = compileTextPatterns(condition.bodyPatterns);
    tests.push({
      field: 'body_patterns',
      test: (facts) => {
        const body = facts.body();
        return patterns.some((matches) => matches(body));
      },
    });
  }
  return tests;
}

/**
 * Prepares a tenant's rules (in evaluation order: by `position`, then rule id) and sender lists.
 * Rules referring to unknown sender lists treat them as empty.
 */
export function compileRuleSet(rules: readonly RoutingRule[], senderLists: readonly SenderList[] = []): CompiledRuleSet {
  const lists = new Map<string, CompiledSenderList>();
  for (const list of senderLists) {
    const addresses = new Set<string>();
    const domains = new Set<string>();
    for (const entry of list.entries.map((value) => value.toLowerCase())) {
      if (entry.startsWith('@')) domains.add(entry.slice(1));
      else addresses.add(entry);
    }
    lists.set(list.senderListId, { addresses, domains });
  }
  const ordered = [...rules].sort(compareRulePlaces);
  return {
    rules: ordered.map((rule) => ({ rule, enabled: rule.enabled ?? true, tests: compileCondition(rule.condition, lists) })),
  };
}

/** How one rule fared against an e-mail (TestRoutingRules' RuleEvaluation). */
export interface RuleTrace {
  ruleId: string;
  matched: boolean;
  disabled: boolean;
  failedCondition?: ConditionField | undefined;
}

export type RoutingOutcome =
  | {
      kind: 'route';
      /** The matching rule; undefined for the mailbox's default queue. */
      ruleId: string | undefined;
      queueId: string;
      priority: number;
      /** The rule's skills plus the target queue's. */
      requiredSkills: NormalizedRequirements;
      tags: readonly string[];
    }
  | { kind: 'discard'; ruleId: string; reason: string }
  /** No rule matched and there is no default queue: UNROUTED. */
  | { kind: 'unrouted' };

export interface RoutingEvaluation {
  outcome: RoutingOutcome;
  /** Rules evaluated, in order, up to and including the matching one. */
  trace: RuleTrace[];
}

/**
 * Evaluates enabled rules in order; the first whose every condition holds decides. Without a match
 * the mailbox's default queue (if any) is used with priority 100, else the e-mail is unrouted.
 * `queueSkills` gives a queue's own required skills, merged into the outcome's.
 */
export function evaluateRules(
  ruleSet: CompiledRuleSet,
  email: RoutableEmail,
  options: {
    defaultQueueId?: string | undefined;
    queueSkills?: ((queueId: string) => readonly SkillRequirement[] | undefined) | undefined;
  } = {},
): RoutingEvaluation {
  const facts = toFacts(email);
  const trace: RuleTrace[] = [];
  const withQueueSkills = (queueId: string, skills: readonly SkillRequirement[]): NormalizedRequirements =>
    mergeRequirements(skills, options.queueSkills?.(queueId) ?? []);
  for (const { rule, enabled, tests } of ruleSet.rules) {
    if (!enabled) {
      trace.push({ ruleId: rule.ruleId, matched: false, disabled: true });
      continue;
    }
    const failed = tests.find(({ test }) => !test(facts));
    if (failed) {
      trace.push({ ruleId: rule.ruleId, matched: false, disabled: false, failedCondition: failed.field });
      continue;
    }
    trace.push({ ruleId: rule.ruleId, matched: true, disabled: false });
    const action = rule.action?.action;
    if (!action) continue; // unreachable for validated rules; a rule without action decides nothing
    if (action.$case === 'discard')
      return { outcome: { kind: 'discard', ruleId: rule.ruleId, reason: action.value.reason }, trace };
    const route = action.value;
    return {
      outcome: {
        kind: 'route',
        ruleId: rule.ruleId,
        queueId: route.queueId,
        priority: route.priority ?? defaultRoutePriority,
        requiredSkills: withQueueSkills(route.queueId, route.requiredSkills),
        tags: route.tags,
      },
      trace,
    };
  }
  const fallback = options.defaultQueueId;
  if (fallback) {
    return {
      outcome: {
        kind: 'route',
        ruleId: undefined,
        queueId: fallback,
        priority: defaultRoutePriority,
        requiredSkills: withQueueSkills(fallback, []),
        tags: [],
      },
      trace,
    };
  }
  return { outcome: { kind: 'unrouted' }, trace };
}

/**
 * A rule a tenant may start with: closes automated mail (auto-replies, bounces, bulk, loops)
 * without an agent. Place it first.
 */
export function autoReplyDiscardRule(ruleId = 'discard-automated'): RoutingRule {
  return {
    ruleId,
    displayName: 'Close automated mail',
    description: 'Auto-replies, bounces, bulk mail and suspected loops are closed without an agent.',
    position: 0,
    enabled: true,
    condition: {
      mailboxIds: [],
      senderAddresses: [],
      senderDomains: [],
      senderListIds: [],
      recipientAddresses: [],
      subjectPatterns: [],
      bodyPatterns: [],
      languages: [],
      importances: [],
      automated: true,
    },
    action: { action: { $case: 'discard', value: { reason: 'automated message' } } },
    etag: '',
  };
}
