import { DiagnosticCheck, DiagnosticCode, MailboxAccessMode, MailboxSyncState, SetupStep } from '@mailroute/contracts';
import { isGraphMailError, mailboxAccessAdvice, type GraphMailErrorKind, type MailboxAccessCause } from '@mailroute/graph-mail';
import { isMailrouteError, isRetryable } from '@mailroute/platform';
import { ClientError, Status } from 'nice-grpc-common';
import type { FindingRecord } from '../store/mailbox-fetch.records';

export interface SyncFailure {
  state: MailboxSyncState;
  finding: FindingRecord;
  /** Transient: kept out of the visible state until it repeats. */
  transient: boolean;
  retryAfterMs?: number | undefined;
}

const finding = (
  check: DiagnosticCheck,
  code: DiagnosticCode,
  setupStep: SetupStep,
  message: string,
  remedy: string,
  details: Record<string, string> = {},
): FindingRecord => ({
  check,
  code,
  setupStep,
  message,
  remedy,
  details,
});

/** The cause a mailbox-level error stands for when Graph's answer named none more precisely (e.g. a 403 without ErrorAccessDenied). */
const causeOfKind: Partial<Record<GraphMailErrorKind, MailboxAccessCause>> = {
  'outside-access-policy': 'outside-access-policy',
  'access-denied': 'permission-missing-or-outside-rbac-scope',
  'mailbox-not-found': 'not-found',
};

/**
 * What a failed sync turn means for the operator: the mailbox's state and a finding in operator
 * language with the setup step that fixes it. Graph errors are classified by graph-mail, and a mailbox's
 * access or availability is worded by graph-mail's `mailboxAccessAdvice` — the causes and remedies
 * auth-broker's `tenant diagnose` reports too; token
 * errors come from auth-broker as gRPC statuses with the DiagnosticCode in `mailroute-error-code`.
 */
export function describeSyncFailure(
  error: unknown,
  address: string,
  accessMode?: MailboxAccessMode,
  /** The application (client) id the remedies name, when known (the diagnosis reads it from the token). */
  appId?: string,
): SyncFailure {
  if (isGraphMailError(error)) {
    const details: Record<string, string> = { graph_error_code: error.graphCode, http_status: String(error.status) };
    if (error.requestId) details['request_id'] = error.requestId;
    if (error.kind === 'access-denied' && accessMode === MailboxAccessMode.MAILBOX_ACCESS_MODE_DELEGATED)
      return delegateDenied(address, details);
    const cause = error.mailboxAccess ?? causeOfKind[error.kind];
    if (cause && cause !== 'token-rejected') {
      const advice = mailboxAccessAdvice(cause, { address, ...(appId ? { appId } : {}) });
      const missing = cause === 'not-found' || cause === 'not-licensed' || cause === 'inactive';
      return {
        state: missing ? MailboxSyncState.MAILBOX_SYNC_STATE_NOT_FOUND : MailboxSyncState.MAILBOX_SYNC_STATE_ACCESS_DENIED,
        transient: false,
        finding: finding(
          missing ? DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_EXISTS : DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS,
          DiagnosticCode[`DIAGNOSTIC_CODE_${advice.code}`],
          SetupStep[`SETUP_STEP_${advice.setupStep}`],
          advice.message,
          advice.remedy,
          details,
        ),
      };
    }
    switch (error.kind) {
      case 'throttled':
        return {
          state: MailboxSyncState.MAILBOX_SYNC_STATE_THROTTLED,
          transient: false,
          retryAfterMs: error.retryAfterMs,
          finding: finding(
            DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS,
            DiagnosticCode.DIAGNOSTIC_CODE_THROTTLED,
            SetupStep.SETUP_STEP_UNSPECIFIED,
            `Microsoft Graph is throttling requests to ${address}; mailroute waits as asked and then continues.`,
            'Nothing to do unless it persists; other apps using the same mailbox share its Graph budget.',
            details,
          ),
        };
      case 'not-found':
        return {
          state: MailboxSyncState.MAILBOX_SYNC_STATE_NOT_FOUND,
          transient: false,
          finding: finding(
            DiagnosticCheck.DIAGNOSTIC_CHECK_FOLDER_EXISTS,
            DiagnosticCode.DIAGNOSTIC_CODE_FOLDER_NOT_FOUND,
            SetupStep.SETUP_STEP_CONFIGURE_MAILBOX,
            `The folder to read does not exist in ${address}.`,
            'Create the folder in the mailbox, or change the mailbox configuration to an existing folder.',
            details,
          ),
        };
      case 'unauthorized':
        return {
          state: MailboxSyncState.MAILBOX_SYNC_STATE_AUTH_FAILED,
          transient: false,
          finding: finding(
            DiagnosticCheck.DIAGNOSTIC_CHECK_TOKEN_ACQUIRED,
            DiagnosticCode.DIAGNOSTIC_CODE_ADMIN_CONSENT_MISSING,
            SetupStep.SETUP_STEP_GRANT_ADMIN_CONSENT,
            "Microsoft Graph rejects the app's token (no permissions in it, or it was revoked).",
            "Grant admin consent for the app's Mail permissions in Entra ID, then run DiagnoseTenant in auth-broker.",
            details,
          ),
        };
      default:
        break;
    }
  }
  if (
    error instanceof ClientError &&
    [Status.FAILED_PRECONDITION, Status.PERMISSION_DENIED, Status.UNAUTHENTICATED, Status.NOT_FOUND].includes(error.code)
  ) {
    return authFailed(error.details);
  }
  if (
    isMailrouteError(error) &&
    ['FAILED_PRECONDITION', 'PERMISSION_DENIED', 'UNAUTHENTICATED'].includes(error.code) &&
    !isGraphMailError(error)
  ) {
    return authFailed(error.message);
  }
  return {
    state: MailboxSyncState.MAILBOX_SYNC_STATE_ERROR,
    transient: isRetryable(error) || !isMailrouteError(error),
    finding: finding(
      DiagnosticCheck.DIAGNOSTIC_CHECK_UNSPECIFIED,
      isRetryable(error) ? DiagnosticCode.DIAGNOSTIC_CODE_TRANSIENT_ERROR : DiagnosticCode.DIAGNOSTIC_CODE_UNKNOWN_ERROR,
      SetupStep.SETUP_STEP_UNSPECIFIED,
      isRetryable(error)
        ? 'A dependency (Microsoft Graph, the event bus or the database) is temporarily unavailable; intake resumes by itself.'
        : 'Syncing failed with an unexpected error; mailroute keeps retrying with backoff.',
      'Nothing to do unless it persists; the service log has the cause.',
      { error: error instanceof Error ? error.name : 'unknown' },
    ),
  };
}

/**
 * A delegated mailbox Graph refuses: the user who signed in for it has lost (or never had) Full Access to it,
 * or their token lacks the `.Shared` scopes a mailbox other than their own needs. Nothing is skipped meanwhile:
 * the delta link stays where it was, so mail that arrives is read once access is back.
 */
function delegateDenied(address: string, details: Record<string, string>): SyncFailure {
  return {
    state: MailboxSyncState.MAILBOX_SYNC_STATE_ACCESS_DENIED,
    transient: false,
    finding: finding(
      DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS,
      DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_ACCESS_DENIED,
      SetupStep.SETUP_STEP_DELEGATED_SIGN_IN,
      `Exchange Online denies the signed-in delegate access to ${address} (ErrorAccessDenied): the user who signed in for it has no Full Access permission on the mailbox (removed, or never granted), or the sign-in lacks the delegated permission Mail.ReadWrite.Shared.`,
      `In Exchange, give the signed-in user Full Access: Add-MailboxPermission -Identity ${address} -User <signed-in user> -AccessRights FullAccess -AutoMapping $false (and Send As to reply: Add-RecipientPermission -Identity ${address} -Trustee <signed-in user> -AccessRights SendAs); check Mail.ReadWrite.Shared and Mail.Send.Shared are consented. Intake resumes where it stopped.`,
      details,
    ),
  };
}

function authFailed(reason: string): SyncFailure {
  return {
    state: MailboxSyncState.MAILBOX_SYNC_STATE_AUTH_FAILED,
    transient: false,
    finding: finding(
      DiagnosticCheck.DIAGNOSTIC_CHECK_TOKEN_ACQUIRED,
      DiagnosticCode.DIAGNOSTIC_CODE_CREDENTIALS_NOT_FOUND,
      SetupStep.SETUP_STEP_ENTER_CREDENTIALS,
      `No Graph token could be had for this mailbox: ${reason.slice(0, 600)}`,
      'Run DiagnoseTenant in auth-broker and fix the tenant credentials or the delegated sign-in it reports.',
    ),
  };
}
