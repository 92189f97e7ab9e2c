/** Whose token a mailbox is read with (mirrors auth-broker's GetAccessToken principals). */
export type GraphPrincipal = { kind: 'app-only'; credentialsId: string } | { kind: 'delegated'; mailboxAddress: string };

/** A Graph access token and the Graph host it is for. */
export interface GraphAccessToken {
  /** Secret: sent only as a bearer token to `graphEndpoint`; never logged. */
  accessToken: string;
  /** Graph base URL without version, e.g. "https://graph.microsoft.com". */
  graphEndpoint: string;
}

/** Where tokens come from (auth-broker in the services; MSAL directly in tests). */
export interface GraphTokenProvider {
  /** `forceRefresh` after Graph answered 401 with the previous token. */
  getToken(tenantId: string, principal: GraphPrincipal, options: { forceRefresh: boolean }): Promise<GraphAccessToken>;
}

/** One mailbox as seen by Graph calls. */
export interface MailboxTarget {
  /** mailroute tenant (passed to the token provider). */
  tenantId: string;
  /** SMTP address, UPN or user id of the mailbox. */
  address: string;
  principal: GraphPrincipal;
}

export interface GraphEmailAddress {
  name?: string;
  address?: string;
}

export interface GraphRecipient {
  emailAddress?: GraphEmailAddress;
}

export interface GraphInternetMessageHeader {
  name: string;
  value: string;
}

/** The subset of Graph's message resource mailroute reads. Every field may be missing. */
export interface GraphMessage {
  id: string;
  internetMessageId?: string | null;
  conversationId?: string | null;
  subject?: string | null;
  receivedDateTime?: string | null;
  sentDateTime?: string | null;
  from?: GraphRecipient | null;
  sender?: GraphRecipient | null;
  replyTo?: GraphRecipient[] | null;
  toRecipients?: GraphRecipient[] | null;
  ccRecipients?: GraphRecipient[] | null;
  body?: { contentType?: string; content?: string } | null;
  bodyPreview?: string | null;
  importance?: string | null;
  isRead?: boolean | null;
  hasAttachments?: boolean | null;
  internetMessageHeaders?: GraphInternetMessageHeader[] | null;
  parentFolderId?: string | null;
}

/** Attachment metadata as listed by Graph (content fetched separately). */
export interface GraphAttachment {
  id: string;
  '@odata.type'?: string;
  name?: string | null;
  contentType?: string | null;
  size?: number | null;
  isInline?: boolean | null;
  contentId?: string | null;
  contentBytes?: string | null;
}

export interface GraphMailFolder {
  id: string;
  displayName: string;
  parentFolderId?: string | null;
  totalItemCount?: number;
  unreadItemCount?: number;
}

/** One page of a messages delta round. */
export interface DeltaPage {
  /** New or changed messages, in Graph's order. */
  messages: GraphMessage[];
  /** Ids of messages that left the folder (`@removed`: moved out or deleted). */
  removedIds: string[];
  /** Set while the round has more pages. */
  nextLink?: string | undefined;
  /** Set on the round's last page: where the next round starts. */
  deltaLink?: string | undefined;
}

/** How a delta round starts when there is no stored link. */
export interface DeltaStart {
  /** Folder id or well-known name. */
  folderId: string;
  /** Only messages received at or after this time (Graph allows only `receivedDateTime ge`). */
  receivedSince?: Date | undefined;
}

/** Folder selection as the mailbox configuration names it. */
export type FolderSelector = { wellKnownName: string } | { path: string } | { folderId: string };

/**
 * Graph asked a client to slow down: a 429, or a 503 carrying Retry-After (Exchange's other way of
 * throttling). Reported by the clients' `onThrottled` option before the request is retried or failed.
 */
export interface GraphThrottleEvent {
  target: MailboxTarget;
  /** 429 or 503. */
  status: number;
  /** The wait Graph asked for (a default when it named none). */
  retryAfterMs: number;
  /** The operation, e.g. `delta`, `get-message`, `send`. */
  what: string;
}

/** Reports throttling, e.g. to metrics; must not throw. */
export type GraphThrottleObserver = (event: GraphThrottleEvent) => void;

/** The throttling event of a classified failure, when it is one. */
export function throttleEventOf(
  error: { kind: string; status: number; retryAfterMs?: number | undefined },
  target: MailboxTarget,
  what: string,
): GraphThrottleEvent | undefined {
  if (error.kind === 'throttled') return { target, status: error.status || 429, retryAfterMs: error.retryAfterMs ?? 1_000, what };
  if (error.kind === 'unavailable' && error.status === 503 && error.retryAfterMs !== undefined)
    return { target, status: 503, retryAfterMs: error.retryAfterMs, what };
  return undefined;
}

/** What mailbox-fetch subscribes to: a folder's messages, notifications to `notificationUrl`. */
export interface GraphSubscriptionRequest {
  folderId: string;
  /** `created` or `created,updated`. */
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl: string;
  expiration: Date;
  /** A secret of this subscription (at most 128 characters), echoed in every notification. */
  clientState: string;
}

/** A Graph subscription as created or renewed. */
export interface GraphSubscription {
  id: string;
  expirationDateTime: string;
  resource?: string;
}
