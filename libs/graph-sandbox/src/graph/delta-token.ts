import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * What a messages-delta state token carries. Graph encodes the first request's query options into its
 * tokens, so later calls just follow the links; the sandbox does the same and signs the result so a
 * tampered or foreign token is recognised as invalid (→ resync).
 */
export interface DeltaState {
  /** Mailbox id and folder id the token belongs to. */
  mailboxId: string;
  folderId: string;
  /** Sync generation when issued (evicted generations answer SyncStateNotFound). */
  generation: number;
  /** When issued (epoch ms). */
  issuedMs: number;
  /** Changes with a sequence number above this are new to the holder. */
  since: number;
  /** Set on skip tokens: the round's upper bound and the last sequence number already returned. */
  until?: number;
  cursor?: number;
  select?: string[];
  /** `$filter=receivedDateTime ge|gt <ms>`. */
  receivedAfter?: { op: 'ge' | 'gt'; ms: number };
  /** Page size from `$top` (Prefer: odata.maxpagesize wins per request). */
  top?: number;
}

export type DeltaTokenResult = { ok: true; state: DeltaState } | { ok: false };

const version = 'd1';

/** Encodes a delta or skip token: `d1.<base64url JSON>.<base64url HMAC>`. */
export function encodeDeltaToken(state: DeltaState, secret: Buffer): string {
  const body = Buffer.from(JSON.stringify(state)).toString('base64url');
  const mac = createHmac('sha256', secret).update(`${version}.${body}`).digest().subarray(0, 18).toString('base64url');
  return `${version}.${body}.${mac}`;
}

/** Decodes a token made by encodeDeltaToken with the same secret; anything else is `{ ok: false }`. */
export function decodeDeltaToken(token: string, secret: Buffer): DeltaTokenResult {
  const [prefix, body, mac, ...rest] = token.split('.');
  if (prefix !== version || !body || !mac || rest.length > 0) return { ok: false };
  const expected = createHmac('sha256', secret).update(`${version}.${body}`).digest().subarray(0, 18);
  const presented = Buffer.from(mac, 'base64url');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return { ok: false };
  try {
    const state = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as DeltaState;
    if (typeof state.mailboxId !== 'string' || typeof state.since !== 'number' || typeof state.generation !== 'number')
      return { ok: false };
    return { ok: true, state };
  } catch {
    return { ok: false };
  }
}
