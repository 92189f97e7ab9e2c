import { MailrouteError, type ErrorCode } from '@mailroute/platform';
import { mailboxAccessCause, type MailboxAccessCause } from './mailbox-access-advice';

/**
 * The closed list of ways a Graph mail call fails, as mailroute acts on them:
 *
 * | kind | Graph answer | retryable |
 * | --- | --- | --- |
 * | `throttled` | 429 (MailboxConcurrency / request budget), carries Retry-After | yes |
 * | `unavailable` | 5xx, network failure, timeout | yes |
 * | `unauthorized` | 401 (token rejected: expired, wrong audience, no roles) | once, with a fresh token |
 * | `outside-access-policy` | 403 ErrorAccessDenied "Access to OData is disabled." (an application access policy) | no |
 * | `access-denied` | other 403, e.g. ErrorAccessDenied "Access is denied. Check credentials and try again." (missing Mail.* permission, token minted before consent, or a mailbox outside the app's RBAC for Applications management scope) | no |
 * | `mailbox-not-found` | 404 ErrorInvalidUser / MailboxNotEnabledForRESTAPI | no |
 * | `not-found` | 404 for an item or folder | no |
 * | `resync-required` | 410 SyncStateNotFound / resyncRequired: the delta link is gone | no (start over) |
 * | `folder-exists` | 409 ErrorFolderExists | no |
 * | `rejected` | any other 4xx | no |
 */
export const graphMailErrorKinds = [
  'throttled',
  'unavailable',
  'unauthorized',
  'outside-access-policy',
  'access-denied',
  'mailbox-not-found',
  'not-found',
  'resync-required',
  'folder-exists',
  'rejected',
] as const;

export type GraphMailErrorKind = (typeof graphMailErrorKinds)[number];

const codeByKind: Readonly<Record<GraphMailErrorKind, ErrorCode>> = {
  throttled: 'UNAVAILABLE',
  unavailable: 'UNAVAILABLE',
  unauthorized: 'UNAUTHENTICATED',
  'outside-access-policy': 'PERMISSION_DENIED',
  'access-denied': 'PERMISSION_DENIED',
  'mailbox-not-found': 'NOT_FOUND',
  'not-found': 'NOT_FOUND',
  'resync-required': 'FAILED_PRECONDITION',
  'folder-exists': 'ALREADY_EXISTS',
  rejected: 'FAILED_PRECONDITION',
};

export interface GraphMailErrorDetails {
  /** HTTP status Graph answered; 0 for network failures. */
  status: number;
  /** Graph's `error.code`, e.g. "ErrorAccessDenied"; empty when none. */
  graphCode: string;
  requestId?: string | undefined;
  retryAfterMs?: number | undefined;
  /** 410 `Location`: where a resync starts. */
  location?: string | undefined;
  cause?: unknown;
  /** What the answer says about the mailbox's set-up (see mailbox-access-advice.ts); undefined when nothing. */
  mailboxAccess?: MailboxAccessCause | undefined;
}

/** A classified Graph failure. `kind` decides what callers do; `code` maps it to a gRPC status. */
export class GraphMailError extends MailrouteError {
  readonly kind: GraphMailErrorKind;
  readonly status: number;
  readonly graphCode: string;
  readonly requestId: string | undefined;
  readonly location: string | undefined;
  /** Why Graph refused the mailbox (access policy, plain 403, unlicensed, inactive, unknown), for diagnosis. */
  readonly mailboxAccess: MailboxAccessCause | undefined;

  constructor(kind: GraphMailErrorKind, message: string, details: GraphMailErrorDetails) {
    super(codeByKind[kind], message, {
      cause: details.cause,
      retryable: kind === 'throttled' || kind === 'unavailable',
      ...(details.retryAfterMs !== undefined ? { retryAfterMs: details.retryAfterMs } : {}),
      reason: details.graphCode || undefined,
    });
    this.kind = kind;
    this.status = details.status;
    this.graphCode = details.graphCode;
    this.requestId = details.requestId;
    this.location = details.location;
    this.mailboxAccess = details.mailboxAccess;
  }
}

export function isGraphMailError(error: unknown, kind?: GraphMailErrorKind): error is GraphMailError {
  return error instanceof GraphMailError && (kind === undefined || error.kind === kind);
}

/** Graph's Retry-After header (seconds, or an HTTP date) in milliseconds. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

interface GraphErrorLike {
  statusCode?: unknown;
  code?: unknown;
  message?: unknown;
  requestId?: unknown;
  headers?: { get(name: string): string | null } | undefined;
  body?: unknown;
}

/** Default wait for a 429 without Retry-After (Graph always sends one; be conservative if not). */
const defaultThrottleMs = 5_000;

/**
 * Classifies anything the Graph client threw (GraphError, a fetch/network error) into a
 * GraphMailError. Decided on status and Graph error code, never on message text, except where Graph
 * only distinguishes by message (mailbox-access-advice.ts): "Access to OData is disabled." (an
 * application access policy excludes the mailbox). A mailbox outside an RBAC for Applications
 * management scope gets the plain 403 ErrorAccessDenied "Access is denied. Check credentials and try
 * again." — the same answer as a missing permission — so it is `access-denied`.
 */
export function classifyGraphError(error: unknown, nowMs: number = Date.now()): GraphMailError {
  if (error instanceof GraphMailError) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as GraphErrorLike;
  const status = typeof e.statusCode === 'number' ? e.statusCode : 0;
  const graphCode = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : String(error);
  const details: GraphMailErrorDetails = {
    status,
    graphCode,
    requestId: typeof e.requestId === 'string' ? e.requestId : undefined,
    cause: error,
    mailboxAccess: mailboxAccessCause({ status, graphCode, message }),
  };
  const header = (name: string) => e.headers?.get?.(name) ?? null;
  const describe = (what: string) => `graph: ${what} (${status || 'network'}${graphCode ? ` ${graphCode}` : ''}): ${message}`;

  if (status === 429) {
    return new GraphMailError('throttled', describe('throttled'), {
      ...details,
      retryAfterMs: parseRetryAfter(header('Retry-After'), nowMs) ?? defaultThrottleMs,
    });
  }
  // graph-client reports a request that got no response (abort, timeout, reset) as statusCode -1.
  if (status <= 0 || status >= 500 || status === 408) {
    return new GraphMailError('unavailable', describe('unavailable'), {
      ...details,
      retryAfterMs: parseRetryAfter(header('Retry-After'), nowMs),
    });
  }
  if (status === 401) return new GraphMailError('unauthorized', describe('token rejected'), details);
  if (status === 403) {
    const outside = details.mailboxAccess === 'outside-access-policy';
    return new GraphMailError(outside ? 'outside-access-policy' : 'access-denied', describe('access denied'), details);
  }
  if (status === 404) {
    const mailbox =
      graphCode === 'ErrorInvalidUser' || graphCode === 'MailboxNotEnabledForRESTAPI' || graphCode === 'ResourceNotFound';
    return new GraphMailError(mailbox ? 'mailbox-not-found' : 'not-found', describe('not found'), details);
  }
  if (status === 410)
    return new GraphMailError('resync-required', describe('delta state gone'), {
      ...details,
      location: header('Location') ?? undefined,
    });
  if (status === 409 && graphCode === 'ErrorFolderExists')
    return new GraphMailError('folder-exists', describe('folder exists'), details);
  return new GraphMailError('rejected', describe('request rejected'), details);
}
