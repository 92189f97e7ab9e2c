import { CheckOutcome, DiagnosticCheck, DiagnosticCode, SetupStep, type DiagnosticFinding } from '@mailroute/contracts';
import { mailboxAccessAdvice, mailboxAccessCause, type MailboxAccessCause } from '@mailroute/graph-mail';
import { passed } from './findings';

/** What Graph answered to reading one mailbox's inbox with the app-only token. */
export type MailboxProbe =
  | { address: string; kind: 'readable' }
  | {
      address: string;
      kind: 'unauthenticated' | 'access-denied' | 'outside-access-policy' | 'not-found' | 'not-licensed' | 'inactive';
    }
  | { address: string; kind: 'transient' | 'other'; status: number; graphCode: string };

const probeTimeoutMs = 15_000;

/**
 * Reads `GET /users/{address}/mailFolders/inbox?$select=id` and classifies Graph's answer with graph-mail's
 * `mailboxAccessCause` (shared with mailbox-fetch's `mailbox diagnose`).
 */
export async function probeMailbox(graphEndpoint: string, accessToken: string, address: string): Promise<MailboxProbe> {
  const url = `${graphEndpoint.replace(/\/+$/, '')}/v1.0/users/${encodeURIComponent(address)}/mailFolders/inbox?$select=id`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${accessToken}` },
      signal: AbortSignal.timeout(probeTimeoutMs),
    });
  } catch {
    return { address, kind: 'transient', status: 0, graphCode: 'network' };
  }
  if (response.ok) {
    await response.body?.cancel();
    return { address, kind: 'readable' };
  }
  const body = (await response.json().catch(() => ({}))) as { error?: { code?: unknown; message?: unknown } };
  const graphCode = typeof body.error?.code === 'string' ? body.error.code : '';
  const message = typeof body.error?.message === 'string' ? body.error.message : '';
  const cause = mailboxAccessCause({ status: response.status, graphCode, message });
  if (cause === 'token-rejected') return { address, kind: 'unauthenticated' };
  if (cause === 'permission-missing-or-outside-rbac-scope') return { address, kind: 'access-denied' };
  if (cause) return { address, kind: cause as 'outside-access-policy' | 'not-found' | 'not-licensed' | 'inactive' };
  const transient = response.status === 429 || response.status >= 500;
  return { address, kind: transient ? 'transient' : 'other', status: response.status, graphCode };
}

interface MailboxFindingContext {
  clientId: string;
  /** Whether RBAC for Applications grants this app mail access (some probed mailbox is readable without an Entra grant). */
  rbacInUse: boolean;
}

function advised(probe: MailboxProbe, cause: MailboxAccessCause, context: MailboxFindingContext): DiagnosticFinding {
  const advice = mailboxAccessAdvice(cause, { address: probe.address, appId: context.clientId });
  return failed(
    DiagnosticCode[`DIAGNOSTIC_CODE_${advice.code}`],
    probe,
    SetupStep[`SETUP_STEP_${advice.setupStep}`],
    advice.message,
    advice.remedy,
  );
}

function failed(
  code: DiagnosticCode,
  probe: MailboxProbe,
  step: SetupStep,
  message: string,
  remedy: string,
  outcome = CheckOutcome.CHECK_OUTCOME_FAILED,
): DiagnosticFinding {
  const details: Record<string, string> = { mailbox: probe.address };
  if ('graphCode' in probe && probe.graphCode) details['graph_error_code'] = probe.graphCode;
  if ('status' in probe) details['http_status'] = String(probe.status);
  return {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS,
    outcome,
    code,
    message,
    setupStep: step,
    remedy,
    details,
  };
}

/** The per-mailbox finding for one probe, naming the cause and the PowerShell an Exchange admin runs. */
export function mailboxFinding(probe: MailboxProbe, context: MailboxFindingContext): DiagnosticFinding {
  const { address } = probe;
  switch (probe.kind) {
    case 'readable':
      return passed(
        DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS,
        context.rbacInUse
          ? `The app may read ${address} (granted by an RBAC for Applications role assignment).`
          : `The app may read ${address}.`,
        { mailbox: address },
      );
    case 'outside-access-policy':
    case 'not-found':
    case 'not-licensed':
    case 'inactive':
      return advised(probe, probe.kind, context);
    case 'access-denied':
      // Tenant-wide, a plain 403 is told apart: an app that reads other mailboxes without an Entra grant uses RBAC.
      return advised(probe, context.rbacInUse ? 'outside-rbac-scope' : 'permission-missing', context);
    case 'unauthenticated':
      return advised(probe, 'token-rejected', context);
    case 'transient':
      return failed(
        DiagnosticCode.DIAGNOSTIC_CODE_TRANSIENT_ERROR,
        probe,
        SetupStep.SETUP_STEP_UNSPECIFIED,
        `Graph did not answer for ${address} (throttling or a temporary failure); the check could not finish.`,
        'Nothing to change; run the diagnosis again in a minute.',
        CheckOutcome.CHECK_OUTCOME_WARNING,
      );
    default:
      return failed(
        DiagnosticCode.DIAGNOSTIC_CODE_UNKNOWN_ERROR,
        probe,
        SetupStep.SETUP_STEP_SCOPE_MAILBOX_ACCESS,
        `Graph refused ${address} with an answer mailroute does not classify.`,
        'Setup step "Scope mailbox access": check the mailbox with Test-ServicePrincipalAuthorization and Test-ApplicationAccessPolicy; the details carry Graph\'s error code for a support ticket.',
      );
  }
}
