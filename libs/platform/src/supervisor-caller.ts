import type { CallContext, ServerMiddleware, ServerMiddlewareCall } from 'nice-grpc-common';
import type { EntraTokenVerifier } from './agent-auth';
import { tenantCallerMiddleware, type CallerAuthenticator, type TenantCallContext } from './caller-auth';
import { PermissionDeniedError } from './errors';

/** The app role that makes a signed-in user a supervisor, by default. */
const defaultSupervisorRole = 'Supervisor';

export interface WorkloadManagerCallerOptions {
  /** API keys (automation). */
  authenticator: CallerAuthenticator;
  /** Verifies Entra ID tokens of the desktop app (the agents' verifier: same directories, audience, keys). */
  verifier: EntraTokenVerifier;
  /** The scope each method needs (the service's API-key scopes). */
  scopeByMethod: Readonly<Record<string, string>>;
  /** What the supervisor role grants on this API: its scopes, in the user's own tenant (e.g. routing.read + routing.write). */
  supervisorScopes: readonly string[];
  /** The app role on the desktop app that grants the API. Default `Supervisor`. */
  supervisorRole?: string;
}

/** A JWT's shape: three base64url parts, the first a JSON header. API keys never look like that. */
function isJwt(credential: string): boolean {
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential)) return false;
  try {
    const header = JSON.parse(Buffer.from(credential.slice(0, credential.indexOf('.')), 'base64url').toString('utf8')) as unknown;
    return typeof header === 'object' && header !== null && 'alg' in header;
  } catch {
    return false;
  }
}

function bearerOf(context: CallContext): string | undefined {
  const header = context.metadata.get('authorization');
  return header === undefined ? undefined : /^Bearer\s+(\S+)$/i.exec(String(header).trim())?.[1];
}

function methodName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Authenticates workload-manager callers (the router's, mailbox-fetch's and the auth-broker's tenant APIs):
 * an API key (automation) as tenantCallerMiddleware does, or the Entra ID token of a person who signed in to
 * the desktop app ("Sign in with Microsoft" in the console). A token is verified like an agent's (signature,
 * issuer, audience, `tid` among the allowed directories); its tenant is the one its `tid` maps to — never a
 * request field — and the user must hold the supervisor app role there, which grants `supervisorScopes` in
 * that tenant only. Handlers see the same TenantCallContext either way; a supervisor's `caller.keyId` is
 * `user:<UPN or oid>`, which is the actor changes record.
 */
export function workloadManagerCallerMiddleware(options: WorkloadManagerCallerOptions): ServerMiddleware<TenantCallContext> {
  const role = options.supervisorRole ?? defaultSupervisorRole;
  const granted: ReadonlySet<string> = new Set(options.supervisorScopes);
  const apiKeys = tenantCallerMiddleware({ authenticator: options.authenticator, scopeByMethod: options.scopeByMethod });
  return async function* authenticateWorkloadManager<Request, Response>(
    call: ServerMiddlewareCall<Request, Response, TenantCallContext>,
    context: CallContext,
  ) {
    const credential = bearerOf(context);
    if (!credential || !isJwt(credential)) return yield* apiKeys(call, context);
    const identity = await options.verifier.verify(credential);
    const who = identity.userPrincipalName || identity.objectId;
    if (!identity.roles.includes(role)) {
      throw new PermissionDeniedError(
        `${who} is signed in but does not hold the ${JSON.stringify(role)} app role of the mailroute desktop app in their tenant; ` +
          'the workload-manager API is for supervisors (an Entra administrator assigns the role)',
      );
    }
    const scope = options.scopeByMethod[methodName(call.method.path)];
    if (!scope || !granted.has(scope)) {
      throw new PermissionDeniedError(`the ${JSON.stringify(role)} role does not grant ${call.method.path}`);
    }
    return yield* call.next(call.request, {
      ...context,
      tenantId: identity.tenantId,
      caller: { kind: 'tenant-client', keyId: `user:${who}`, tenantId: identity.tenantId, scopes: granted },
    });
  };
}
