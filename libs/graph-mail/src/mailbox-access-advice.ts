/**
 * Why an app-only caller cannot use one mailbox, from Graph's answer to a mailbox request, and what the
 * Exchange admin runs to fix it. auth-broker's `tenant diagnose` and mailbox-fetch's `mailbox diagnose`
 * both report these causes with these words; the DiagnosticCode and SetupStep are named here by their
 * proto names without prefix (this lib does not import the contracts).
 *
 * Graph's answers, as Microsoft documents them:
 * - 403 ErrorAccessDenied "Access to OData is disabled." — an application access policy takes the app's Entra
 *   grant away for this mailbox (https://learn.microsoft.com/en-us/graph/auth-limit-mailbox-access);
 * - 403 ErrorAccessDenied "Access is denied. Check credentials and try again." — no grant reaches the mailbox:
 *   no Entra Mail.* application permission, or an RBAC for Applications role assignment whose management scope
 *   leaves the mailbox out (https://learn.microsoft.com/en-us/exchange/permissions-exo/application-rbac). One
 *   mailbox's answer does not tell the two apart; the tenant-wide view (other mailboxes readable without an Entra
 *   grant) or Test-ServicePrincipalAuthorization does;
 * - 404 MailboxNotEnabledForRESTAPI "REST API is not yet supported for this mailbox." — a user without an Exchange
 *   Online license; with any other message — an inactive, soft-deleted or on-premises mailbox.
 */
export type MailboxAccessCause =
  | 'outside-access-policy'
  | 'outside-rbac-scope'
  | 'permission-missing'
  | 'permission-missing-or-outside-rbac-scope'
  | 'token-rejected'
  | 'not-found'
  | 'not-licensed'
  | 'inactive';

/** Graph's answer to a request on one mailbox (status, `error.code`, `error.message`). */
export interface GraphMailboxAnswer {
  status: number;
  graphCode: string;
  message: string;
}

/**
 * The cause one mailbox answer shows; undefined for answers that say nothing about the mailbox's set-up
 * (throttling, outages, item-level 404s). A plain 403 is `permission-missing-or-outside-rbac-scope`: only a
 * caller who knows whether RBAC for Applications grants the app anything can narrow it.
 */
export function mailboxAccessCause(answer: GraphMailboxAnswer): MailboxAccessCause | undefined {
  const { status, graphCode, message } = answer;
  if (status === 401) return 'token-rejected';
  if (status === 403 && graphCode === 'ErrorAccessDenied')
    return /OData is disabled/i.test(message) ? 'outside-access-policy' : 'permission-missing-or-outside-rbac-scope';
  if (status === 404 && graphCode === 'MailboxNotEnabledForRESTAPI')
    return /not yet supported/i.test(message) ? 'not-licensed' : 'inactive';
  if (status === 404 && (graphCode === 'ErrorInvalidUser' || graphCode === 'ResourceNotFound')) return 'not-found';
  return undefined;
}

/** A finding's words for a cause: DiagnosticCode and SetupStep proto names without their prefixes. */
export interface MailboxAccessAdvice {
  code:
    | 'MAILBOX_OUTSIDE_ACCESS_POLICY'
    | 'MAILBOX_OUTSIDE_RBAC_SCOPE'
    | 'MAILBOX_ACCESS_DENIED'
    | 'MAILBOX_NOT_FOUND'
    | 'MAILBOX_NOT_LICENSED'
    | 'MAILBOX_INACTIVE';
  setupStep: 'SCOPE_MAILBOX_ACCESS' | 'GRANT_API_PERMISSIONS' | 'GRANT_ADMIN_CONSENT' | 'CONFIGURE_MAILBOX';
  message: string;
  remedy: string;
}

const rbacSetup = (app: string, address: string) =>
  `New-ManagementScope -Name "mailroute mailboxes" -RecipientRestrictionFilter "CustomAttribute1 -eq 'mailroute'"; New-ManagementRoleAssignment -App ${app} -Role "Application Mail.ReadWrite" -CustomResourceScope "mailroute mailboxes" (and "Application Mail.Send"); Test-ServicePrincipalAuthorization -Identity ${app} -Resource ${address}`;

/**
 * Message and remedy (the PowerShell an Exchange admin runs) for `cause` on `address`. `appId` is the
 * application (client) id; without it the remedy names the placeholder `<application (client) id>`.
 */
export function mailboxAccessAdvice(cause: MailboxAccessCause, target: { address: string; appId?: string }): MailboxAccessAdvice {
  const { address } = target;
  const app = target.appId || '<application (client) id>';
  switch (cause) {
    case 'outside-access-policy':
      return {
        code: 'MAILBOX_OUTSIDE_ACCESS_POLICY',
        setupStep: 'SCOPE_MAILBOX_ACCESS',
        message: `An Exchange application access policy excludes ${address} from the app (Graph: "Access to OData is disabled.").`,
        remedy: `Setup step "Scope mailbox access": add the mailbox to the policy's mail-enabled security group (Add-DistributionGroupMember -Identity <policy group> -Member ${address}), then check with Test-ApplicationAccessPolicy -Identity ${address} -AppId ${app} (AccessCheckResult: Granted). Without a policy yet: New-ApplicationAccessPolicy -AppId ${app} -PolicyScopeGroupId <group> -AccessRight RestrictAccess. Changes can take an hour to reach Graph.`,
      };
    case 'outside-rbac-scope':
      return {
        code: 'MAILBOX_OUTSIDE_RBAC_SCOPE',
        setupStep: 'SCOPE_MAILBOX_ACCESS',
        message: `The app is set up with RBAC for Applications, but no management scope of its role assignments includes ${address}.`,
        remedy: `Setup step "Scope mailbox access": bring the mailbox into the scope (e.g. Set-Mailbox ${address} -CustomAttribute1 mailroute for a scope New-ManagementScope -Name "mailroute mailboxes" -RecipientRestrictionFilter "CustomAttribute1 -eq 'mailroute'"), or assign the roles on a scope that covers it: New-ManagementRoleAssignment -App ${app} -Role "Application Mail.ReadWrite" -CustomResourceScope "mailroute mailboxes" (and "Application Mail.Send"). Check: Test-ServicePrincipalAuthorization -Identity ${app} -Resource ${address} must show InScope True.`,
      };
    case 'permission-missing':
      return {
        code: 'MAILBOX_ACCESS_DENIED',
        setupStep: 'GRANT_API_PERMISSIONS',
        message: `Graph refuses ${address}: the app holds no mail permission for it — neither an admin-consented Mail.ReadWrite application permission nor an RBAC for Applications role assignment.`,
        remedy: `Setup steps "Grant API permissions" and "Grant admin consent": add Microsoft Graph > Application permissions > Mail.ReadWrite and Mail.Send and grant admin consent, or (recommended) grant them in Exchange only: ${rbacSetup(app, address)}.`,
      };
    case 'permission-missing-or-outside-rbac-scope':
      return {
        code: 'MAILBOX_ACCESS_DENIED',
        setupStep: 'SCOPE_MAILBOX_ACCESS',
        message: `Graph refuses ${address} with a plain 403 ErrorAccessDenied. From this mailbox's answer alone it cannot be told whether the app holds no mail permission at all (no admin-consented Mail.ReadWrite, no RBAC for Applications role assignment) or an RBAC for Applications management scope leaves ${address} out: Graph gives both the same answer. \`mailroute tenant diagnose\` tells them apart by probing the tenant's other mailboxes.`,
        remedy: `Run \`mailroute tenant diagnose --mailboxes ${address}\`, or in Exchange Online PowerShell: Test-ServicePrincipalAuthorization -Identity ${app} -Resource ${address} (InScope False: bring the mailbox into the role assignment's scope, e.g. Set-Mailbox ${address} -CustomAttribute1 mailroute; no role assignment listed: ${rbacSetup(app, address)}, or add Microsoft Graph > Application permissions > Mail.ReadWrite and Mail.Send in Entra ID and grant admin consent).`,
      };
    case 'token-rejected':
      return {
        code: 'MAILBOX_ACCESS_DENIED',
        setupStep: 'GRANT_ADMIN_CONSENT',
        message: `Graph refuses the app's token for ${address}: it carries no application permission and Exchange knows no RBAC for Applications role assignment of the app.`,
        remedy: `Setup step "Grant admin consent": grant admin consent for Mail.ReadWrite and Mail.Send in Entra ID, or assign them in Exchange: New-ServicePrincipal -AppId ${app} -ObjectId <enterprise application object id>; New-ManagementRoleAssignment -App ${app} -Role "Application Mail.ReadWrite" -CustomResourceScope <scope>; Test-ServicePrincipalAuthorization -Identity ${app} -Resource ${address}.`,
      };
    case 'not-found':
      return {
        code: 'MAILBOX_NOT_FOUND',
        setupStep: 'CONFIGURE_MAILBOX',
        message: `Graph does not know ${address} in this directory (a wrong address, or not an Exchange Online mailbox).`,
        remedy: `Setup step "Configure mailbox": correct the mailbox address in mailroute (Get-Recipient ${address} shows whether Exchange Online knows it).`,
      };
    case 'not-licensed':
      return {
        code: 'MAILBOX_NOT_LICENSED',
        setupStep: 'CONFIGURE_MAILBOX',
        message: `${address} has no Exchange Online mailbox Graph can serve: the user holds no Exchange Online license (Graph: MailboxNotEnabledForRESTAPI).`,
        remedy: `Setup step "Configure mailbox": assign the user a license that includes Exchange Online (Microsoft 365 admin center > Users > Licenses and apps), or convert the mailbox to a shared mailbox, which needs none (Set-Mailbox ${address} -Type Shared); Get-Mailbox ${address} must then find it.`,
      };
    case 'inactive':
      return {
        code: 'MAILBOX_INACTIVE',
        setupStep: 'CONFIGURE_MAILBOX',
        message: `${address} is inactive, soft-deleted or hosted on-premises, so Graph cannot serve it (MailboxNotEnabledForRESTAPI).`,
        remedy: `Setup step "Configure mailbox": restore the mailbox (Get-Mailbox -SoftDeletedMailbox ${address}; Undo-SoftDeletedMailbox ${address}) or move it to Exchange Online, or point mailroute at another mailbox.`,
      };
  }
}
