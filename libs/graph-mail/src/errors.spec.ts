import { classifyGraphError, parseRetryAfter } from './errors';

const graphError = (statusCode: number, code: string, message: string, headers: Record<string, string> = {}) =>
  Object.assign(new Error(message), { statusCode, code, requestId: 'r-1', headers: new Headers(headers) });

describe('Graph error classification', () => {
  it('makes a 429 a retryable throttle carrying Retry-After', () => {
    const error = classifyGraphError(
      graphError(429, 'ApplicationThrottled', 'Application is over its MailboxConcurrency limit.', { 'Retry-After': '7' }),
    );
    expect(error).toMatchObject({ kind: 'throttled', retryable: true, retryAfterMs: 7_000, code: 'UNAVAILABLE' });
  });

  it('tells an application access policy apart from other access denials', () => {
    expect(classifyGraphError(graphError(403, 'ErrorAccessDenied', 'Access to OData is disabled.')).kind).toBe(
      'outside-access-policy',
    );
    expect(
      classifyGraphError(graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.')).kind,
    ).toBe('access-denied');
  });

  it('classifies a mailbox outside an RBAC for Applications scope (plain 403) as access-denied, not as an access policy', () => {
    const rbac = classifyGraphError(graphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'));
    expect({ kind: rbac.kind, mailboxAccess: rbac.mailboxAccess }).toEqual({
      kind: 'access-denied',
      mailboxAccess: 'permission-missing-or-outside-rbac-scope',
    });
    expect(classifyGraphError(graphError(403, 'ErrorAccessDenied', 'Access to OData is disabled.')).mailboxAccess).toBe(
      'outside-access-policy',
    );
  });

  it('tells an unlicensed user from an inactive mailbox (both 404 MailboxNotEnabledForRESTAPI)', () => {
    const unlicensed = classifyGraphError(
      graphError(404, 'MailboxNotEnabledForRESTAPI', 'REST API is not yet supported for this mailbox.'),
    );
    const inactive = classifyGraphError(
      graphError(404, 'MailboxNotEnabledForRESTAPI', 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.'),
    );
    expect([unlicensed.kind, unlicensed.mailboxAccess, inactive.kind, inactive.mailboxAccess]).toEqual([
      'mailbox-not-found',
      'not-licensed',
      'mailbox-not-found',
      'inactive',
    ]);
    expect(classifyGraphError(graphError(404, 'ErrorItemNotFound', 'not found')).mailboxAccess).toBeUndefined();
  });

  it('recognises a missing mailbox, a missing item, a resync and a rejected token', () => {
    expect(classifyGraphError(graphError(404, 'ErrorInvalidUser', "The requested user 'x' is invalid.")).kind).toBe(
      'mailbox-not-found',
    );
    expect(classifyGraphError(graphError(404, 'ErrorItemNotFound', 'not found')).kind).toBe('not-found');
    const resync = classifyGraphError(graphError(410, 'resyncRequired', 'gone', { Location: 'https://g/v1.0/x' }));
    expect(resync).toMatchObject({ kind: 'resync-required', location: 'https://g/v1.0/x', retryable: false });
    expect(classifyGraphError(graphError(401, 'InvalidAuthenticationToken', 'expired')).kind).toBe('unauthorized');
  });

  it('treats 5xx and network failures as unavailable', () => {
    expect(classifyGraphError(graphError(503, 'serviceNotAvailable', 'down')).retryable).toBe(true);
    expect(classifyGraphError(new TypeError('fetch failed'))).toMatchObject({ kind: 'unavailable', status: 0 });
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('2', 0)).toBe(2_000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
});
