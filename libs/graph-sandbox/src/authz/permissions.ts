/** What a Graph mail endpoint does, which decides the permission it needs. */
export type MailAccess = 'read' | 'readBody' | 'write' | 'send';

/**
 * Permissions (application roles or delegated scopes — the names are the same) that satisfy each kind of
 * access. `read` covers list/get/delta (Mail.ReadBasic returns no body); `readBody` is attachments and MIME.
 */
const accepted: Record<MailAccess, readonly string[]> = {
  read: ['Mail.ReadBasic', 'Mail.ReadBasic.All', 'Mail.Read', 'Mail.ReadWrite'],
  readBody: ['Mail.Read', 'Mail.ReadWrite'],
  write: ['Mail.ReadWrite'],
  send: ['Mail.Send'],
};

export function hasMailPermission(granted: ReadonlySet<string>, access: MailAccess): boolean {
  return accepted[access].some((permission) => granted.has(permission));
}

/** Whether only Mail.ReadBasic(.All) was granted: bodies, previews and attachments are withheld. */
export function isBasicReadOnly(granted: ReadonlySet<string>): boolean {
  return !hasMailPermission(granted, 'readBody') && hasMailPermission(granted, 'read');
}
