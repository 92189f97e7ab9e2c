import type { Duration, PageRequest } from '@mailroute/contracts';
import { decodePageToken, encodePageToken } from '@mailroute/persistence';
import { ValidationError } from '@mailroute/platform';

const tenantIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** A tenant id named by an internal caller (common.proto: 1-64 of [A-Za-z0-9._-]). */
export function readTenantId(value: string, field = 'tenant_id'): string {
  if (!tenantIdPattern.test(value)) throw new ValidationError(field, 'must be 1-64 characters of A-Z, a-z, 0-9, ".", "_", "-"');
  return value;
}

/** A mailbox address (common.proto EmailAddress rules), lower-cased. */
export function readMailboxAddress(value: string, field = 'mailbox_address'): string {
  const address = value.trim().toLowerCase();
  if (address === '') throw new ValidationError(field, 'is required');
  if ([...address].length > 320) throw new ValidationError(field, 'must be at most 320 characters');
  if (/[\s<>\p{Cc}]/u.test(address) || address.split('@').length !== 2 || address.startsWith('@') || address.endsWith('@')) {
    throw new ValidationError(field, 'must be an e-mail address "local@domain"');
  }
  return address;
}

/** Milliseconds of an optional Duration. */
export function durationMs(duration: Duration | undefined): number | undefined {
  return duration ? duration.seconds * 1000 + Math.floor(duration.nanos / 1e6) : undefined;
}

/** Page size and continuation key of a list call; tokens are bound to `prefix` (the caller's tenant). */
export function readPage(page: PageRequest | undefined, prefix: string): { pageSize: number; after: string | undefined } {
  const requested = page?.pageSize ?? 0;
  if (requested < 0) throw new ValidationError('page.page_size', 'must not be negative');
  const pageSize = requested === 0 ? 50 : Math.min(requested, 500);
  const token = page?.pageToken ?? '';
  if (token.length > 1024) throw new ValidationError('page.page_token', 'must be at most 1024 characters');
  if (!token) return { pageSize, after: undefined };
  let after: string;
  try {
    after = decodePageToken(token);
  } catch {
    throw new ValidationError('page.page_token', 'is not a token returned by a previous page');
  }
  if (!after.startsWith(prefix)) throw new ValidationError('page.page_token', 'was issued for another list');
  return { pageSize, after };
}

export { encodePageToken };
