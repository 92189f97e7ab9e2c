import type { KeyObject } from 'node:crypto';
import { compactVerify, decodeJwt as decodeJwtPayload, decodeProtectedHeader, errors, SignJWT } from 'jose';

// Compact JWS signing and verification are jose's; this module only keeps the sandbox's vocabulary
// (which problem a rejected token has, so the callers can answer with Entra's or Graph's error).

/** A decoded (not yet verified) compact JWS. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** The compact serialization, for verification. */
  token: string;
}

/** Why a JWT was rejected; callers map each reason to the protocol's error. */
export type JwtProblem = 'malformed' | 'unsupported-alg' | 'bad-signature';

export class JwtError extends Error {
  constructor(
    readonly problem: JwtProblem,
    message: string,
  ) {
    super(message);
    this.name = 'JwtError';
  }
}

/** The algorithms MSAL signs certificate assertions with (PS256, or RS256 for SHA-1 thumbprints) and Entra signs tokens with (RS256). */
const verifiedAlgorithms = ['RS256', 'PS256'];

/**
 * Signs `payload` with RS256 under `kid` (what Entra uses for access and ID tokens). The header is
 * `{ typ: 'JWT', alg: 'RS256', ...header }` in that order, the payload the claims as given.
 */
export async function signJwtRs256(
  payload: Record<string, unknown>,
  key: KeyObject,
  header: Record<string, unknown>,
): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ typ: 'JWT', alg: 'RS256', ...header }).sign(key);
}

/** Splits and parses a compact JWS; throws JwtError('malformed') for anything that is not one. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) {
    throw new JwtError('malformed', 'JWT is not well formed: it must have three base64url segments');
  }
  try {
    return {
      header: decodeProtectedHeader(token) as Record<string, unknown>,
      payload: decodeJwtPayload(token) as Record<string, unknown>,
      token,
    };
  } catch {
    throw new JwtError('malformed', 'JWT is not well formed: header or payload is not JSON');
  }
}

/** Verifies an RS256 or PS256 signature of a decoded JWS under `key`. */
export async function verifyJwtSignature(jwt: DecodedJwt, key: KeyObject): Promise<void> {
  const alg = jwt.header['alg'];
  if (typeof alg !== 'string' || !verifiedAlgorithms.includes(alg))
    throw new JwtError('unsupported-alg', `unsupported JWT alg ${String(alg)}`);
  try {
    await compactVerify(jwt.token, key, { algorithms: verifiedAlgorithms });
  } catch (error) {
    if (error instanceof errors.JOSEError) throw new JwtError('bad-signature', 'JWT signature does not verify');
    throw error;
  }
}
