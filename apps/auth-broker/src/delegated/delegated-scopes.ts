import { delegatedScopes } from '../credentials/clouds';

/**
 * Delegated scopes for a user who opens a mailbox that is not their own (a shared mailbox, or another
 * user's, through the Full Access an Exchange admin granted): Graph refuses such a mailbox without the
 * `.Shared` scopes, which cover "mail a user has permission to access, including their own and shared mail".
 * https://learn.microsoft.com/graph/outlook-share-messages-folders,
 * https://learn.microsoft.com/graph/outlook-send-mail-from-other-user
 */
export const delegateScopes = ['Mail.ReadWrite.Shared', 'Mail.Send.Shared'] as const;

/** True when the signed-in user (UPN) is the mailbox itself (case-insensitive). An alias address counts as another mailbox. */
export function isOwnMailbox(signedInUser: string, mailboxAddress: string): boolean {
  return signedInUser.trim().toLowerCase() === mailboxAddress.trim().toLowerCase();
}

/** The scopes a grant's tokens carry: the plain ones for the owner's own mailbox, the `.Shared` ones for a delegate. */
export function scopesOfGrant(grant: { signedInUser: string; mailboxAddress: string }): readonly string[] {
  return isOwnMailbox(grant.signedInUser, grant.mailboxAddress) ? delegatedScopes : delegateScopes;
}
