// Mailbox permissions of users on other mailboxes, as an Exchange admin sets them up:
//   Full Access     Add-MailboxPermission -Identity <mailbox> -User <trustee> -AccessRights FullAccess
//   Send As         Add-RecipientPermission -Identity <mailbox> -Trustee <trustee> -AccessRights SendAs
//   Send on Behalf  Set-Mailbox -Identity <mailbox> -GrantSendOnBehalfTo @{Add="<trustee>"}
// (and the matching Remove-… / @{Remove=…} to revoke).
import { ValidationError } from '../errors';
import type { Mailbox, MailboxPermissions, Tenant } from './model.types';

export const mailboxRights = ['FullAccess', 'SendAs', 'SendOnBehalf'] as const;
export type MailboxRight = (typeof mailboxRights)[number];

const setOf: Record<MailboxRight, keyof MailboxPermissions> = {
  FullAccess: 'fullAccess',
  SendAs: 'sendAs',
  SendOnBehalf: 'sendOnBehalf',
};

/** The rights `trusteeId` holds on `mailbox`. */
function rightsOf(mailbox: Mailbox, trusteeId: string): MailboxRight[] {
  return mailboxRights.filter((right) => mailbox.permissions[setOf[right]].has(trusteeId));
}

export function hasMailboxRight(mailbox: Mailbox, trusteeId: string, right: MailboxRight): boolean {
  return mailbox.permissions[setOf[right]].has(trusteeId);
}

/**
 * Grants (`granted` true) or removes rights of a trustee on a mailbox. The trustee must be a user of the
 * same tenant that can hold permissions: not the mailbox itself, not a shared mailbox (its account is
 * disabled and signs in nowhere).
 */
export function setMailboxRights(
  tenant: Tenant,
  mailbox: Mailbox,
  trustee: Mailbox | undefined,
  rights: readonly MailboxRight[],
  granted: boolean,
): void {
  if (!trustee || trustee.tenantId !== tenant.id) throw new ValidationError('user', 'no such user in this tenant');
  if (trustee.id === mailbox.id) throw new ValidationError('user', 'a mailbox owner needs no permission on their own mailbox');
  if (trustee.userPurpose === 'shared')
    throw new ValidationError('user', 'a shared mailbox cannot hold permissions (its account is disabled)');
  for (const right of rights) {
    const set = mailbox.permissions[setOf[right]];
    if (granted) set.add(trustee.id);
    else set.delete(trustee.id);
  }
}

/** What `Get-MailboxPermission` / `Get-RecipientPermission` / GrantSendOnBehalfTo show, per trustee. */
export function permissionEntries(
  tenant: Tenant,
  mailbox: Mailbox,
): Array<{ user: string; userId: string; accessRights: MailboxRight[] }> {
  const trustees = new Set([
    ...mailbox.permissions.fullAccess,
    ...mailbox.permissions.sendAs,
    ...mailbox.permissions.sendOnBehalf,
  ]);
  return [...trustees].map((userId) => ({
    user: tenant.mailboxes.get(userId)?.userPrincipalName ?? userId,
    userId,
    accessRights: rightsOf(mailbox, userId),
  }));
}
