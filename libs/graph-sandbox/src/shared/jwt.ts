import { constants, createHash, sign, verify, type KeyObject } from 'node:crypto';

/** A decoded (not yet verified) compact JWS. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** Why a JWT was rejected; callers map each reason to the protocol's error. */
export type JwtProblem = 'malformed' | 'unsupported-alg' | 'bad-signature';

export class JwtError extends Error {
  constructor(readonly problem: JwtProblem, message: string) {
    super(message);
    this.name = 'JwtError';
  }
}

function encodeSegment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Signs `payload` with RS256 under `kid` (what Entra uses for access and ID tokens). */
export function signJwtRs256(payload: Record<string, unknown>, key: KeyObject, header: Record<string, unknown>): string {
  const signingInput = `${encodeSegment({ typ: 'JWT', alg: 'RS256', ...header })}.${encodeSegment(payload)}`;
  const signature = sign('sha256', Buffer.from(signingInput), key);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Splits and parses a compact JWS; throws JwtError('malformed') for anything that is not one. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) {
    throw new JwtError('malformed', 'JWT is not well formed: it must have three base64url segments');
  }
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString('utf8')) as unknown;
    const payload = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8')) as unknown;
    if (!isRecord(header) || !isRecord(payload)) throw new Error('not objects');
    return { header, payload, signingInput: `${headerPart}.${payloadPart}`, signature: Buffer.from(signaturePart, 'base64url') };
  } catch {
    throw new JwtError('malformed', 'JWT is not well formed: header or payload is not JSON');
  }
}

/** Verifies an RS256 or PS256 signature (MSAL signs certificate assertions with PS256, or RS256 for SHA-1 thumbprints). */
export function verifyJwtSignature(jwt: DecodedJwt, key: KeyObject): void {
  const alg = jwt.header['alg'];
  const data = Buffer.from(jwt.signingInput);
  let ok: boolean;
  if (alg === 'RS256') {
    ok = verify('sha256', data, key, jwt.signature);
  } else if (alg === 'PS256') {
    ok = verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, jwt.signature);
  } else {
    throw new JwtError('unsupported-alg', `unsupported JWT alg ${String(alg)}`);
  }
  if (!ok) throw new JwtError('bad-signature', 'JWT signature does not verify');
}

/** The base64url SHA-256 (or SHA-1) thumbprint of a DER certificate, as carried in `x5t#S256` (`x5t`). */
export function certificateThumbprint(der: Buffer, algorithm: 'sha256' | 'sha1'): string {
  return createHash(algorithm).update(der).digest('base64url');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
