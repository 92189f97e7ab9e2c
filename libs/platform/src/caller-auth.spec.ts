import { Metadata } from 'nice-grpc-common';
import { createCallerAuthenticator, hashBearerCredential, isLoopbackPeer, parseApiKeys, parseServiceTokens } from './caller-auth';

describe('caller authentication', () => {
  const apiKey = 'mrk_example-key-of-tenant-a';
  const serviceToken = 'mrs_example-token-of-mailbox-fetch';
  const authenticator = createCallerAuthenticator({
    apiKeys: [{ id: 'wm-a', tenantId: 'tenant-a', scopes: ['credentials.read'], sha256: hashBearerCredential(apiKey) }],
    serviceTokens: [{ service: 'mailbox-fetch', sha256: hashBearerCredential(serviceToken) }],
  });
  const call = (authorization?: string, peer = 'ipv4:10.0.0.5:5000') => ({
    metadata: Metadata(authorization ? { authorization } : {}),
    peer,
  });

  it('resolves an API key to its tenant and scopes, and a service token to its service', () => {
    expect(authenticator.authenticate(call(`Bearer ${apiKey}`))).toMatchObject({
      kind: 'tenant-client',
      tenantId: 'tenant-a',
      keyId: 'wm-a',
    });
    expect(authenticator.authenticate(call(`bearer ${serviceToken}`))).toEqual({ kind: 'service', service: 'mailbox-fetch' });
  });

  it('refuses missing, malformed and unknown credentials with UNAUTHENTICATED', () => {
    for (const header of [undefined, 'Basic abc', `Bearer ${apiKey}x`]) {
      expect(() => authenticator.authenticate(call(header))).toThrow(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    }
  });

  it('trusts loopback callers as a service only when told to (development)', () => {
    const dev = createCallerAuthenticator({ trustLoopbackAsService: true });
    expect(dev.authenticate(call(undefined, 'ipv4:127.0.0.1:5000'))).toEqual({ kind: 'service', service: 'loopback' });
    expect(() => dev.authenticate(call(undefined, 'ipv4:10.0.0.5:5000'))).toThrow(
      expect.objectContaining({ code: 'UNAUTHENTICATED' }),
    );
    expect(isLoopbackPeer('ipv6:[::1]:1234')).toBe(true);
    // grpc-js 1.14 reports peers without the scheme.
    expect(dev.authenticate(call(undefined, '127.0.0.1:5000'))).toEqual({ kind: 'service', service: 'loopback' });
    expect(isLoopbackPeer('[::1]:1234')).toBe(true);
    expect(isLoopbackPeer('[::ffff:127.0.0.1]:1234')).toBe(true);
    for (const outside of ['10.0.0.5:5000', '127.0.0.1.evil.example:80', '[::2]:1', '1270.0.0.1:5'])
      expect(isLoopbackPeer(outside)).toBe(false);
  });

  it('parses hashed keys and tokens from configuration', () => {
    const hash = hashBearerCredential('x');
    expect(parseApiKeys(`wm:tenant-a:credentials.read+credentials.write:${hash}`)).toEqual([
      { id: 'wm', tenantId: 'tenant-a', scopes: ['credentials.read', 'credentials.write'], sha256: hash },
    ]);
    expect(parseServiceTokens(`mailbox-fetch:${hash}, outbound-send:${hash}`).map((entry) => entry.service)).toEqual([
      'mailbox-fetch',
      'outbound-send',
    ]);
    expect(() => parseApiKeys('wm:tenant-a:not-a-hash')).toThrow(/entry 1/);
  });
});
