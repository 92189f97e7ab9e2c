/**
 * The sandbox's own errors. Two of them are not failures of the sandbox but answers it gives on purpose:
 * `EntraError` is rendered in Entra ID's OAuth error shape (`error`, `error_description` starting with
 * `AADSTSnnnn:`, `error_codes`, …) and `GraphApiError` in Graph's `{ error: { code, message, innerError } }`
 * shape. Admin API problems reuse the platform's ValidationError / NotFoundError / AlreadyExistsError.
 */
export { AlreadyExistsError, NotFoundError, ValidationError } from '@mailroute/platform';

/** The closed list of codes of errors this app defines. */
export type SandboxErrorCode = 'ENTRA_ERROR' | 'GRAPH_ERROR' | 'TLS_MATERIAL' | 'ADMIN_REQUEST';

export interface EntraErrorInit {
  /** HTTP status (400 or 401 for most AADSTS errors). */
  status: number;
  /** The OAuth `error` value, e.g. `invalid_client`. */
  error: string;
  /** The AADSTS number, e.g. 7000215. */
  aadsts: number;
  /** The text after `AADSTSnnnn: `. */
  description: string;
  /** Entra's `suberror`, e.g. `consent_required`. */
  suberror?: string;
  /** Sent as `Retry-After` (transient STS errors). */
  retryAfterSeconds?: number;
}

/** An answer of the emulated Entra ID token service, rendered in Entra's JSON error shape. */
export class EntraError extends Error {
  readonly code: SandboxErrorCode = 'ENTRA_ERROR';
  readonly retryable: boolean;
  readonly status: number;
  readonly error: string;
  readonly aadsts: number;
  readonly description: string;
  readonly suberror: string | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(init: EntraErrorInit) {
    super(`AADSTS${init.aadsts}: ${init.description}`);
    this.name = 'EntraError';
    this.status = init.status;
    this.error = init.error;
    this.aadsts = init.aadsts;
    this.description = init.description;
    this.suberror = init.suberror;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.retryable = init.status === 429 || init.status >= 500;
  }
}

export interface GraphApiErrorInit {
  status: number;
  /** Graph's `error.code`, case-sensitive (`ErrorAccessDenied`, `syncStateNotFound`, …). */
  code: string;
  message: string;
  /** Extra response headers (`Retry-After`, `Location`, `WWW-Authenticate`). */
  headers?: Record<string, string>;
}

/** An answer of the emulated Graph API, rendered as `{ error: { code, message, innerError } }`. */
export class GraphApiError extends Error {
  readonly code: SandboxErrorCode = 'GRAPH_ERROR';
  readonly retryable: boolean;
  readonly status: number;
  readonly graphCode: string;
  readonly headers: Record<string, string>;

  constructor(init: GraphApiErrorInit) {
    super(init.message);
    this.name = 'GraphApiError';
    this.status = init.status;
    this.graphCode = init.code;
    this.headers = init.headers ?? {};
    this.retryable = init.status === 429 || init.status === 503 || init.status === 504;
  }
}

/** The CA or server certificate could not be created, loaded or written. */
export class TlsMaterialError extends Error {
  readonly code: SandboxErrorCode = 'TLS_MATERIAL';
  readonly retryable = false;

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TlsMaterialError';
  }
}

/** The admin API refused a request (`status` and its `{ error: { code, message, field? } }` body). */
export class AdminRequestError extends Error {
  readonly code = 'ADMIN_REQUEST' as const;
  readonly retryable = false;

  constructor(
    readonly status: number,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
    this.name = 'AdminRequestError';
  }
}
