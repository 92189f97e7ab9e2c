import { createHash } from 'node:crypto';

/**
 * A stable fingerprint of a request's payload (its proto JSON, idempotency key left out by the
 * caller), stored with the idempotency key so a reuse of the key with a different payload is told
 * apart from a retry. ts-proto's `toJSON` writes fields in declaration order, so equal messages give
 * equal JSON.
 */
export function payloadFingerprint(json: unknown): string {
  return createHash('sha256').update(JSON.stringify(json)).digest('base64url');
}
