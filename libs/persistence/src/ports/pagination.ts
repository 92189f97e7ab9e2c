import { ValidationError } from '@mailroute/platform';

/** A page request as every list call takes it. */
export interface PageRequest {
  /** 1..maxPageSize; 0 or unset means the default. */
  pageSize?: number;
  /** Opaque token from a previous page's `nextPageToken`; unset for the first page. */
  pageToken?: string;
}

export interface Page<T> {
  items: T[];
  /** Set when more items follow; pass it back as `pageToken`. */
  nextPageToken?: string;
}

const defaultPageSize = 50;
const maxPageSize = 500;

/** Validates a page request and returns the effective size and the key to continue after. */
export function readPageRequest(request: PageRequest): { pageSize: number; after: string | undefined } {
  const pageSize = request.pageSize || defaultPageSize;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > maxPageSize) {
    throw new ValidationError('page_size', `must be between 1 and ${maxPageSize}`);
  }
  return { pageSize, after: request.pageToken ? decodePageToken(request.pageToken) : undefined };
}

/** Keyset pagination: the token is the last key of the page, opaque to callers. */
export function encodePageToken(lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 1, after: lastKey }), 'utf8').toString('base64url');
}

export function decodePageToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: unknown; after?: unknown };
    if (parsed.v === 1 && typeof parsed.after === 'string') return parsed.after;
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError('page_token', 'is not a token returned by a previous page');
}
