import { randomBytes, randomUUID } from 'node:crypto';

/** A lowercase GUID, the shape of tenant ids, client ids and object ids. */
export function newGuid(): string {
  return randomUUID();
}

const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a GUID (tenant ids must be, for multi-tenant `iss` checks). */
export function isGuid(value: string): boolean {
  return guidPattern.test(value);
}

/**
 * An Exchange-looking item id (`AAMkAG…`, base64url, case-sensitive). `kind` picks the prefix: REST ids of
 * messages and folders start with `AAMk`, immutable ids with `AAkA`, attachments with `AAMkAtt`.
 */
export function newItemId(kind: 'message' | 'folder' | 'immutable' | 'attachment' | 'conversation'): string {
  const prefix = { message: 'AAMkAG', folder: 'AAMkAF', immutable: 'AAkALg', attachment: 'AAMkAt', conversation: 'AAQkAG' }[kind];
  return prefix + randomBytes(kind === 'conversation' ? 16 : 33).toString('base64url');
}

/** An opaque value with `bytes` bytes of entropy, base64url. */
export function newOpaque(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
