import { AuthError, InteractionRequiredAuthError } from '@azure/msal-node';
import { DelegatedGrantState, DiagnosticCheck, DiagnosticCode, type DiagnosticFinding } from '@mailroute/contracts';
import { FailedPreconditionError, UnavailableError, type MailrouteError } from '@mailroute/platform';
import { findingFor } from '../diagnosis/findings';
import type { WireProblem } from './entra-network';

/** A token acquisition failure, classified for operators (finding) and for callers (transient or not). */
export interface EntraFailure {
  /** True when retrying later may succeed without anyone changing configuration. */
  transient: boolean;
  /** The FAILED finding in operator language, with the setup step that fixes it. */
  finding: DiagnosticFinding;
  retryAfterMs?: number | undefined;
  /** For delegated grants: the state the failure puts the grant in. */
  grantState?: DelegatedGrantState | undefined;
  /**
   * For the operator's log only: the connection or TLS error code behind AUTHORITY_UNREACHABLE
   * (e.g. ECONNREFUSED, SELF_SIGNED_CERT_IN_CHAIN). Callers get one answer for every way the host
   * could not be reached over trusted HTTPS, so the diagnosis tells a tenant admin nothing about
   * which hosts and ports exist.
   */
  networkError?: string | undefined;
}

const byAadsts = new Map<number, DiagnosticCode>([
  [90002, DiagnosticCode.DIAGNOSTIC_CODE_TENANT_NOT_FOUND],
  [700016, DiagnosticCode.DIAGNOSTIC_CODE_APP_NOT_FOUND],
  [700011, DiagnosticCode.DIAGNOSTIC_CODE_APP_NOT_FOUND],
  [7000112, DiagnosticCode.DIAGNOSTIC_CODE_APP_DISABLED],
  [70001, DiagnosticCode.DIAGNOSTIC_CODE_APP_DISABLED],
  [7000215, DiagnosticCode.DIAGNOSTIC_CODE_SECRET_INVALID],
  [7000222, DiagnosticCode.DIAGNOSTIC_CODE_SECRET_EXPIRED],
  [700027, DiagnosticCode.DIAGNOSTIC_CODE_CERTIFICATE_REJECTED],
  [700030, DiagnosticCode.DIAGNOSTIC_CODE_CERTIFICATE_REJECTED],
  [700021, DiagnosticCode.DIAGNOSTIC_CODE_CERTIFICATE_REJECTED],
  [700024, DiagnosticCode.DIAGNOSTIC_CODE_CERTIFICATE_REJECTED],
  [50013, DiagnosticCode.DIAGNOSTIC_CODE_CERTIFICATE_REJECTED],
  [65001, DiagnosticCode.DIAGNOSTIC_CODE_ADMIN_CONSENT_MISSING],
  [90094, DiagnosticCode.DIAGNOSTIC_CODE_ADMIN_CONSENT_MISSING],
  [90095, DiagnosticCode.DIAGNOSTIC_CODE_ADMIN_CONSENT_MISSING],
  [53003, DiagnosticCode.DIAGNOSTIC_CODE_BLOCKED_BY_CONDITIONAL_ACCESS],
  [70000, DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED],
  [70008, DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED],
  [700082, DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED],
  [70043, DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED],
  [50173, DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED],
  [50076, DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED],
  [50079, DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED],
  [90033, DiagnosticCode.DIAGNOSTIC_CODE_TRANSIENT_ERROR],
  [90024, DiagnosticCode.DIAGNOSTIC_CODE_TRANSIENT_ERROR],
  [90006, DiagnosticCode.DIAGNOSTIC_CODE_TRANSIENT_ERROR],
  [90055, DiagnosticCode.DIAGNOSTIC_CODE_THROTTLED],
]);

const grantStateByCode = new Map<DiagnosticCode, DelegatedGrantState>([
  [DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED, DelegatedGrantState.DELEGATED_GRANT_STATE_SIGN_IN_REQUIRED],
  [DiagnosticCode.DIAGNOSTIC_CODE_ADMIN_CONSENT_MISSING, DelegatedGrantState.DELEGATED_GRANT_STATE_CONSENT_REQUIRED],
  [DiagnosticCode.DIAGNOSTIC_CODE_BLOCKED_BY_CONDITIONAL_ACCESS, DelegatedGrantState.DELEGATED_GRANT_STATE_BLOCKED_BY_POLICY],
]);

/** Codes whose usual check is not where a token request reveals them. */
const tokenTimeCheck = new Map<DiagnosticCode, DiagnosticCheck>([
  [DiagnosticCode.DIAGNOSTIC_CODE_SECRET_EXPIRED, DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_ACCEPTED],
  [DiagnosticCode.DIAGNOSTIC_CODE_CERTIFICATE_EXPIRED, DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_ACCEPTED],
]);

/**
 * Classifies what MSAL threw, using what the wire saw: Entra's AADSTS code (from the error or the
 * last error response), TLS and connection failures, throttling and 5xx. Never reads secrets.
 */
export function classifyEntraFailure(error: unknown, wire: WireProblem | undefined): EntraFailure {
  const details: Record<string, string> = {};
  const aadsts = aadstsOf(error) ?? (wire?.kind === 'http' ? wire.aadsts : undefined);
  if (error instanceof AuthError) {
    details['msal_error'] = error.errorCode;
    if (error.correlationId) details['correlation_id'] = error.correlationId;
  }
  if (aadsts !== undefined) details['aadsts'] = String(aadsts);
  const status = httpStatusOf(error) ?? (wire?.kind === 'http' ? wire.status : undefined);
  if (status !== undefined) details['http_status'] = String(status);
  const retryAfterMs = wire?.kind === 'http' ? wire.retryAfterMs : undefined;

  let code = aadsts !== undefined ? byAadsts.get(aadsts) : undefined;
  if (code === undefined && error instanceof InteractionRequiredAuthError) {
    code = /consent/i.test(error.subError + error.errorCode)
      ? DiagnosticCode.DIAGNOSTIC_CODE_ADMIN_CONSENT_MISSING
      : DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED;
  }
  if (
    code === undefined &&
    error instanceof AuthError &&
    ['no_tokens_found', 'no_account_found', 'no_account_in_silent_request'].includes(error.errorCode)
  ) {
    code = DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED;
  }
  // Refused, timed out, DNS, or a certificate not trusted: one answer to the caller (see networkError).
  const networkError = code === undefined && wire?.kind === 'network' ? (wire.code ?? 'network') : undefined;
  if (networkError !== undefined) code = DiagnosticCode.DIAGNOSTIC_CODE_AUTHORITY_UNREACHABLE;
  if (code === undefined && status !== undefined && (status === 429 || status >= 500)) {
    code = status === 429 ? DiagnosticCode.DIAGNOSTIC_CODE_THROTTLED : DiagnosticCode.DIAGNOSTIC_CODE_TRANSIENT_ERROR;
  }
  if (
    code === undefined &&
    error instanceof AuthError &&
    ['network_error', 'endpoints_resolution_error'].includes(error.errorCode)
  ) {
    code = DiagnosticCode.DIAGNOSTIC_CODE_TRANSIENT_ERROR;
  }
  code ??= DiagnosticCode.DIAGNOSTIC_CODE_UNKNOWN_ERROR;

  const transient =
    code === DiagnosticCode.DIAGNOSTIC_CODE_THROTTLED ||
    code === DiagnosticCode.DIAGNOSTIC_CODE_TRANSIENT_ERROR ||
    code === DiagnosticCode.DIAGNOSTIC_CODE_AUTHORITY_UNREACHABLE;
  return {
    transient,
    finding: findingFor(code, { details, ...(tokenTimeCheck.has(code) ? { check: tokenTimeCheck.get(code) } : {}) }),
    retryAfterMs: transient ? (retryAfterMs ?? (code === DiagnosticCode.DIAGNOSTIC_CODE_THROTTLED ? 60_000 : 5_000)) : undefined,
    grantState: grantStateByCode.get(code),
    networkError,
  };
}

/**
 * The gRPC-facing error for a failure: UNAVAILABLE (+ retry-after-ms) when transient, otherwise
 * FAILED_PRECONDITION with the fix in the message. Both carry the DiagnosticCode name in the
 * `mailroute-error-code` trailer.
 */
export function toCallError(failure: EntraFailure, subject: string): MailrouteError {
  const reason = DiagnosticCode[failure.finding.code];
  const message = `${subject}: ${failure.finding.message} ${failure.finding.remedy}`;
  return failure.transient
    ? new UnavailableError(message, {
        reason,
        ...(failure.retryAfterMs !== undefined ? { retryAfterMs: failure.retryAfterMs } : {}),
      })
    : new FailedPreconditionError(message, { reason });
}

function aadstsOf(error: unknown): number | undefined {
  if (!(error instanceof AuthError)) return undefined;
  const errorNo = Number((error as { errorNo?: unknown }).errorNo);
  if (Number.isFinite(errorNo) && errorNo > 0) return errorNo;
  const match = /AADSTS(\d+)/.exec(error.errorMessage);
  return match?.[1] ? Number(match[1]) : undefined;
}

function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
}
