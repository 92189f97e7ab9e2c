import { ClientError, Status } from 'nice-grpc-common';

/** Exit codes of the CLI: 0 success, 1 a call failed, 2 the command line is wrong. */
export const exitCodes = { ok: 0, callFailed: 1, usage: 2 } as const;

/** The command line is wrong: shown with the command's usage, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure the CLI explains itself (e.g. a file that cannot be read, a sign-in that failed): exit code 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** Trailing metadata of the error contract (proto/mailroute/v1/common.proto, "Errors"). */
export interface ErrorTrailers {
  errorCode?: string;
  retryAfterMs?: string;
}

/** A failed gRPC call with the service it went to and the trailers it carried. */
export class CallFailedError extends Error {
  override readonly name = 'CallFailedError';
  constructor(
    readonly service: string,
    readonly address: string,
    readonly clientError: ClientError,
    readonly trailers: ErrorTrailers,
  ) {
    super(clientError.details);
  }
}

/**
 * The lines shown for a failure: the gRPC status name and message, the `mailroute-error-code` and
 * `retry-after-ms` trailers when present, and a hint for the usual connection and credential
 * problems. Never a stack trace.
 */
export function describeFailure(error: unknown): string[] {
  if (error instanceof CallFailedError) {
    const cause = error.clientError;
    const details = cause.details.replace(/\.?\s*Resolution note:\s*$/, '');
    const lines = [`error: ${Status[cause.code] ?? cause.code} from ${error.service} (${error.address}): ${details}`];
    if (error.trailers.errorCode) lines.push(`  mailroute-error-code: ${error.trailers.errorCode}`);
    if (error.trailers.retryAfterMs) lines.push(`  retry-after-ms: ${error.trailers.retryAfterMs}`);
    const hint = hintFor(cause.code, error.service);
    if (hint) lines.push(`  hint: ${hint}`);
    return lines;
  }
  if (error instanceof UsageError || error instanceof CliError) return [`error: ${error.message}`];
  if (error instanceof ClientError) return [`error: ${Status[error.code] ?? error.code}: ${error.details}`];
  return [`error: ${error instanceof Error ? error.message : String(error)}`];
}

function hintFor(code: Status, service: string): string | undefined {
  const flag = serviceFlags[service];
  switch (code) {
    case Status.UNAVAILABLE:
      return flag ? `is ${service} running there? Set ${flag.option} or ${flag.env}.` : undefined;
    case Status.UNAUTHENTICATED:
      return service === 'interaction-router (agent desktop)'
        ? 'sign in again (the Entra ID token is missing, expired or not accepted by the router)'
        : 'set the API key with --api-key or MAILROUTE_API_KEY (a key configured for this tenant on that service)';
    case Status.PERMISSION_DENIED:
      return service === 'interaction-router (agent desktop)'
        ? 'the signed-in account must be an enabled agent of the tenant (mailroute agent create <id> --upn <user> …)'
        : 'the API key lacks the scope this command needs (see docs/cli.md, "API keys")';
    default:
      return undefined;
  }
}

const serviceFlags: Record<string, { option: string; env: string }> = {
  'auth-broker': { option: '--auth-broker', env: 'MAILROUTE_AUTH_BROKER' },
  'mailbox-fetch': { option: '--mailbox-fetch', env: 'MAILROUTE_MAILBOX_FETCH' },
  'interaction-router': { option: '--router', env: 'MAILROUTE_ROUTER' },
  'interaction-router (agent desktop)': { option: '--router', env: 'MAILROUTE_ROUTER' },
};
