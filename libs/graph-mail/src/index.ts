export { GraphMailError, type GraphMailErrorDetails, type GraphMailErrorKind, isGraphMailError } from './errors';
export {
  type DeltaPage,
  type DeltaStart,
  type FolderSelector,
  type GraphAccessToken,
  type GraphAttachment,
  type GraphEmailAddress,
  type GraphInternetMessageHeader,
  type GraphMailFolder,
  type GraphMessage,
  type GraphPrincipal,
  type GraphRecipient,
  type GraphSubscription,
  type GraphSubscriptionRequest,
  type GraphThrottleEvent,
  type GraphThrottleObserver,
  type GraphTokenProvider,
  type MailboxTarget,
} from './graph-mail.types';
export { mailboxKey } from './mailbox-call';
export { fenceCheckedAtHeader } from './request-fence';
export { createMailboxLimiter, type MailboxLimiter, type MailboxLimiterOptions } from './mailbox-limiter';
export { type MailHtmlReader, type MailHtmlSanitizeOptions, type SanitizedHtml, sanitizeMailHtml } from './mail-html-sanitizer';
export { classifyAutomation, type MailAutomation, type MailAutomationInput, sendIdHeader } from './mail-automation';
export {
  createGraphMailClient,
  type GraphMailClient,
  type GraphMailClientOptions,
  type MailboxGraph,
  type MailboxGraphOptions,
} from './graph-mail.client';
export {
  createGraphSendClient,
  type GraphDraft,
  type GraphDraftInput,
  type GraphOutgoingAttachment,
  type GraphSendClient,
  type GraphSendClientOptions,
  internetHeaderProperty,
  type MailboxSender,
  type StreamedAttachmentContent,
} from './graph-send.client';
export {
  type GraphMailboxAnswer,
  type MailboxAccessAdvice,
  type MailboxAccessCause,
  mailboxAccessAdvice,
  mailboxAccessCause,
} from './mailbox-access-advice';
