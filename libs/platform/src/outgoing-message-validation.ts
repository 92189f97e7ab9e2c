import { SendKind, type EmailAddress, type OutgoingMessage } from '@mailroute/contracts';
import { ValidationError } from './errors';

/**
 * What an outgoing e-mail may be (proto OutgoingMessage): one implementation for every service that
 * takes one — outbound-send's API and its intake of OutboundRequest events, and the router's desktop
 * Reply, which refuses at the call what outbound-send would refuse later.
 */

/** Limits of OutgoingMessage (proto/mailroute/v1/email.proto). */
const outgoingMessageLimits = {
  subjectChars: 255,
  bodyHtmlBytes: 524_288,
  bodyTextBytes: 262_144,
  recipients: 500,
  attachments: 50,
  inlineContentBytes: 3_145_728,
  totalBytes: 35 * 1024 * 1024,
  addressChars: 320,
  displayNameChars: 256,
} as const;

/** Header-injection and other characters that must never reach a header: CR, LF, NUL and other controls. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const controlCharacters = /[\u0000-\u001f\u007f\u2028\u2029]/;

/**
 * An RFC 5322 addr-spec as mailroute accepts it: dot-atom local part (no quoted strings, no
 * comments), exactly one '@', a domain of dot-separated labels (Unicode allowed), no white space,
 * no angle brackets, no control characters.
 */
const localPart = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uffff-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u0080-\uffff-]+)*$/;
const domainLabel = /^[A-Za-z0-9\u0080-\uffff]([A-Za-z0-9\u0080-\uffff-]{0,61}[A-Za-z0-9\u0080-\uffff])?$/;

/** Why an address is refused, or undefined when it is acceptable. */
export function addressProblem(address: string): { injection: boolean; problem: string } | undefined {
  if (controlCharacters.test(address))
    return { injection: true, problem: 'contains CR/LF or other control characters (header injection)' };
  if (address.length === 0) return { injection: false, problem: 'is required' };
  if (address.length > outgoingMessageLimits.addressChars)
    return { injection: false, problem: `must be at most ${outgoingMessageLimits.addressChars} characters` };
  if (/[\s<>,;:"()[\]\\]/.test(address))
    return { injection: true, problem: 'must be a bare address (no white space, angle brackets, commas, quotes or comments)' };
  const at = address.indexOf('@');
  if (at <= 0 || at !== address.lastIndexOf('@'))
    return { injection: false, problem: 'must contain exactly one "@" with a local part before it' };
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64 || !localPart.test(local)) return { injection: false, problem: 'has a local part that does not parse' };
  const labels = domain.split('.');
  if (labels.length < 2 || domain.length > 253 || !labels.every((label) => domainLabel.test(label)))
    return { injection: false, problem: 'has a domain that does not parse' };
  return undefined;
}

function checkAddresses(list: readonly EmailAddress[], field: string, issues: OutgoingMessageIssue[]): void {
  list.forEach((entry, index) => {
    const problem = addressProblem(entry.address);
    if (problem) issues.push({ field: `${field}[${index}].address`, problem: problem.problem, injection: problem.injection });
    if (controlCharacters.test(entry.name))
      issues.push({
        field: `${field}[${index}].name`,
        problem: 'contains CR/LF or other control characters (header injection)',
        injection: true,
      });
    else if (entry.name.length > outgoingMessageLimits.displayNameChars)
      issues.push({
        field: `${field}[${index}].name`,
        problem: `must be at most ${outgoingMessageLimits.displayNameChars} characters`,
        injection: false,
      });
  });
}

export interface OutgoingMessageIssue {
  /** Field path as the caller wrote it, e.g. "content.to[0].address". */
  field: string;
  problem: string;
  /** True for CR/LF and other header-injection attempts and unparseable addresses. */
  injection: boolean;
}

/**
 * Every problem of an OutgoingMessage, in field order (empty when it can be sent). `prefix` is the
 * field path of the message ("content"). Attachments' bytes count against the total only when
 * given inline.
 */
export function validateOutgoingMessage(
  message: OutgoingMessage | undefined,
  kind: SendKind,
  prefix = 'content',
): OutgoingMessageIssue[] {
  const issues: OutgoingMessageIssue[] = [];
  if (!message) return [{ field: prefix, problem: 'is required', injection: false }];
  if (controlCharacters.test(message.subject))
    issues.push({
      field: `${prefix}.subject`,
      problem: 'must be a single line: CR/LF and control characters are refused (header injection)',
      injection: true,
    });
  else if ([...message.subject].length > outgoingMessageLimits.subjectChars)
    issues.push({
      field: `${prefix}.subject`,
      problem: `must be at most ${outgoingMessageLimits.subjectChars} characters`,
      injection: false,
    });
  if (kind === SendKind.SEND_KIND_NEW && message.subject.trim() === '')
    issues.push({ field: `${prefix}.subject`, problem: 'is required for a new message', injection: false });
  if (!message.bodyHtml && !message.bodyText)
    issues.push({ field: `${prefix}.body_text`, problem: 'a body (body_text or body_html) is required', injection: false });
  if (Buffer.byteLength(message.bodyHtml, 'utf8') > outgoingMessageLimits.bodyHtmlBytes)
    issues.push({
      field: `${prefix}.body_html`,
      problem: `must be at most ${outgoingMessageLimits.bodyHtmlBytes} bytes`,
      injection: false,
    });
  if (Buffer.byteLength(message.bodyText, 'utf8') > outgoingMessageLimits.bodyTextBytes)
    issues.push({
      field: `${prefix}.body_text`,
      problem: `must be at most ${outgoingMessageLimits.bodyTextBytes} bytes`,
      injection: false,
    });
  checkAddresses(message.to, `${prefix}.to`, issues);
  checkAddresses(message.cc, `${prefix}.cc`, issues);
  checkAddresses(message.bcc, `${prefix}.bcc`, issues);
  if (kind === SendKind.SEND_KIND_NEW && message.to.length === 0)
    issues.push({ field: `${prefix}.to`, problem: 'needs at least one recipient for a new message', injection: false });
  if (message.to.length + message.cc.length + message.bcc.length > outgoingMessageLimits.recipients) {
    issues.push({
      field: `${prefix}.to`,
      problem: `at most ${outgoingMessageLimits.recipients} recipients (to + cc + bcc)`,
      injection: false,
    });
  }
  if (message.attachments.length > outgoingMessageLimits.attachments)
    issues.push({
      field: `${prefix}.attachments`,
      problem: `at most ${outgoingMessageLimits.attachments} attachments`,
      injection: false,
    });
  let total = Buffer.byteLength(message.bodyHtml, 'utf8') + Buffer.byteLength(message.bodyText, 'utf8');
  message.attachments.forEach((attachment, index) => {
    const field = `${prefix}.attachments[${index}]`;
    const nameProblem = attachmentNameProblem(attachment.name);
    if (nameProblem) issues.push({ field: `${field}.name`, ...nameProblem });
    const typeProblem = attachmentContentTypeProblem(attachment.contentType);
    if (typeProblem) issues.push({ field: `${field}.content_type`, ...typeProblem });
    if (attachment.isInline && !/^[\x21-\x7e]{1,255}$/.test(attachment.contentId))
      issues.push({
        field: `${field}.content_id`,
        problem: 'is required for an inline attachment: 1-255 printable ASCII characters',
        injection: false,
      });
    const source = attachment.source;
    if (!source)
      issues.push({ field: `${field}.source`, problem: 'is required (content, upload_id or inbound)', injection: false });
    else if (source.$case === 'content') {
      if (source.value.length === 0 || source.value.length > outgoingMessageLimits.inlineContentBytes)
        issues.push({
          field: `${field}.content`,
          problem: `must be 1 to ${outgoingMessageLimits.inlineContentBytes} bytes; upload anything larger`,
          injection: false,
        });
      total += source.value.length;
    } else if (source.$case === 'inbound') {
      if (!source.value.graphMessageId)
        issues.push({ field: `${field}.inbound.graph_message_id`, problem: 'is required', injection: false });
      if (!source.value.attachmentId)
        issues.push({ field: `${field}.inbound.attachment_id`, problem: 'is required', injection: false });
    } else if (!source.value) issues.push({ field: `${field}.upload_id`, problem: 'is required', injection: false });
  });
  if (total > outgoingMessageLimits.totalBytes)
    issues.push({
      field: `${prefix}.attachments`,
      problem: `the message must be at most ${outgoingMessageLimits.totalBytes} bytes in total`,
      injection: false,
    });
  return issues;
}

/** Why an attachment's file name is refused (1-255 characters, no '/', '\\' or control characters), or undefined. */
export function attachmentNameProblem(name: string): { problem: string; injection: boolean } | undefined {
  if (name && name.length <= 255 && !/[/\\]/.test(name) && !controlCharacters.test(name)) return undefined;
  return {
    problem: 'must be 1-255 characters without "/", "\\" or control characters',
    injection: controlCharacters.test(name),
  };
}

/** Why an attachment's MIME type is refused (at most 255 characters, no control characters), or undefined. */
export function attachmentContentTypeProblem(contentType: string): { problem: string; injection: boolean } | undefined {
  if (contentType.length <= 255 && !controlCharacters.test(contentType)) return undefined;
  return { problem: 'must be at most 255 characters without control characters', injection: controlCharacters.test(contentType) };
}

/** Throws the first issue as a ValidationError (INVALID_ARGUMENT naming the field). */
export function assertValidOutgoingMessage(issues: readonly OutgoingMessageIssue[]): void {
  const first = issues[0];
  if (first) throw new ValidationError(first.field, first.problem);
}
