import { constants, generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { decodeJwt, JwtError, signJwtRs256, verifyJwtSignature } from './jwt';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const segment = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A compact JWS built by hand with node:crypto, as MSAL builds certificate assertions. */
function handSigned(header: Record<string, unknown>, payload: Record<string, unknown>, alg: 'RS256' | 'PS256'): string {
  const input = `${segment(header)}.${segment(payload)}`;
  const signature =
    alg === 'RS256'
      ? nodeSign('sha256', Buffer.from(input), privateKey)
      : nodeSign('sha256', Buffer.from(input), {
          key: privateKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        });
  return `${input}.${signature.toString('base64url')}`;
}

async function problemOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (error instanceof JwtError) return error.problem;
    throw error;
  }
}

describe('sandbox JWTs', () => {
  const claims = { aud: 'https://graph.microsoft.com', tid: 't', exp: 2_000_000_000, roles: ['Mail.Read'] };

  it('signs the compact RS256 format Entra uses: typ, alg, then the given header, the claims as given, a PKCS#1 signature', async () => {
    const token = await signJwtRs256(claims, privateKey, { kid: 'K1', x5t: 'K1' });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    expect(header).toBe(segment({ typ: 'JWT', alg: 'RS256', kid: 'K1', x5t: 'K1' }));
    expect(payload).toBe(segment(claims));
    expect(nodeVerify('sha256', Buffer.from(`${header}.${payload}`), publicKey, Buffer.from(signature, 'base64url'))).toBe(true);
    // RS256 is deterministic: byte for byte what signing by hand gives.
    expect(token).toBe(handSigned({ typ: 'JWT', alg: 'RS256', kid: 'K1', x5t: 'K1' }, claims, 'RS256'));
  });

  it('verifies RS256 and PS256 assertions signed outside the sandbox, and refuses the wrong key', async () => {
    for (const alg of ['RS256', 'PS256'] as const) {
      const jwt = decodeJwt(handSigned({ alg, typ: 'JWT', x5t: 'abc' }, claims, alg));
      expect(jwt.header['x5t']).toBe('abc');
      expect(jwt.payload).toEqual(claims);
      await expect(verifyJwtSignature(jwt, publicKey)).resolves.toBeUndefined();
      expect(await problemOf(verifyJwtSignature(jwt, other.publicKey))).toBe('bad-signature');
    }
    // RFC 7518 fixes the PS256 salt at the hash length (what MSAL uses); a maximum-length salt is refused.
    const input = `${segment({ alg: 'PS256' })}.${segment(claims)}`;
    const maxSalt = nodeSign('sha256', Buffer.from(input), {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_MAX_SIGN,
    });
    expect(await problemOf(verifyJwtSignature(decodeJwt(`${input}.${maxSalt.toString('base64url')}`), publicKey))).toBe(
      'bad-signature',
    );
  });

  it('names the problem: malformed, unsupported alg, tampered payload', async () => {
    for (const token of [
      'a.b',
      'a.b.c.d',
      'a+b.c.d',
      `${segment([1])}.${segment({})}.x`,
      `${segment({ alg: 'RS256' })}.bm90IGpzb24.x`,
    ]) {
      expect(() => decodeJwt(token)).toThrow(expect.objectContaining({ problem: 'malformed' }));
    }
    const unsigned = decodeJwt(`${segment({ alg: 'none' })}.${segment(claims)}.`);
    expect(await problemOf(verifyJwtSignature(unsigned, publicKey))).toBe('unsupported-alg');
    const hs = decodeJwt(`${segment({ alg: 'HS256' })}.${segment(claims)}.c2ln`);
    expect(await problemOf(verifyJwtSignature(hs, publicKey))).toBe('unsupported-alg');
    const [header, , signature] = (await signJwtRs256(claims, privateKey, { kid: 'K1' })).split('.');
    const tampered = decodeJwt(`${header}.${segment({ ...claims, roles: ['Mail.ReadWrite'] })}.${signature}`);
    expect(await problemOf(verifyJwtSignature(tampered, publicKey))).toBe('bad-signature');
  });
});
