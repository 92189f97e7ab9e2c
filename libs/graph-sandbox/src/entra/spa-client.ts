import type { FastifyReply } from 'fastify';
import type { AppRegistration, AuthCodeGrant, Tenant } from '../model/model.types';
import { aadsts } from './aadsts';

/**
 * Entra's rules for single-page apps (redirect URIs of the "spa" platform), as
 * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow#redirect-uris-for-single-page-apps-spas
 * describes them: codes and refresh tokens issued to a SPA are redeemed by the browser, cross-origin, so
 * the token endpoint answers CORS for the origins of SPA redirect URIs only; a SPA redemption without
 * `Origin` is refused (AADSTS9002327), and so is a cross-origin redemption of anything else
 * (AADSTS9002326) — client credentials never come from a browser. SPA refresh tokens live 24 hours.
 */

/** Request headers a browser may send to the token endpoint (msal-browser: none beyond Content-Type by default). */
const allowedRequestHeaders = [
  'content-type',
  'client-request-id',
  'return-client-request-id',
  'x-anchormailbox',
  'x-client-sku',
  'x-client-ver',
  'x-client-os',
  'x-client-cpu',
  'x-client-current-telemetry',
  'x-client-last-telemetry',
  'x-ms-lib-capability',
];

/** The origin (`scheme://host[:port]`) of a redirect URI, or undefined when it is not a URL. */
function originOf(uri: string): string | undefined {
  try {
    const origin = new URL(uri).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/** Whether `redirectUri` is registered on the app's "Single-page application" platform. */
export function isSpaRedirectUri(app: AppRegistration, redirectUri: string): boolean {
  return app.spaRedirectUris.includes(redirectUri);
}

/** Origins of the SPA redirect URIs of the given apps. */
export function spaOrigins(apps: Iterable<AppRegistration>): Set<string> {
  const origins = new Set<string>();
  for (const app of apps) {
    for (const uri of app.spaRedirectUris) {
      const origin = originOf(uri);
      if (origin) origins.add(origin);
    }
  }
  return origins;
}

/** Origins allowed to call a tenant's token endpoint (any app's SPA redirect URIs), for preflights that carry no client id. */
export function tenantSpaOrigins(tenants: Iterable<Tenant>): Set<string> {
  const origins = new Set<string>();
  for (const tenant of tenants) for (const origin of spaOrigins(tenant.apps.values())) origins.add(origin);
  return origins;
}

/** Adds CORS headers for `origin` when it is allowed; nothing otherwise (the browser then withholds the answer). */
export function allowCrossOrigin(reply: FastifyReply, origin: string | undefined, allowed: ReadonlySet<string>): void {
  void reply.header('Vary', 'Origin');
  if (!origin || !allowed.has(origin)) return;
  void reply.header('Access-Control-Allow-Origin', origin);
  void reply.header('Access-Control-Expose-Headers', 'client-request-id, x-ms-request-id');
}

/** Answers a CORS preflight of the token endpoint: allowed origins get POST with the headers MSAL may send. */
export function answerPreflight(reply: FastifyReply, origin: string | undefined, allowed: ReadonlySet<string>): FastifyReply {
  allowCrossOrigin(reply, origin, allowed);
  if (origin && allowed.has(origin)) {
    void reply
      .header('Access-Control-Allow-Methods', 'POST, OPTIONS')
      .header('Access-Control-Allow-Headers', allowedRequestHeaders.join(', '))
      .header('Access-Control-Max-Age', '86400');
  }
  return reply.status(204).send();
}

/**
 * Refuses a redemption whose origin does not fit its client type: a SPA grant needs `Origin`
 * (AADSTS9002327); any other grant must come without one (AADSTS9002326). The AADSTS9002326 answer is
 * readable by the calling page (CORS for its origin, on the error only) — msal-browser apps show that
 * error, which is how developers learn their redirect URI is registered as Web instead of SPA.
 */
export function checkRedemptionOrigin(reply: FastifyReply, origin: string | undefined, spa: boolean): void {
  if (spa && !origin) throw aadsts.spaRequiresCrossOrigin();
  if (!spa && origin) {
    void reply.header('Access-Control-Allow-Origin', origin);
    throw aadsts.crossOriginNotSpa(origin);
  }
}

/**
 * A code issued to a SPA redirect URI needs PKCE (AADSTS9002325). The sandbox insists on S256 (what
 * msal-browser sends); a `plain` challenge is refused the same way.
 */
export function checkSpaPkce(grant: AuthCodeGrant): void {
  if (grant.spa && (!grant.codeChallenge || grant.codeChallengeMethod !== 'S256')) throw aadsts.spaPkceRequired();
}
