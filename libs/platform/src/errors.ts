/**
 * The closed list of error codes every mailroute component speaks. Each code maps to exactly one
 * gRPC status in `toGrpcStatus` (grpc-status.ts); nothing else decides a status.
 */
export const errorCodes = [
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'UNAUTHENTICATED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'RESOURCE_EXHAUSTED',
  'CONFIG',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface MailrouteErrorOptions {
  cause?: unknown;
  /** Whether repeating the same operation later may succeed. Defaults per code. */
  retryable?: boolean;
  /** How long the dependency asked us to wait before retrying (Retry-After), in milliseconds. */
  retryAfterMs?: number;
  /**
   * A machine-readable cause from a documented enum (e.g. "DIAGNOSTIC_CODE_SECRET_EXPIRED"), sent
   * to gRPC callers in the `mailroute-error-code` trailer so programs never parse messages.
   */
  reason?: string;
}

const retryableByDefault: ReadonlySet<ErrorCode> = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'ABORTED']);

/** Base class of every error mailroute throws on purpose. */
export class MailrouteError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly reason: string | undefined;

  constructor(code: ErrorCode, message: string, options: MailrouteErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? retryableByDefault.has(code);
    this.retryAfterMs = options.retryAfterMs;
    this.reason = options.reason;
  }
}

/** A request field is missing or malformed. `field` is the field path as the caller wrote it. */
export class ValidationError extends MailrouteError {
  readonly field: string;

  constructor(field: string, problem: string, options: MailrouteErrorOptions = {}) {
    super('INVALID_ARGUMENT', `${field}: ${problem}`, options);
    this.field = field;
  }
}

/** Most characters of a caller's value that an error message quotes (quoteForMessage). */
const maxQuotedLength = 80;

/**
 * A caller-supplied value for an error message: JSON-quoted and cut to `maxQuotedLength`
 * characters ("…" marks the cut), so hostile input never makes a long message.
 */
export function quoteForMessage(value: string): string {
  const chars = [...value];
  return chars.length <= maxQuotedLength ? JSON.stringify(value) : `${JSON.stringify(chars.slice(0, maxQuotedLength).join(''))}…`;
}

export class NotFoundError extends MailrouteError {
  constructor(resource: string, id: string, options: MailrouteErrorOptions = {}) {
    super('NOT_FOUND', `${resource} ${quoteForMessage(id)} not found`, options);
  }
}

export class AlreadyExistsError extends MailrouteError {
  constructor(resource: string, id: string, options: MailrouteErrorOptions = {}) {
    super('ALREADY_EXISTS', `${resource} ${quoteForMessage(id)} already exists`, options);
  }
}

export class PermissionDeniedError extends MailrouteError {
  constructor(message: string, options: MailrouteErrorOptions = {}) {
    super('PERMISSION_DENIED', message, options);
  }
}

export class UnauthenticatedError extends MailrouteError {
  constructor(message: string, options: MailrouteErrorOptions = {}) {
    super('UNAUTHENTICATED', message, options);
  }
}

/** The system is not in a state that allows the operation (a configuration problem an operator must fix). */
export class FailedPreconditionError extends MailrouteError {
  constructor(message: string, options: MailrouteErrorOptions = {}) {
    super('FAILED_PRECONDITION', message, options);
  }
}

/**
 * An idempotency key reused for a different request (another interaction, mailbox or content):
 * ALREADY_EXISTS naming `idempotency_key`, instead of answering with the first request's result.
 */
export class IdempotencyKeyReusedError extends MailrouteError {
  constructor(what: string, options: MailrouteErrorOptions = {}) {
    super(
      'ALREADY_EXISTS',
      `idempotency_key: already used for a different ${what} (other interaction, mailbox or content); use a new key for a new ${what}`,
      { reason: 'IDEMPOTENCY_KEY_REUSED', ...options },
    );
  }
}

/** A concurrent change won (optimistic concurrency); re-read and retry. */
export class ConflictError extends MailrouteError {
  constructor(message: string, options: MailrouteErrorOptions = {}) {
    super('ABORTED', message, options);
  }
}

/** A dependency is down, unreachable or throttling us. Retryable. */
export class UnavailableError extends MailrouteError {
  constructor(message: string, options: MailrouteErrorOptions = {}) {
    super('UNAVAILABLE', message, { retryable: true, ...options });
  }
}

/** A process configuration value is missing or invalid. `variables` names every offending one. */
export class ConfigError extends MailrouteError {
  readonly variables: readonly string[];

  constructor(problems: readonly { variable: string; problem: string }[]) {
    super('CONFIG', `invalid configuration: ${problems.map((p) => `${p.variable} ${p.problem}`).join('; ')}`, {
      retryable: false,
    });
    this.variables = problems.map((p) => p.variable);
  }
}

export function isMailrouteError(error: unknown): error is MailrouteError {
  return error instanceof MailrouteError;
}

/**
 * A stored secret was sealed with an encryption key that is not configured any more. Operators fix
 * it by putting the key back into the key ring (keys are removed only after every value is re-sealed).
 */
export class SecretKeyMissingError extends MailrouteError {
  readonly keyId: string;

  constructor(keyId: string) {
    super(
      'FAILED_PRECONDITION',
      `a stored secret is encrypted with key ${JSON.stringify(keyId)}, which is not configured; add it back to the encryption key ring`,
      { retryable: false },
    );
    this.keyId = keyId;
  }
}

/** A sealed value failed authentication: it was altered, or copied from another record. Never retryable. */
export class SecretTamperedError extends MailrouteError {
  constructor(keyId: string, cause?: unknown) {
    super('INTERNAL', `a stored secret (key ${JSON.stringify(keyId)}) does not authenticate`, { retryable: false, cause });
  }
}
