import type { RenderedMessage } from './message-template';

/** Where a reply's signature comes from, in the order the tenant's rule tries them. */
export type SignatureSource = 'agent' | 'queue' | 'mailbox';

/** Default rule: the agent's own signature, else the queue's, else the mailbox's. */
export const defaultSignatureOrder: readonly SignatureSource[] = ['agent', 'queue', 'mailbox'];

/** The first signature the rule finds; undefined when none (or the rule is empty: no signatures). */
export function chooseSignature<T>(
  candidates: Partial<Record<SignatureSource, T>>,
  order: readonly SignatureSource[],
): T | undefined {
  for (const source of order) {
    const signature = candidates[source];
    if (signature !== undefined) return signature;
  }
  return undefined;
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
