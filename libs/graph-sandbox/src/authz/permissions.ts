/** What a Graph endpoint does, which decides the permission it needs. */
export type MailAccess = 'read' | 'readBody' | 'write' | 'send' | 'settings';

/**
 * Permissions (application roles or delegated scopes — the names are the same) that satisfy each kind of
 * access. `read` covers list/get/delta (Mail.ReadBasic returns no body); `readBody` is attachments and MIME;
 * `settings` is `mailboxSettings`.
 */
const accepted: Record<MailAccess, readonly string[]> = {
  read: ['Mail.ReadBasic', 'Mail.ReadBasic.All', 'Mail.Read', 'Mail.ReadWrite'],
  readBody: ['Mail.Read', 'Mail.ReadWrite'],
  write: ['Mail.ReadWrite'],
  send: ['Mail.Send'],
  settings: ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'],
};

/**
 * Delegated scopes for mail "a user has permission to access, including their own and shared mail": a
 * signed-in user reaches another user's or a shared mailbox only through these (and the mailbox
 * permissions Exchange gives them). MailboxSettings has no `.Shared` variant: a delegate cannot read
 * another mailbox's settings.
 */
const acceptedShared: Record<MailAccess, readonly string[]> = {
  read: ['Mail.Read.Shared', 'Mail.ReadWrite.Shared'],
  readBody: ['Mail.Read.Shared', 'Mail.ReadWrite.Shared'],
  write: ['Mail.ReadWrite.Shared'],
  send: ['Mail.Send.Shared'],
  settings: [],
};

export function hasMailPermission(granted: ReadonlySet<string>, access: MailAccess): boolean {
  return accepted[access].some((permission) => granted.has(permission));
}

export function hasSharedMailPermission(granted: ReadonlySet<string>, access: MailAccess): boolean {
  return acceptedShared[access].some((permission) => granted.has(permission));
}

/** Whether only Mail.ReadBasic(.All) was granted: bodies, previews and attachments are withheld. */
export function isBasicReadOnly(granted: ReadonlySet<string>): boolean {
  return (
    !hasMailPermission(granted, 'readBody') && !hasSharedMailPermission(granted, 'readBody') && hasMailPermission(granted, 'read')
  );
}
