/**
 * Interaction references such as `ABC-1234`: a tenant's prefix (2-8 capital letters) and a number.
 * Put in a subject as `[#ABC-1234]`, they let intake thread a customer's reply whose mail client
 * broke `In-Reply-To`.
 */
const referencePrefixPattern = /^[A-Z]{2,8}$/;

const inSubject = /\[#([A-Z]{2,8}-[1-9]\d{0,11})\]/;

/** `ABC` and 1234 → `ABC-1234`. */
export function formatInteractionReference(prefix: string, sequence: number): string {
  if (!referencePrefixPattern.test(prefix)) throw new RangeError('reference prefix must be 2-8 capital letters');
  if (!Number.isSafeInteger(sequence) || sequence < 1 || sequence > 999_999_999_999)
    throw new RangeError('reference number must be 1-999999999999');
  return `${prefix}-${sequence}`;
}

/** The subject with ` [#ABC-1234]` appended, unless it carries that reference already. */
export function withSubjectReference(subject: string, reference: string): string {
  const tag = `[#${reference}]`;
  return subject.includes(tag) ? subject : `${subject.trimEnd()} ${tag}`.trimStart();
}

/** The first `[#ABC-1234]` reference in a subject, or undefined (only the given prefix, when one is given). */
export function findSubjectReference(subject: string, prefix?: string): string | undefined {
  const match = inSubject.exec(subject.slice(0, 1000));
  const reference = match?.[1];
  if (!reference) return undefined;
  return prefix === undefined || reference.startsWith(`${prefix}-`) ? reference : undefined;
}
