import type { AutomationFlags } from '@mailroute/contracts';
import type { EpochMillis } from './model';

/**
 * Headers every acknowledgement carries, so other systems do not answer it: RFC 3834's
 * `Auto-Submitted: auto-replied`, and Exchange's `X-Auto-Response-Suppress: All` (no out-of-office,
 * read or delivery receipts in return).
 * @public the acknowledgement sender (issue 17, in progress) uses it; knip: not yet imported.
 */
export const acknowledgementHeaders: readonly { name: string; value: string }[] = [
  { name: 'Auto-Submitted', value: 'auto-replied' },
  { name: 'X-Auto-Response-Suppress', value: 'All' },
];

/** Which acknowledgement a new customer message would get: the usual one, or the out-of-hours one while the queue is closed. */
export type AcknowledgementKind = 'acknowledgement' | 'out-of-hours';

export type AcknowledgementRefusal = 'disabled' | 'no-template' | 'automated' | 'loop-protection' | 'recently-acknowledged';

export type AcknowledgementDecision =
  { send: true; kind: AcknowledgementKind } | { send: false; reason: AcknowledgementRefusal; detail: string };

/** Proto default of the acknowledgement period: one acknowledgement per conversation per 24 hours. */
export const defaultAcknowledgementPeriodMs = 24 * 3_600_000;

/**
 * Whether a customer's message gets an automatic acknowledgement, and which one. Refused when the
 * settings are off or have no template for the kind; when the message is automated by the one
 * classifier (`classifyAutomation` in graph-mail: any flag, including `X-Auto-Response-Suppress`,
 * which asks for no automatic answer); when loop protection refuses (the caller passes its reason);
 * and when the conversation was acknowledged less than `periodMs` ago, so follow-ups within the
 * period get none.
 */
export function decideAcknowledgement(input: {
  enabled: boolean;
  queueOpen: boolean;
  templates: { acknowledgement: boolean; outOfHours: boolean };
  automation: AutomationFlags | undefined;
  loopRefusal?: string | undefined;
  lastAcknowledgedAt?: EpochMillis | undefined;
  now: EpochMillis;
  periodMs: number;
}): AcknowledgementDecision {
  if (!input.enabled) return { send: false, reason: 'disabled', detail: 'acknowledgements are off' };
  const kind: AcknowledgementKind = input.queueOpen ? 'acknowledgement' : 'out-of-hours';
  const hasTemplate = kind === 'acknowledgement' ? input.templates.acknowledgement : input.templates.outOfHours;
  if (!hasTemplate) return { send: false, reason: 'no-template', detail: `no ${kind} template` };
  const flags = input.automation;
  const automated = flags ? (Object.keys(flags) as (keyof AutomationFlags)[]).filter((flag) => flags[flag] === true) : [];
  if (automated.length > 0) return { send: false, reason: 'automated', detail: `automated mail (${automated.join(', ')})` };
  if (input.loopRefusal) return { send: false, reason: 'loop-protection', detail: input.loopRefusal };
  if (input.lastAcknowledgedAt !== undefined && input.now - input.lastAcknowledgedAt < input.periodMs)
    return { send: false, reason: 'recently-acknowledged', detail: 'the conversation was acknowledged within the period' };
  return { send: true, kind };
}
