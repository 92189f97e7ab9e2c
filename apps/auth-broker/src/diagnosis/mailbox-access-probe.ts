import { CheckOutcome, DiagnosticCheck, DiagnosticCode, SetupStep, type DiagnosticFinding } from '@mailroute/contracts';
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
 * Reads `GET /users/{address}/mailFolders/inbox?$select=id` and classifies Graph's answer. Two answers
 * Graph tells apart only by message, as Microsoft documents them: "Access to OData is disabled." (an
 * application access policy) and "REST API is not yet supported for this mailbox." (no Exchange license).
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
  if (response.status === 401) return { address, kind: 'unauthenticated' };
  if (response.status === 403 && graphCode === 'ErrorAccessDenied')
    return { address, kind: /OData is disabled/i.test(message) ? 'outside-access-policy' : 'access-denied' };
  if (response.status === 404 && graphCode === 'MailboxNotEnabledForRESTAPI')
    return { address, kind: /not yet supported/i.test(message) ? 'not-licensed' : 'inactive' };
  if (response.status === 404 && (graphCode === 'ErrorInvalidUser' || graphCode === 'ResourceNotFound'))
    return { address, kind: 'not-found' };
  const transient = response.status === 429 || response.status >= 500;
  return { address, kind: transient ? 'transient' : 'other', status: response.status, graphCode };
}

interface MailboxFindingContext {
  clientId: string;
  /** Whether RBAC for Applications grants this app mail access (some probed mailbox is readable without an Entra grant). */
  rbacInUse: boolean;
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
  const app = context.clientId;
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
      return failed(
        DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_OUTSIDE_ACCESS_POLICY,
        probe,
        SetupStep.SETUP_STEP_SCOPE_MAILBOX_ACCESS,
        `An Exchange application access policy excludes ${address} from the app (Graph: "Access to OData is disabled.").`,
        `Setup step "Scope mailbox access": add the mailbox to the policy's mail-enabled security group (Add-DistributionGroupMember -Identity <policy group> -Member ${address}), then check with Test-ApplicationAccessPolicy -Identity ${address} -AppId ${app} (AccessCheckResult: Granted). Without a policy yet: New-ApplicationAccessPolicy -AppId ${app} -PolicyScopeGroupId <group> -AccessRight RestrictAccess. Changes can take an hour to reach Graph.`,
      );
    case 'access-denied':
      return context.rbacInUse
        ? failed(
            DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_OUTSIDE_RBAC_SCOPE,
            probe,
            SetupStep.SETUP_STEP_SCOPE_MAILBOX_ACCESS,
            `The app is set up with RBAC for Applications, but no management scope of its role assignments includes ${address}.`,
            `Setup step "Scope mailbox access": bring the mailbox into the scope (e.g. Set-Mailbox ${address} -CustomAttribute1 mailroute for a scope New-ManagementScope -Name "mailroute mailboxes" -RecipientRestrictionFilter "CustomAttribute1 -eq 'mailroute'"), or assign the roles on a scope that covers it: New-ManagementRoleAssignment -App ${app} -Role "Application Mail.ReadWrite" -CustomResourceScope "mailroute mailboxes" (and "Application Mail.Send"). Check: Test-ServicePrincipalAuthorization -Identity ${app} -Resource ${address} must show InScope True.`,
          )
        : failed(
            DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_ACCESS_DENIED,
            probe,
            SetupStep.SETUP_STEP_GRANT_API_PERMISSIONS,
            `Graph refuses ${address}: the app holds no mail permission for it — neither an admin-consented Mail.ReadWrite application permission nor an RBAC for Applications role assignment.`,
            `Setup steps "Grant API permissions" and "Grant admin consent": add Microsoft Graph > Application permissions > Mail.ReadWrite and Mail.Send and grant admin consent, or (recommended) grant them in Exchange only: New-ManagementScope -Name "mailroute mailboxes" -RecipientRestrictionFilter "CustomAttribute1 -eq 'mailroute'"; New-ManagementRoleAssignment -App ${app} -Role "Application Mail.ReadWrite" -CustomResourceScope "mailroute mailboxes" (and "Application Mail.Send"); Test-ServicePrincipalAuthorization -Identity ${app} -Resource ${address}.`,
          );
    case 'unauthenticated':
      return failed(
        DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_ACCESS_DENIED,
        probe,
        SetupStep.SETUP_STEP_GRANT_ADMIN_CONSENT,
        `Graph refuses the app's token for ${address}: it carries no application permission and Exchange knows no RBAC for Applications role assignment of the app.`,
        `Setup step "Grant admin consent": grant admin consent for Mail.ReadWrite and Mail.Send in Entra ID, or assign them in Exchange: New-ServicePrincipal -AppId ${app} -ObjectId <enterprise application object id>; New-ManagementRoleAssignment -App ${app} -Role "Application Mail.ReadWrite" -CustomResourceScope <scope>; Test-ServicePrincipalAuthorization -Identity ${app} -Resource ${address}.`,
      );
    case 'not-found':
      return failed(
        DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_NOT_FOUND,
        probe,
        SetupStep.SETUP_STEP_CONFIGURE_MAILBOX,
        `Graph does not know ${address} in this directory (a wrong address, or not an Exchange Online mailbox).`,
        `Setup step "Configure mailbox": correct the mailbox address in mailroute (Get-Recipient ${address} shows whether Exchange Online knows it).`,
      );
    case 'not-licensed':
      return failed(
        DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_NOT_LICENSED,
        probe,
        SetupStep.SETUP_STEP_CONFIGURE_MAILBOX,
        `${address} has no Exchange Online mailbox Graph can serve: the user holds no Exchange Online license (Graph: MailboxNotEnabledForRESTAPI).`,
        `Setup step "Configure mailbox": assign the user a license that includes Exchange Online (Microsoft 365 admin center > Users > Licenses and apps), or convert the mailbox to a shared mailbox, which needs none (Set-Mailbox ${address} -Type Shared); Get-Mailbox ${address} must then find it.`,
      );
    case 'inactive':
      return failed(
        DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_INACTIVE,
        probe,
        SetupStep.SETUP_STEP_CONFIGURE_MAILBOX,
        `${address} is inactive, soft-deleted or hosted on-premises, so Graph cannot serve it (MailboxNotEnabledForRESTAPI).`,
        `Setup step "Configure mailbox": restore the mailbox (Get-Mailbox -SoftDeletedMailbox ${address}; Undo-SoftDeletedMailbox ${address}) or move it to Exchange Online, or point mailroute at another mailbox.`,
      );
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
