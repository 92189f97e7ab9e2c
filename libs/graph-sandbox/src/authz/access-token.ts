import { GraphApiError } from '../errors';
import { graphAppId, graphAudience } from '../entra/token-issuer';
import type { Tenant } from '../model/model.types';
import type { SandboxState } from '../model/sandbox-state';
import type { Clock } from '../shared/clock';
import { decodeJwt, verifyJwtSignature } from '../shared/jwt';
import type { KeyObject } from 'node:crypto';

/** Who is calling Graph, from a verified access token. */
export interface GraphCaller {
  tenant: Tenant;
  appId: string;
  /** App-only (client credentials) or delegated (a signed-in user). */
  kind: 'app' | 'user';
  /** `roles` for app tokens, `scp` for delegated ones. */
  permissions: ReadonlySet<string>;
  /** The signed-in user (delegated tokens). */
  userId?: string;
}

function unauthenticated(message: string, baseUrl: string): GraphApiError {
  return new GraphApiError({
    status: 401,
    code: 'InvalidAuthenticationToken',
    message,
    headers: {
      'WWW-Authenticate': `Bearer realm="", authorization_uri="${baseUrl}/common/oauth2/authorize", client_id="${graphAppId}"`,
    },
  });
}

/**
 * Validates a Graph request's bearer token like Graph does: present, a JWS signed by the sandbox's key,
 * audience Graph, not expired, issued for a tenant that exists, and carrying `roles` or `scp`.
 * Each failure is a 401 `InvalidAuthenticationToken` with Graph's message.
 */
export async function authenticateGraphRequest(
  authorization: string | undefined,
  options: { state: SandboxState; verifyKey: KeyObject; clock: Clock; baseUrl: string },
): Promise<GraphCaller> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match?.[1]) throw unauthenticated('Access token is empty.', options.baseUrl);
  let payload: Record<string, unknown>;
  try {
    const jwt = decodeJwt(match[1]);
    await verifyJwtSignature(jwt, options.verifyKey);
    payload = jwt.payload;
  } catch (error) {
    const problem = (error as { problem?: string }).problem;
    throw unauthenticated(
      problem === 'malformed' ? 'CompactToken parsing failed with error code: 80049217' : 'Access token validation failure.',
      options.baseUrl,
    );
  }
  const aud = payload['aud'];
  if (aud !== graphAudience && aud !== graphAppId && aud !== `${graphAudience}/`) {
    throw unauthenticated('Access token validation failure. Invalid audience.', options.baseUrl);
  }
  const exp = payload['exp'];
  const nbf = payload['nbf'];
  const now = Math.floor(options.clock() / 1000);
  if (typeof exp !== 'number' || now >= exp)
    throw unauthenticated('Lifetime validation failed, the token is expired.', options.baseUrl);
  if (typeof nbf === 'number' && now + 300 < nbf)
    throw unauthenticated('Lifetime validation failed, the token is not yet valid.', options.baseUrl);
  const tenant = options.state.tenants.get(String(payload['tid']));
  const appId = String(payload['appid'] ?? '');
  if (!tenant || !tenant.apps.has(appId)) throw unauthenticated('Access token validation failure.', options.baseUrl);
  const roles = Array.isArray(payload['roles']) ? payload['roles'].map(String) : undefined;
  const scp = typeof payload['scp'] === 'string' ? payload['scp'].split(' ').filter(Boolean) : undefined;
  // An app-only token without roles is what an app set up only with RBAC for Applications gets: Exchange
  // decides per mailbox. Without role assignments either, Graph refuses it outright.
  const rbacApp =
    !scp && payload['idtyp'] === 'app' && tenant.exchangeAppRbac.assignments.some((assignment) => assignment.appId === appId);
  if (!roles && !scp && !rbacApp)
    throw unauthenticated('Either scp or roles claim need to be present in the token.', options.baseUrl);
  if (scp) {
    return { tenant, appId, kind: 'user', permissions: new Set(scp), userId: String(payload['oid']) };
  }
  return { tenant, appId, kind: 'app', permissions: new Set(roles ?? []) };
}
