import { ClientError, ServerError, Status } from 'nice-grpc-common';
import { isMailrouteError, type ErrorCode } from './errors';

const statusByCode: Record<ErrorCode, Status> = {
  INVALID_ARGUMENT: Status.INVALID_ARGUMENT,
  NOT_FOUND: Status.NOT_FOUND,
  ALREADY_EXISTS: Status.ALREADY_EXISTS,
  PERMISSION_DENIED: Status.PERMISSION_DENIED,
  UNAUTHENTICATED: Status.UNAUTHENTICATED,
  FAILED_PRECONDITION: Status.FAILED_PRECONDITION,
  ABORTED: Status.ABORTED,
  UNAVAILABLE: Status.UNAVAILABLE,
  DEADLINE_EXCEEDED: Status.DEADLINE_EXCEEDED,
  RESOURCE_EXHAUSTED: Status.RESOURCE_EXHAUSTED,
  CONFIG: Status.FAILED_PRECONDITION,
  INTERNAL: Status.INTERNAL,
};

/** The message callers see for anything we did not classify; the details go to the log only. */
export const internalErrorMessage = 'internal error';

export interface MappedStatus {
  status: Status;
  message: string;
  /** True when the error was not one of ours: log it with its stack. */
  unexpected: boolean;
  /** Trailing metadata for programs: `mailroute-error-code`, `retry-after-ms`. */
  trailers?: Record<string, string>;
}

/**
 * Longest status message sent to a caller, in characters. Messages can carry caller-supplied text
 * (an id, a mask path); the message travels as the `grpc-message` trailer, and a trailer of
 * megabytes makes grpc-js clients tear down the whole HTTP/2 session, not just fail the call.
 */
export const maxStatusMessageLength = 1024;

/** `message` cut to `maxStatusMessageLength` characters ("…" marks the cut). */
export function capStatusMessage(message: string): string {
  if (message.length <= maxStatusMessageLength) return message;
  const chars = [...message];
  return chars.length <= maxStatusMessageLength ? message : `${chars.slice(0, maxStatusMessageLength - 1).join('')}…`;
}

/** Trailer names of the error contract (proto/mailroute/v1/common.proto, "Errors"). */
export const errorTrailers = { reason: 'mailroute-error-code', retryAfterMs: 'retry-after-ms' } as const;

/**
 * The single error → gRPC status mapping of mailroute. Our own errors keep their message (they are
 * written for callers); a ServerError thrown deliberately passes through; a ClientError from a
 * downstream call keeps its status only when it is a transient one (so a dependency outage reads as
 * UNAVAILABLE), and anything else becomes INTERNAL with a generic message. Every message is capped
 * (capStatusMessage), whoever wrote it.
 */
export function toGrpcStatus(error: unknown): MappedStatus {
  const mapped = mapError(error);
  return { ...mapped, message: capStatusMessage(mapped.message) };
}

function mapError(error: unknown): MappedStatus {
  if (isMailrouteError(error)) {
    const status = statusByCode[error.code];
    if (status === Status.INTERNAL) return { status, message: internalErrorMessage, unexpected: true };
    const trailers: Record<string, string> = {};
    if (error.reason) trailers[errorTrailers.reason] = error.reason;
    if (error.retryAfterMs !== undefined) trailers[errorTrailers.retryAfterMs] = String(Math.ceil(error.retryAfterMs));
    return { status, message: error.message, unexpected: false, ...(Object.keys(trailers).length ? { trailers } : {}) };
  }
  if (error instanceof ServerError) {
    return { status: error.code, message: error.details, unexpected: error.code === Status.INTERNAL };
  }
  if (error instanceof ClientError) {
    if (error.code === Status.UNAVAILABLE || error.code === Status.DEADLINE_EXCEEDED) {
      return { status: Status.UNAVAILABLE, message: `dependency unavailable: ${error.path}`, unexpected: false };
    }
    return { status: Status.INTERNAL, message: internalErrorMessage, unexpected: true };
  }
  if (isAbortError(error)) {
    return { status: Status.CANCELLED, message: 'call cancelled', unexpected: false };
  }
  return { status: Status.INTERNAL, message: internalErrorMessage, unexpected: true };
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}
