// What a failed call means to the person at the screen: one function turns any error into a
// sentence and a kind the screens act on (sign in again, not allowed, try again).
import { ClientError, Status } from 'nice-grpc-web';
import { SignInRequiredError } from '../auth/session';

export type FailureKind = 'signed-out' | 'not-allowed' | 'not-found' | 'invalid' | 'conflict' | 'unavailable' | 'other';

/** A failure, said plainly. */
export interface Failure {
  kind: FailureKind;
  message: string;
  /** The server's own words, when it sent any. */
  detail?: string;
}

/** Maps a client error (gRPC status) or a sign-in error to a Failure. */
export function toFailure(error: unknown): Failure {
  if (error instanceof SignInRequiredError) return { kind: 'signed-out', message: 'Your sign-in has ended. Sign in again.' };
  if (error instanceof ClientError) {
    // nice-grpc-web reports a broken HTTP request (network down, gateway gone) this way.
    if (/^Transport error/i.test(error.details))
      return { kind: 'unavailable', message: 'mailroute cannot be reached right now; trying again.' };
    const details = error.details || Status[error.code];
    switch (error.code) {
      case Status.UNAUTHENTICATED:
        return { kind: 'signed-out', message: 'Your sign-in has ended. Sign in again.', detail: error.details };
      case Status.PERMISSION_DENIED:
        return { kind: 'not-allowed', message: details };
      case Status.NOT_FOUND:
        return { kind: 'not-found', message: details };
      case Status.INVALID_ARGUMENT:
        return { kind: 'invalid', message: details };
      case Status.FAILED_PRECONDITION:
      case Status.ALREADY_EXISTS:
      case Status.ABORTED:
        return { kind: 'conflict', message: details };
      case Status.UNAVAILABLE:
      case Status.DEADLINE_EXCEEDED:
        return { kind: 'unavailable', message: 'mailroute cannot be reached right now; trying again.' };
      default:
        return { kind: 'other', message: details };
    }
  }
  if (error instanceof TypeError) return { kind: 'unavailable', message: 'mailroute cannot be reached right now; trying again.' };
  return { kind: 'other', message: error instanceof Error ? error.message : String(error) };
}
