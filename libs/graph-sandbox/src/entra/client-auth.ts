import type { AppRegistration, Tenant } from '../model/model.types';
import type { Clock } from '../shared/clock';
import { decodeJwt, JwtError, verifyJwtSignature } from '../shared/jwt';
import { aadsts } from './aadsts';

const jwtBearerAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** How the client proved who it is. `none`: a public client (device code / refresh without a credential). */
export type ClientCredentialKind = 'secret' | 'certificate' | 'none';

export interface ClientAuthOptions {
  clock: Clock;
  /** Token endpoint URLs an assertion's `aud` may name (the tenant by id and by each domain). */
  acceptedAudiences: ReadonlySet<string>;
  /** Whether the grant may be used by a public client without a credential. */
  allowPublic: boolean;
  /** A SPA redemption: the browser holds no credential, whatever "Allow public client flows" says. */
  spa?: boolean;
}

function hexToBase64url(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64url');
}

async function verifyAssertion(app: AppRegistration, assertion: string, options: ClientAuthOptions): Promise<void> {
  let jwt;
  try {
    jwt = decodeJwt(assertion);
  } catch {
    throw aadsts.assertionMalformed();
  }
  const x5tS256 = jwt.header['x5t#S256'];
  const x5t = jwt.header['x5t'];
  const presented = typeof x5tS256 === 'string' ? x5tS256 : typeof x5t === 'string' ? x5t : undefined;
  if (!presented) throw aadsts.assertionKeyNotFound('(none)');
  const certificate = app.certificates.find((candidate) =>
    typeof x5tS256 === 'string'
      ? hexToBase64url(candidate.thumbprintSha256) === x5tS256
      : hexToBase64url(candidate.thumbprintSha1) === x5t,
  );
  const presentedHex = Buffer.from(presented, 'base64url').toString('hex').toUpperCase();
  if (!certificate) throw aadsts.assertionKeyNotFound(presentedHex);
  const now = options.clock();
  if (now > certificate.endMs) throw aadsts.assertionKeyExpired(presentedHex);
  try {
    await verifyJwtSignature(jwt, certificate.publicKey);
  } catch (error) {
    if (error instanceof JwtError) throw aadsts.assertionSignature();
    throw error;
  }
  const { aud, iss, sub, exp, nbf } = jwt.payload;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.some((value) => typeof value === 'string' && options.acceptedAudiences.has(value.toLowerCase()))) {
    throw aadsts.assertionAudience(String(audiences[0]));
  }
  if (iss !== app.clientId || sub !== app.clientId) throw aadsts.assertionIssuer();
  const nowSeconds = Math.floor(now / 1000);
  // Entra allows a few minutes of clock skew on assertions.
  if (typeof exp !== 'number' || exp + 300 < nowSeconds || (typeof nbf === 'number' && nbf - 300 > nowSeconds)) {
    throw aadsts.assertionLifetime();
  }
}

/**
 * Authenticates the client of a token request the way Entra does: the app must exist in the tenant and be
 * enabled; then exactly one credential — a client secret (compared with every secret of the app; a match
 * whose end date passed is AADSTS7000222) or a certificate-signed assertion (signature, audience, issuer,
 * lifetime) — unless the grant allows a public client.
 */
export async function authenticateClient(
  tenant: Tenant,
  params: URLSearchParams,
  options: ClientAuthOptions,
): Promise<{ app: AppRegistration; credential: ClientCredentialKind }> {
  const clientId = params.get('client_id')?.toLowerCase();
  if (!clientId) throw aadsts.missingParameter('client_id');
  const app = tenant.apps.get(clientId);
  if (!app) throw aadsts.appNotFound(clientId, tenant.id);
  if (!app.enabled) throw aadsts.appDisabled(app.clientId, app.displayName);

  const secret = params.get('client_secret');
  const assertion = params.get('client_assertion');
  if (assertion) {
    if (params.get('client_assertion_type') !== jwtBearerAssertionType) throw aadsts.assertionTypeInvalid();
    await verifyAssertion(app, assertion, options);
    return { app, credential: 'certificate' };
  }
  if (secret) {
    const match = app.secrets.find((candidate) => candidate.secretText === secret);
    if (!match) throw aadsts.invalidSecret(app.clientId);
    const now = options.clock();
    if (now >= match.endMs) throw aadsts.expiredSecret(app.clientId);
    if (now < match.startMs) throw aadsts.invalidSecret(app.clientId);
    return { app, credential: 'secret' };
  }
  if (options.allowPublic && (app.allowPublicClient || options.spa)) return { app, credential: 'none' };
  throw aadsts.credentialRequired();
}
