import { SignatureSource as SignatureSourceProto, type MailboxSettings, type SignatureRule } from '@mailroute/contracts';
import type { FieldViolation } from './errors';
import type { RenderedMessage } from './message-template';
import { checkAcknowledgement } from './queue-policy';
import { isResourceId, Violations } from './validation';

/** Where a reply's signature comes from. */
export type SignatureSource = 'agent' | 'queue' | 'mailbox';

/** A tenant's signature rule: each part appends the first signature its sources have, parts in order. */
export type SignatureParts = readonly (readonly SignatureSource[])[];

/** Default rule: one part, the agent's own signature, else the queue's, else the mailbox's. */
export const defaultSignatureParts: SignatureParts = [['agent', 'queue', 'mailbox']];

const sourceNames: Readonly<Record<number, SignatureSource>> = {
  [SignatureSourceProto.SIGNATURE_SOURCE_AGENT]: 'agent',
  [SignatureSourceProto.SIGNATURE_SOURCE_QUEUE]: 'queue',
  [SignatureSourceProto.SIGNATURE_SOURCE_MAILBOX]: 'mailbox',
};

/** The rule's parts as the engine uses them; an unset rule (undefined) is the default. */
export function toSignatureParts(rule: SignatureRule | undefined): SignatureParts {
  if (!rule) return defaultSignatureParts;
  return rule.parts.map((part) => part.sources.flatMap((source) => sourceNames[source] ?? []));
}

/** Checks a SignatureRule: at most 3 parts of 1-3 known sources, no source twice in the rule. */
export function validateSignatureRule(rule: SignatureRule, options: { fieldPrefix?: string } = {}): FieldViolation[] {
  const v = new Violations(options.fieldPrefix);
  if (!v.count('parts', rule.parts, 3)) return v.list;
  const seen = new Set<number>();
  rule.parts.forEach((part, index) => {
    if (part.sources.length < 1 || part.sources.length > 3) v.add(`parts[${index}].sources`, 'must have 1 to 3 sources');
    part.sources.forEach((source, i) => {
      const field = `parts[${index}].sources[${i}]`;
      if (!(source in sourceNames)) v.add(field, 'must be AGENT, QUEUE or MAILBOX');
      else if (seen.has(source)) v.add(field, 'names a source already used in the rule');
      seen.add(source);
    });
  });
  return v.list;
}

/** Checks a mailbox's router settings (signature template id's shape, acknowledgement as a queue's). */
export function validateMailboxSettings(settings: MailboxSettings, options: { fieldPrefix?: string } = {}): FieldViolation[] {
  const v = new Violations(options.fieldPrefix);
  if (settings.signatureTemplateId && !isResourceId(settings.signatureTemplateId))
    v.add('signature_template_id', 'is not a template id');
  if (settings.acknowledgement) checkAcknowledgement(v, settings.acknowledgement);
  return v.list;
}

/**
 * The signatures a reply gets under the rule, in order: per part, the first source that has one
 * (a template id, say). A template chosen by an earlier part is not added again.
 */
export function chooseSignatures<T>(candidates: Partial<Record<SignatureSource, T>>, parts: SignatureParts): T[] {
  const out: T[] = [];
  for (const part of parts) {
    const found = part.map((source) => candidates[source]).find((candidate) => candidate !== undefined);
    if (found !== undefined && !out.includes(found)) out.push(found);
  }
  return out;
}

/** The marker that makes appending idempotent in HTML: a body that has it already is left alone. */
const signatureMarker = 'data-mailroute-signature';
const textSeparator = '\n\n-- \n';

/**
 * Appends a rendered signature to a reply's body, once: HTML in a `<div data-mailroute-signature>`
 * (a body that already has one is unchanged), text after the usual `-- ` separator (unless the
 * text already ends with that signature). A part the signature lacks is left unchanged.
 */
export function appendSignature(
  body: { html: string; text: string },
  signature: Pick<RenderedMessage, 'html' | 'text'>,
): { html: string; text: string } {
  const html =
    signature.html && body.html && !body.html.includes(signatureMarker)
      ? `${body.html}<div ${signatureMarker}="1">${signature.html}</div>`
      : body.html;
  const tail = `${textSeparator}${signature.text}`;
  const text = signature.text && body.text && !body.text.endsWith(tail) ? `${body.text.trimEnd()}${tail}` : body.text;
  return { html, text };
}
