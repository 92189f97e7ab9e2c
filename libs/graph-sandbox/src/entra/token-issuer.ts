import { readFile } from 'node:fs/promises';
import { ensurePrivateFile, writePrivateFile } from '@mailroute/platform';
import { createHash, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { createSelfSignedRsaCertificate, toPrivateKey } from '../transport/certificates';
import type { Clock } from '../shared/clock';
import { newGuid, newOpaque } from '../shared/ids';
import { signJwtRs256 } from '../shared/jwt';
import type { AppRegistration, Mailbox, Tenant } from '../model/model.types';

/** The audience of every Graph access token (Graph's app ID URI). */
export const graphAudience = 'https://graph.microsoft.com';
/** Graph's well-known application id, also accepted as the resource of `<resource>/.default`. */
export const graphAppId = '00000003-0000-0000-c000-000000000000';

/** The RSA key the sandbox signs access and ID tokens with, published in every tenant's JWKS. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** The JWK as `/discovery/v2.0/keys` lists it (`kty`, `use`, `kid`, `x5t`, `n`, `e`, `x5c`). */
  jwk: Record<string, unknown>;
}

/** Creates a signing key with a self-signed certificate, like Entra's (`kid` = `x5t` = SHA-1 thumbprint). */
/**
 * The token-signing key. With `file`, it is kept there (mode 0600) and reused by later starts, so
 * tokens a client cached before a restart of a sandbox with the same certDir stay valid — as Entra
 * ID's keys outlive its servers.
 */
export async function createSigningKey(clock: Clock, file?: string): Promise<SigningKey> {
  let material: { certificatePem: string; privateKeyPem: string } | undefined;
  if (file) {
    try {
      material = JSON.parse(await readFile(file, 'utf8')) as { certificatePem: string; privateKeyPem: string };
    } catch {
      material = undefined;
    }
  }
  if (!material) {
    material = await createSelfSignedRsaCertificate({ subject: 'graph-sandbox token signing', validDays: 3650, clock });
    if (file)
      writePrivateFile(file, JSON.stringify({ certificatePem: material.certificatePem, privateKeyPem: material.privateKeyPem }));
  } else if (file) {
    ensurePrivateFile(file);
  }
  const certificate = new X509Certificate(material.certificatePem);
  const x5t = createHash('sha1').update(certificate.raw).digest('base64url');
  const publicKey = createPublicKey(material.certificatePem);
  const { n, e } = publicKey.export({ format: 'jwk' });
  return {
    kid: x5t,
    privateKey: toPrivateKey(material.privateKeyPem),
    publicKey,
    jwk: { kty: 'RSA', use: 'sig', kid: x5t, x5t, n, e, x5c: [certificate.raw.toString('base64')] },
  };
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
  claims: Record<string, unknown>;
}

export interface TokenIssuerOptions {
  signingKey: SigningKey;
  clock: Clock;
  /** `https://127.0.0.1:<port>`: issuer and authority base. */
  baseUrl: () => string;
  accessTokenLifetimeSeconds: number;
  idTokenLifetimeSeconds?: number;
}

/** The `home account` pair MSAL builds from `client_info` (`uid.utid`). */
export function toClientInfo(mailbox: Mailbox): string {
  return Buffer.from(JSON.stringify({ uid: mailbox.id, utid: mailbox.tenantId })).toString('base64url');
}

/** Mints Entra-shaped JWTs. Access tokens are for Graph (v1.0 claims, as Graph's tokens are); ID tokens are v2.0. */
export function createTokenIssuer(options: TokenIssuerOptions) {
  const { signingKey, clock } = options;
  const sign = (claims: Record<string, unknown>) =>
    signJwtRs256(claims, signingKey.privateKey, { kid: signingKey.kid, x5t: signingKey.kid });
  const nowSeconds = () => Math.floor(clock() / 1000);
  const authority = (tenantId: string) => `${options.baseUrl()}/${tenantId}`;

  const common = (tenant: Tenant, app: AppRegistration, lifetime: number) => {
    const iat = nowSeconds();
    return {
      aud: graphAudience,
      iss: `${authority(tenant.id)}/`,
      iat,
      nbf: iat,
      exp: iat + lifetime,
      app_displayname: app.displayName,
      appid: app.clientId,
      idp: `${authority(tenant.id)}/`,
      tid: tenant.id,
      uti: newOpaque(16),
      ver: '1.0',
    };
  };

  return {
    /** An app-only Graph token: `roles` = the application permissions an admin granted (absent when none). */
    async issueAppToken(tenant: Tenant, app: AppRegistration, credential: 'secret' | 'certificate'): Promise<IssuedToken> {
      const lifetime = options.accessTokenLifetimeSeconds;
      const roles = [...app.grantedApplicationPermissions].sort();
      const claims: Record<string, unknown> = {
        ...common(tenant, app, lifetime),
        appidacr: credential === 'certificate' ? '2' : '1',
        idtyp: 'app',
        oid: app.objectId,
        sub: app.objectId,
        ...(roles.length > 0 ? { roles } : {}),
      };
      return { token: await sign(claims), expiresIn: lifetime, claims };
    },

    /** A delegated Graph token for `mailbox`'s user with `scp` = the granted scopes. */
    async issueUserToken(
      tenant: Tenant,
      app: AppRegistration,
      mailbox: Mailbox,
      scopes: readonly string[],
      credential: 'none' | 'secret' | 'certificate',
    ): Promise<IssuedToken> {
      const lifetime = options.accessTokenLifetimeSeconds;
      const claims: Record<string, unknown> = {
        ...common(tenant, app, lifetime),
        appidacr: credential === 'certificate' ? '2' : credential === 'secret' ? '1' : '0',
        amr: ['pwd'],
        idtyp: 'user',
        name: mailbox.displayName,
        oid: mailbox.id,
        sub: createHash('sha256').update(`${mailbox.id}:${graphAppId}`).digest('base64url').slice(0, 43),
        upn: mailbox.userPrincipalName,
        unique_name: mailbox.userPrincipalName,
        scp: [...scopes].join(' '),
      };
      return { token: await sign(claims), expiresIn: lifetime, claims };
    },

    /**
     * A v2.0 access token for an app's own API (`api://<clientId>/<scope>`), as Entra issues it to an API
     * whose accessTokenAcceptedVersion is 2: `aud` = the API's client id, `azp` = the calling app,
     * `scp`, and `roles` = the app roles the user holds on the API's app.
     */
    async issueApiToken(
      tenant: Tenant,
      client: AppRegistration,
      api: AppRegistration,
      mailbox: Mailbox,
      scopes: readonly string[],
    ): Promise<IssuedToken> {
      const lifetime = options.accessTokenLifetimeSeconds;
      const iat = nowSeconds();
      const roles = [...(api.roleAssignments.get(mailbox.id) ?? [])].sort();
      const claims: Record<string, unknown> = {
        aud: api.clientId,
        iss: `${authority(tenant.id)}/v2.0`,
        iat,
        nbf: iat,
        exp: iat + lifetime,
        azp: client.clientId,
        azpacr: '0',
        name: mailbox.displayName,
        oid: mailbox.id,
        preferred_username: mailbox.userPrincipalName,
        scp: [...scopes].join(' '),
        sub: createHash('sha256').update(`${mailbox.id}:${api.clientId}`).digest('base64url').slice(0, 43),
        tid: tenant.id,
        uti: newOpaque(16),
        ver: '2.0',
        ...(roles.length > 0 ? { roles } : {}),
      };
      return { token: await sign(claims), expiresIn: lifetime, claims };
    },

    /**
     * A v2.0 ID token for "Sign in with Microsoft" (`aud` = the client id, `sub` pairwise per app), with
     * `roles` = the app roles assigned to the user on this app (absent when none), as Entra puts them in.
     */
    async issueIdToken(tenant: Tenant, app: AppRegistration, mailbox: Mailbox, nonce?: string): Promise<IssuedToken> {
      const lifetime = options.idTokenLifetimeSeconds ?? 3600;
      const iat = nowSeconds();
      const roles = [...(app.roleAssignments.get(mailbox.id) ?? [])].sort();
      const claims: Record<string, unknown> = {
        aud: app.clientId,
        iss: `${authority(tenant.id)}/v2.0`,
        iat,
        nbf: iat,
        exp: iat + lifetime,
        name: mailbox.displayName,
        oid: mailbox.id,
        preferred_username: mailbox.userPrincipalName,
        email: mailbox.mail,
        sub: createHash('sha256').update(`${mailbox.id}:${app.clientId}`).digest('base64url').slice(0, 43),
        tid: tenant.id,
        uti: newOpaque(16),
        ver: '2.0',
        ...(roles.length > 0 ? { roles } : {}),
        ...(nonce ? { nonce } : {}),
      };
      return { token: await sign(claims), expiresIn: lifetime, claims };
    },

    /** A JWKS document; `issuer` is templated per tenant as Entra's is. */
    jwks(): { keys: Record<string, unknown>[] } {
      return { keys: [{ ...signingKey.jwk, issuer: `${options.baseUrl()}/{tenantid}/v2.0` }] };
    },

    /** The public key Graph checks access tokens with. */
    verifyKey: signingKey.publicKey,

    newTraceId: () => newGuid(),
  };
}

export type TokenIssuer = ReturnType<typeof createTokenIssuer>;
