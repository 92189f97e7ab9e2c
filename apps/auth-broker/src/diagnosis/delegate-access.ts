import { CheckOutcome, DiagnosticCheck, DiagnosticCode, SetupStep, type DiagnosticFinding } from '@mailroute/contracts';
import type { AuthBrokerCore } from '../auth-broker';
import { tenantKey } from '../store/auth-broker.stores';
import { findingFor, passed, skipped } from './findings';
import { mailboxFinding, probeMailbox } from './mailbox-access-probe';

const sharedScopes = ['mail.read.shared', 'mail.readwrite.shared'];

/**
 * Findings for mailboxes read through a delegated grant: the signed-in user's token reads the mailbox's
 * inbox. On another user's or a shared mailbox Graph refuses it (403 ErrorAccessDenied) when the token
 * lacks the `.Shared` scopes or the user lacks Full Access; the finding says which, with the remedy.
 * Send As cannot be read through Graph without sending, so it is named as a manual check.
 */
export async function delegateAccessFindings(
  core: AuthBrokerCore,
  tenantId: string,
  addresses: readonly string[],
): Promise<DiagnosticFinding[]> {
  const findings: DiagnosticFinding[] = [];
  for (const address of addresses) {
    const details = { mailbox: address };
    const grant = await core.stores.grants.get(tenantKey(tenantId, address));
    if (!grant) {
      findings.push(findingFor(DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_MISSING, { details }));
      continue;
    }
    const record = await core.loadCredentials(tenantId, grant.credentialsId, true);
    if (!record) {
      findings.push(findingFor(DiagnosticCode.DIAGNOSTIC_CODE_CREDENTIALS_NOT_FOUND, { details }));
      continue;
    }
    let accessToken: string;
    try {
      accessToken = (await core.delegatedTokens.getToken(grant, record, { minValidityMs: 60_000, forceRefresh: false }))
        .accessToken;
    } catch {
      const latest = await core.stores.grants.get(tenantKey(tenantId, address));
      const finding = latest?.lastFailure ?? findingFor(DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED);
      findings.push({
        ...finding,
        check: DiagnosticCheck.DIAGNOSTIC_CHECK_DELEGATED_GRANT,
        details: { ...finding.details, ...details },
      });
      continue;
    }
    const user = grant.signedInUser;
    const own = user.toLowerCase() === address;
    const probe = await probeMailbox(record.graphEndpoint, accessToken, address);
    if (probe.kind === 'readable') {
      findings.push(
        passed(DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS, `${user} may read ${address} through the delegated grant.`, {
          ...details,
          signed_in_user: user,
        }),
      );
      if (!own)
        findings.push({
          ...skipped(DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_SEND_ACCESS),
          message: `Not checked: Graph shows Send As only when sending. Replies go out from ${address} only if ${user} holds Send As: Get-RecipientPermission -Identity ${address} -Trustee ${user} must list SendAs; else Add-RecipientPermission -Identity ${address} -Trustee ${user} -AccessRights SendAs.`,
          details: { ...details, signed_in_user: user },
        });
      continue;
    }
    if (probe.kind !== 'access-denied' || own) {
      findings.push(mailboxFinding(probe, { clientId: record.clientId, rbacInUse: false }));
      continue;
    }
    const hasShared = grant.grantedScopes.some((scope) => sharedScopes.includes(scope.toLowerCase()));
    findings.push(
      hasShared
        ? {
            check: DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS,
            outcome: CheckOutcome.CHECK_OUTCOME_FAILED,
            code: DiagnosticCode.DIAGNOSTIC_CODE_DELEGATE_FULL_ACCESS_MISSING,
            message: `${user} signed in for ${address} but holds no Full Access to it, so Graph refuses the delegated token.`,
            setupStep: SetupStep.SETUP_STEP_DELEGATED_SIGN_IN,
            remedy: `Setup step "Delegated sign-in": an Exchange admin grants Full Access (Add-MailboxPermission -Identity ${address} -User ${user} -AccessRights FullAccess -AutoMapping $false; Get-MailboxPermission -Identity ${address} -User ${user} shows it), and Send As for replies (Add-RecipientPermission -Identity ${address} -Trustee ${user} -AccessRights SendAs). Or sign in as a user who holds them. Permission changes can take up to an hour.`,
            details: { ...details, signed_in_user: user, graph_error_code: 'ErrorAccessDenied' },
          }
        : {
            check: DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS,
            outcome: CheckOutcome.CHECK_OUTCOME_FAILED,
            code: DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_ACCESS_DENIED,
            message: `${user} signed in for ${address}, which is not their own mailbox, but the grant lacks the Mail.ReadWrite.Shared scope a delegate needs.`,
            setupStep: SetupStep.SETUP_STEP_GRANT_API_PERMISSIONS,
            remedy: `Setup step "Grant API permissions": add the delegated permissions Mail.ReadWrite.Shared and Mail.Send.Shared to the app and grant consent, then sign in again for ${address} (mailroute mailbox sign-in ${address}).`,
            details: { ...details, signed_in_user: user, granted_scopes: grant.grantedScopes.join(' ') },
          },
    );
  }
  return findings;
}
