import { randomBytes } from 'node:crypto';
import { decodeDeltaToken, encodeDeltaToken, type DeltaState } from './delta-token';

describe('delta tokens', () => {
  const secret = randomBytes(32);
  const state: DeltaState = {
    mailboxId: 'm-1',
    folderId: 'f-1',
    generation: 7,
    issuedMs: 1_700_000_000_000,
    since: 42,
    select: ['subject', 'isRead'],
    receivedAfter: { op: 'ge', ms: 1_600_000_000_000 },
  };

  it('round-trips the state, query options included', () => {
    expect(decodeDeltaToken(encodeDeltaToken(state, secret), secret)).toEqual({ ok: true, state });
  });

  it('is URL-safe and opaque', () => {
    expect(encodeDeltaToken(state, secret)).toMatch(/^d1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('rejects a token signed with another secret, a tampered body and garbage', () => {
    const token = encodeDeltaToken(state, secret);
    expect(decodeDeltaToken(token, randomBytes(32))).toEqual({ ok: false });
    const [prefix, body, mac] = token.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...state, since: 0 })).toString('base64url');
    expect(decodeDeltaToken(`${prefix}.${forged}.${mac}`, secret)).toEqual({ ok: false });
    expect(decodeDeltaToken(`${prefix}.${body}`, secret)).toEqual({ ok: false });
    expect(decodeDeltaToken('not-a-token', secret)).toEqual({ ok: false });
  });
});
