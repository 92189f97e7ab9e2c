import type { Duration, PageRequest } from '@mailroute/contracts';
import { decodePageToken, encodePageToken } from '@mailroute/persistence';
import { ValidationError } from '@mailroute/platform';

/** The id and address rules are platform's (request-fields.ts), shared by every service. */
export { readMailboxAddress, readTenantId } from '@mailroute/platform';

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
