import { GraphApiError } from '../errors';

/** Graph's answers for the error paths the sandbox emulates (codes are case-sensitive, as Graph's are). */
export const graphErrors = {
  badRequest: (message: string, code = 'BadRequest') => new GraphApiError({ status: 400, code, message }),
  unknownSegment: (segment: string) =>
    new GraphApiError({ status: 400, code: 'BadRequest', message: `Resource not found for the segment '${segment}'.` }),
  methodNotAllowed: (method: string) =>
    new GraphApiError({
      status: 405,
      code: 'UnsupportedHttpMethod',
      message: `The HTTP method '${method}' is not supported for this resource.`,
    }),
  unknownProperty: (property: string, type = 'microsoft.graph.message') =>
    new GraphApiError({
      status: 400,
      code: 'RequestBroker--ParseUri',
      message: `Could not find a property named '${property}' on type '${type}'.`,
    }),
  invalidFilter: (detail: string) =>
    new GraphApiError({ status: 400, code: 'BadRequest', message: `Invalid filter clause: ${detail}` }),
  /** A token without the mail permission the endpoint needs (or a cached token minted before consent). */
  accessDenied: () =>
    new GraphApiError({ status: 403, code: 'ErrorAccessDenied', message: 'Access is denied. Check credentials and try again.' }),
  /** Sending from an address the sending user holds neither Send As nor Send on Behalf for. */
  sendAsDenied: () =>
    new GraphApiError({
      status: 403,
      code: 'ErrorSendAsDenied',
      message:
        'The user account which was used to submit this request does not have the right to send mail on behalf of the specified sending account. Cannot submit message.',
    }),
  /** The mailbox is outside the app's application access policy. */
  odataDisabled: () => new GraphApiError({ status: 403, code: 'ErrorAccessDenied', message: 'Access to OData is disabled.' }),
  directoryDenied: () =>
    new GraphApiError({
      status: 403,
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.',
    }),
  invalidUser: (user: string) =>
    new GraphApiError({ status: 404, code: 'ErrorInvalidUser', message: `The requested user '${user}' is invalid.` }),
  mailboxNotEnabled: () =>
    new GraphApiError({
      status: 404,
      code: 'MailboxNotEnabledForRESTAPI',
      message: 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
    }),
  /** A user mailbox without an Exchange Online license (or one never provisioned). */
  mailboxUnlicensed: () =>
    new GraphApiError({
      status: 404,
      code: 'MailboxNotEnabledForRESTAPI',
      message: 'REST API is not yet supported for this mailbox.',
    }),
  itemNotFound: () =>
    new GraphApiError({ status: 404, code: 'ErrorItemNotFound', message: 'The specified object was not found in the store.' }),
  folderExists: () =>
    new GraphApiError({ status: 409, code: 'ErrorFolderExists', message: 'A folder with the specified name already exists.' }),
  invalidHeader: (name: string) =>
    new GraphApiError({
      status: 400,
      code: 'InvalidInternetMessageHeader',
      message: `The internet message header name '${name}' should start with 'x-' or 'X-'.`,
    }),
  headersTooLarge: () =>
    new GraphApiError({
      status: 400,
      code: 'InvalidInternetMessageHeaderCollection',
      message: 'Maximum total length of the internet message headers is 256 KB.',
    }),
  invalidRecipients: (unresolved?: string) =>
    new GraphApiError({
      status: 400,
      code: 'ErrorInvalidRecipients',
      message: unresolved
        ? `At least one recipient isn't valid., Recipient '${unresolved}' is not resolved. All recipients must be resolved before a message can be submitted.`
        : "At least one recipient isn't valid.",
    }),
  messageSizeExceeded: () =>
    new GraphApiError({
      status: 400,
      code: 'ErrorMessageSizeExceeded',
      message: 'The message exceeds the maximum supported size., Cannot save changes made to an item to store.',
    }),
  tooManyRecipients: () =>
    new GraphApiError({
      status: 400,
      code: 'ErrorTooManyRecipients',
      message: 'The message exceeds the maximum number of recipients (500).',
    }),
  commentAndBody: () =>
    new GraphApiError({
      status: 400,
      code: 'ErrorInvalidArgument',
      message: "A comment and a message body can't both be specified.",
    }),
  notDraft: () => new GraphApiError({ status: 400, code: 'ErrorInvalidOperation', message: 'Only draft messages can be sent.' }),
  readOnlyHeaders: () =>
    new GraphApiError({
      status: 400,
      code: 'ErrorInvalidPropertyUpdateSentMessage',
      message: 'internetMessageHeaders can only be set when the message is created.',
    }),
  attachmentTooLarge: () =>
    new GraphApiError({
      status: 413,
      code: 'ErrorAttachmentSizeLimitExceeded',
      message: 'The attachment is larger than 3 MB: use an upload session (attachments/createUploadSession).',
    }),
  throttled: (retryAfterSeconds: number, limit: 'MailboxConcurrency' | 'MailboxRequests') =>
    new GraphApiError({
      status: 429,
      code: 'ApplicationThrottled',
      message: `Application is over its ${limit} limit.`,
      headers: { 'Retry-After': String(retryAfterSeconds) },
    }),
  /** An evicted or too-old delta token. */
  syncStateNotFound: (generation: number, highest: number) =>
    new GraphApiError({
      status: 410,
      code: 'SyncStateNotFound',
      message: `The sync state generation is not found; generation=${generation};[highest=${highest}]. The delta token is expired.`,
    }),
  /** A token the service cannot use any more: start over from `location`. */
  resyncRequired: (location: string) =>
    new GraphApiError({
      status: 410,
      code: 'resyncRequired',
      message: 'The delta token is no longer valid. A full resync is required.',
      headers: { Location: location },
    }),
  injected: (status: number, retryAfterSeconds?: number) => {
    const headers: Record<string, string> = retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) };
    switch (status) {
      case 400:
        return new GraphApiError({
          status,
          code: 'BadRequest',
          message: 'The request is not supported (injected fault).',
          headers,
        });
      case 403:
        return new GraphApiError({
          status,
          code: 'ErrorAccessDenied',
          message: 'Access is denied. Check credentials and try again.',
          headers,
        });
      case 404:
        return new GraphApiError({
          status,
          code: 'ErrorItemNotFound',
          message: 'The specified object was not found in the store.',
          headers,
        });
      case 429:
        return new GraphApiError({
          status,
          code: 'ApplicationThrottled',
          message: 'Application is over its MailboxConcurrency limit.',
          headers,
        });
      case 503:
        return new GraphApiError({
          status,
          code: 'serviceNotAvailable',
          message: 'The service is temporarily unavailable. Try again later.',
          headers,
        });
      case 504:
        return new GraphApiError({
          status,
          code: 'UnknownError',
          message: 'The gateway timed out waiting for the backend.',
          headers,
        });
      default:
        return new GraphApiError({ status, code: 'generalException', message: 'An unexpected error occurred.', headers });
    }
  },
};
