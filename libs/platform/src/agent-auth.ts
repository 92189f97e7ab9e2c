import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey, type JSONWebKeySet } from 'jose';
import { UnauthenticatedError } from './errors';

/** An agent as proven by a verified Entra ID token ("Sign in with Microsoft"). */
export interface EntraAgentIdentity {
  kind: 'entra-user';
  /** The mailroute tenant whose Entra directory issued the token. */
  tenantId: string;
  /** Entra directory (tenant) id: the token's `tid`. */
  directoryId: string;
  /** Entra object id of the user: the token's `oid`. */
  objectId: string;
  /** `preferred_username` (usually the UPN); may be empty. */
  userPrincipalName: string;
  displayName: string;
  /** App roles the user holds on the app the token was issued for (`roles`; empty when none). */
  roles: readonly string[];
  /** When the token expires (epoch ms). */
  expiresAt: number;
}

export interface EntraTokenVerifierOptions {
  /**
   * Entra directories allowed to sign agents in, each mapped to its mailroute tenant. A token whose
   * `tid` is not listed is refused, whatever its signature.
   */
  directories: ReadonlyMap<string, string>;
  /** Accepted audiences: the agent desktop app's client id. */
  audience: string | readonly string[];
  /**
   * The authority host (default `https://login.microsoftonline.com`; a national cloud's, or the graph
   * sandbox's in development): the issuer is `<authority>/<tid>/v2.0`, the keys at
   * `<authority>/<tid>/discovery/v2.0/keys`, unless issuerFor / jwksUrlFor say otherwise.
   */
  authority?: string;
  /**
   * The authority's issuer for a directory; default Entra's v2.0 issuer
   * `https://login.microsoftonline.com/<tid>/v2.0`. The graph sandbox uses `https://127.0.0.1:<port>/<tid>/v2.0`.
   */
  issuerFor?: (directoryId: string) => string;
  /**
   * Signing keys for a directory: default the remote JWKS at `jwksUrlFor(tid)` (cached and refreshed by
   * jose on unknown key ids).
   */
  keysFor?: (directoryId: string) => JWTVerifyGetKey;
  /** JWKS URL of a directory; default `https://login.microsoftonline.com/<tid>/discovery/v2.0/keys`. */
  jwksUrlFor?: (directoryId: string) => string;
  /** Clock skew tolerated on exp/nbf, seconds. Default 60. */
  clockToleranceSeconds?: number;
  /** For tests: the current time. */
  now?: () => Date;
}

export interface EntraTokenVerifier {
  /** Verifies signature, issuer, audience, lifetime and `tid`; UnauthenticatedError otherwise. */
  verify(token: string): Promise<EntraAgentIdentity>;
}

/** Builds a verifier from a static JWKS document (tests, air-gapped set-ups). */
export function staticJwks(jwks: JSONWebKeySet): JWTVerifyGetKey {
  return createLocalJWKSet(jwks);
}

/**
 * Verifies Entra ID (v2.0) ID tokens of agents. The tenant comes only from the verified `tid`
 * through `directories`; nothing the client sends besides the token is trusted.
 */
export function createEntraTokenVerifier(options: EntraTokenVerifierOptions): EntraTokenVerifier {
  const authority = (options.authority ?? 'https://login.microsoftonline.com').replace(/\/$/, '');
  const issuerFor = options.issuerFor ?? ((tid: string) => `${authority}/${tid}/v2.0`);
  const jwksUrlFor = options.jwksUrlFor ?? ((tid: string) => `${authority}/${tid}/discovery/v2.0/keys`);
  const remote = new Map<string, JWTVerifyGetKey>();
  const keysFor =
    options.keysFor ??
    ((tid: string) => {
      let keys = remote.get(tid);
      if (!keys) {
        keys = createRemoteJWKSet(new URL(jwksUrlFor(tid)));
        remote.set(tid, keys);
      }
      return keys;
    });
  const audience = typeof options.audience === 'string' ? options.audience : [...options.audience];
  return {
    async verify(token) {
      const tid = unverifiedTid(token);
      const tenantId = tid === undefined ? undefined : options.directories.get(tid);
      if (tid === undefined || tenantId === undefined) {
        throw new UnauthenticatedError('the token is not from an Entra directory allowed to sign agents in');
      }
      let payload;
      try {
        ({ payload } = await jwtVerify(token, keysFor(tid), {
          issuer: issuerFor(tid),
          audience,
          clockTolerance: options.clockToleranceSeconds ?? 60,
          ...(options.now ? { currentDate: options.now() } : {}),
          requiredClaims: ['exp', 'tid', 'oid'],
        }));
      } catch (error) {
        throw new UnauthenticatedError(
          `the sign-in token is not valid: ${(error as { code?: string }).code ?? 'ERR_JWT_INVALID'}`,
          { cause: error },
        );
      }
      if (payload['tid'] !== tid || typeof payload['oid'] !== 'string') {
        throw new UnauthenticatedError('the sign-in token has no valid tid/oid');
      }
      return {
        kind: 'entra-user',
        tenantId,
        directoryId: tid,
        objectId: payload['oid'],
        userPrincipalName: typeof payload['preferred_username'] === 'string' ? payload['preferred_username'] : '',
        displayName: typeof payload['name'] === 'string' ? payload['name'] : '',
        roles: Array.isArray(payload['roles']) ? payload['roles'].filter((role): role is string => typeof role === 'string') : [],
        expiresAt: (payload.exp ?? 0) * 1000,
      };
    },
  };
}

/** Reads `tid` before verification only to pick the directory's keys; the verified value is checked after. */
function unverifiedTid(token: string): string | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { tid?: unknown };
    return typeof claims.tid === 'string' && /^[0-9a-zA-Z-]{1,64}$/.test(claims.tid) ? claims.tid : undefined;
  } catch {
    return undefined;
  }
}

/** Parses `mailrouteTenant:entraDirectoryId` pairs separated by commas into directory → tenant. */
export function parseAgentDirectories(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const [index, entry] of text
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
    .entries()) {
    const [tenant, directory, ...rest] = entry.split(':');
    if (!tenant || !directory || rest.length > 0)
      throw new Error(`entry ${index + 1} must be "<mailroute tenant>:<Entra directory id>"`);
    map.set(directory, tenant);
  }
  return map;
}
