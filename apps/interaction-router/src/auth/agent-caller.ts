import type { CallContext, ServerMiddleware, ServerMiddlewareCall } from 'nice-grpc-common';
import { PermissionDeniedError, UnauthenticatedError, type EntraTokenVerifier } from '@mailroute/platform';
import type { ConfigRepository } from '../routing/config-repository';

/** What desktop handlers see: the tenant and agent come only from the verified sign-in token. */
export interface AgentCallContext {
  tenantId: string;
  agentId: string;
  agentName: string;
  /** When the sign-in token expires (the stream ends then with UNAUTHENTICATED). */
  tokenExpiresAt: number;
}

/**
 * Authenticates agent desktops: `authorization: Bearer <Entra ID token>` is verified (JWKS, issuer,
 * audience, `tid` among the allowed directories) and mapped to the tenant's enabled agent whose
 * entra_object_id (or user_principal_name) matches.
 */
export function agentCallerMiddleware(options: { verifier: EntraTokenVerifier; config: ConfigRepository; cacheMs?: number }): ServerMiddleware<AgentCallContext> {
  const cache = new Map<string, { at: number; byOid: Map<string, { id: string; name: string; enabled: boolean }>; byUpn: Map<string, { id: string; name: string; enabled: boolean }> }>();
  async function agentsOf(tenantId: string) {
    const cached = cache.get(tenantId);
    if (cached && Date.now() - cached.at < (options.cacheMs ?? 2_000)) return cached;
    const agents = await options.config.all(tenantId, 'agent');
    const entry = { at: Date.now(), byOid: new Map(), byUpn: new Map() } as NonNullable<typeof cached>;
    for (const { id, value } of agents) {
      const summary = { id, name: value.displayName, enabled: value.enabled !== false };
      if (value.entraObjectId) entry.byOid.set(value.entraObjectId.toLowerCase(), summary);
      if (value.userPrincipalName) entry.byUpn.set(value.userPrincipalName.toLowerCase(), summary);
    }
    cache.set(tenantId, entry);
    return entry;
  }
  return async function* authenticateAgent<Request, Response>(call: ServerMiddlewareCall<Request, Response, AgentCallContext>, context: CallContext) {
    const header = context.metadata.get('authorization');
    const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(String(header).trim());
    if (!match?.[1]) throw new UnauthenticatedError('sign in with Microsoft: send "authorization: Bearer <Entra ID token>"');
    const identity = await options.verifier.verify(match[1]);
    const agents = await agentsOf(identity.tenantId);
    const agent = agents.byOid.get(identity.objectId.toLowerCase()) ?? (identity.userPrincipalName ? agents.byUpn.get(identity.userPrincipalName.toLowerCase()) : undefined);
    if (!agent) throw new PermissionDeniedError('the signed-in user is not an agent of this tenant');
    if (!agent.enabled) throw new PermissionDeniedError('the agent is disabled');
    return yield* call.next(call.request, { ...context, tenantId: identity.tenantId, agentId: agent.id, agentName: agent.name, tokenExpiresAt: identity.expiresAt });
  };
}
