// Who may open and send from a mailbox: the owner with the plain scopes, an app with application
// permissions, and a signed-in delegate only with the `.Shared` scopes plus the mailbox permissions
// an Exchange admin granted (model/mailbox-permissions.ts).
import { graphErrors } from '../graph/graph-errors';
import { hasMailboxRight } from '../model/mailbox-permissions';
import type { Mailbox, Recipient } from '../model/model.types';
import type { SandboxState } from '../model/sandbox-state';
import type { GraphCaller } from './access-token';
import { hasMailPermission, hasSharedMailPermission, type MailAccess } from './permissions';

/**
 * Throws 403 `ErrorAccessDenied` unless the caller may do `access` on `mailbox`:
 * - an app needs the application permission (application access policies are checked by the caller);
 * - a signed-in user on their own mailbox needs the scope, plain or `.Shared`;
 * - a signed-in user on any other mailbox (another user's, a shared one) needs the `.Shared` scope AND
 *   Full Access on that mailbox — also to send through its endpoint (`/users/{shared}/sendMail`).
 */
export function authorizeMailboxAccess(caller: GraphCaller, mailbox: Mailbox, access: MailAccess): void {
  if (caller.kind === 'app') {
    if (!hasMailPermission(caller.permissions, access)) throw graphErrors.accessDenied();
    return;
  }
  if (mailbox.id === caller.userId) {
    if (hasMailPermission(caller.permissions, access) || hasSharedMailPermission(caller.permissions, access)) return;
    throw graphErrors.accessDenied();
  }
  if (!hasSharedMailPermission(caller.permissions, access)) throw graphErrors.accessDenied();
  if (!caller.userId || !hasMailboxRight(mailbox, caller.userId, 'FullAccess')) throw graphErrors.accessDenied();
}

/** `from` and `sender` of a message a caller sends through `mailbox`. */
export interface SendingIdentity {
  from: Recipient;
  sender: Recipient;
}

const recipientOf = (mailbox: Mailbox): Recipient => ({ emailAddress: { name: mailbox.displayName, address: mailbox.mail } });

/**
 * Who a message goes out as. The acting user is the signed-in user (delegated) or the mailbox's own user
 * (app-only: "send mail as any user by sending the mail normally through the user's mailbox"). The From is
 * the message's `from`, else the mailbox the request names. A From other than the acting user needs Send As
 * (From = Sender = that address) or Send on Behalf (From that address, Sender the acting user), and a
 * delegated caller needs Mail.Send.Shared for it; otherwise 403 `ErrorSendAsDenied`.
 */
export function sendingIdentity(
  state: SandboxState,
  caller: GraphCaller,
  mailbox: Mailbox,
  requestedFrom: Recipient | undefined,
): SendingIdentity {
  const actor = caller.kind === 'user' ? caller.tenant.mailboxes.get(caller.userId ?? '') : mailbox;
  if (!actor) throw graphErrors.accessDenied();
  const fromMailbox = requestedFrom ? state.findMailbox(caller.tenant, requestedFrom.emailAddress.address) : mailbox;
  if (!fromMailbox) throw graphErrors.sendAsDenied();
  if (fromMailbox.id === actor.id) return { from: recipientOf(actor), sender: recipientOf(actor) };
  if (caller.kind === 'user' && !hasSharedMailPermission(caller.permissions, 'send')) throw graphErrors.accessDenied();
  if (hasMailboxRight(fromMailbox, actor.id, 'SendAs'))
    return { from: recipientOf(fromMailbox), sender: recipientOf(fromMailbox) };
  if (hasMailboxRight(fromMailbox, actor.id, 'SendOnBehalf'))
    return { from: recipientOf(fromMailbox), sender: recipientOf(actor) };
  throw graphErrors.sendAsDenied();
}
