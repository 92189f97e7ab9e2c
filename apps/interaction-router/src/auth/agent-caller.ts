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

interface AgentSummary {
  id: string;
  name: string;
  enabled: boolean;
}

/** A tenant's agents by sign-in identity, as loaded at `loadedAt` (the load's start). */
interface AgentDirectory {
  loadedAt: number;
  byId: Map<string, AgentSummary>;
  byOid: Map<string, AgentSummary>;
  byUpn: Map<string, AgentSummary>;
}

export interface AgentDirectoryOptions {
  config: Pick<ConfigRepository, 'all'>;
  /** How long a loaded agent list answers sign-ins. Default 2000 ms. */
  cacheMs?: number;
  /** Least time between two loads of one tenant's agents (a flood of unknown users waits for the next one). Default 250 ms. */
  minReloadMs?: number;
  now?: () => number;
}

/**
 * The agents a sign-in maps to, per tenant, cached for `cacheMs`. A miss (no enabled agent for the
 * identity) is answered from a list loaded after the call arrived, so an agent created a moment ago
 * signs in at once; such reloads happen at most once per `minReloadMs` per tenant, shared by every
 * call waiting for one, so unknown users cannot make the router read its store more often.
 *
 * Bound: an agent disabled or deleted keeps passing these checks for at most `cacheMs` (plus one
 * load) on each replica. Unary calls are checked per call; an open Connect stream checks `byId` on
 * each session refresh (sessionRefreshMs, default 5 s) and then ends with PERMISSION_DENIED.
 */
/** The defaults of AgentDirectoryOptions: the agent list is reused 2 s; an unknown sign-in reloads it at most every 250 ms. */
const defaultAgentDirectoryOptions = { cacheMs: 2_000, minReloadMs: 250 } as const;

export function createAgentDirectory(options: AgentDirectoryOptions) {
  const cacheMs = options.cacheMs ?? defaultAgentDirectoryOptions.cacheMs;
  const minReloadMs = options.minReloadMs ?? defaultAgentDirectoryOptions.minReloadMs;
  const now = options.now ?? Date.now;
  const tenants = new Map<
    string,
    { current?: AgentDirectory; lastStartAt: number; next?: { startAt: number; promise: Promise<AgentDirectory> } }
  >();

  async function load(tenantId: string): Promise<AgentDirectory> {
    const loadedAt = now();
    const entry: AgentDirectory = { loadedAt, byId: new Map(), byOid: new Map(), byUpn: new Map() };
    for (const { id, value } of await options.config.all(tenantId, 'agent')) {
      const summary = { id, name: value.displayName, enabled: value.enabled !== false };
      entry.byId.set(id, summary);
      if (value.entraObjectId) entry.byOid.set(value.entraObjectId.toLowerCase(), summary);
      if (value.userPrincipalName) entry.byUpn.set(value.userPrincipalName.toLowerCase(), summary);
    }
    return entry;
  }

  /** A list whose load starts at or after `since`: the one already scheduled for then, or a new one, at most one per `minReloadMs`. */
  function loadStartingAfter(tenantId: string, since: number): Promise<AgentDirectory> {
    let state = tenants.get(tenantId);
    if (!state) tenants.set(tenantId, (state = { lastStartAt: Number.NEGATIVE_INFINITY }));
    const tenant = state;
    if (tenant.next && tenant.next.startAt >= since) return tenant.next.promise;
    const startAt = Math.max(since, tenant.lastStartAt + minReloadMs);
    tenant.lastStartAt = startAt;
    const promise = (async () => {
      const wait = startAt - now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const loaded = await load(tenantId);
      if (!tenant.current || tenant.current.loadedAt <= loaded.loadedAt) tenant.current = loaded;
      return loaded;
    })();
    const next = { startAt, promise };
    tenant.next = next;
    const clear = () => {
      if (tenant.next === next) tenant.next = undefined;
    };
    promise.then(clear, clear);
    return promise;
  }

  const find = (directory: AgentDirectory, objectId: string, userPrincipalName: string | undefined) =>
    directory.byOid.get(objectId.toLowerCase()) ??
    (userPrincipalName ? directory.byUpn.get(userPrincipalName.toLowerCase()) : undefined);

  /** Answers from a list at most `cacheMs` old when it has an enabled agent, else from one loaded after the call arrived. */
  async function lookup(
    tenantId: string,
    pick: (directory: AgentDirectory) => AgentSummary | undefined,
  ): Promise<AgentSummary | undefined> {
    const arrivedAt = now();
    const state = tenants.get(tenantId);
    const cached = state?.current;
    // A fresh list, or else the load already under way (expiry must not start a load per caller).
    const known = cached && arrivedAt - cached.loadedAt < cacheMs ? cached : state?.next ? await state.next.promise : undefined;
    if (known) {
      const hit = pick(known);
      if (hit?.enabled || known.loadedAt >= arrivedAt) return hit;
    }
    // Unknown or disabled in a list older than the call: ask one loaded after it arrived (just created or enabled agents pass).
    return pick(await loadStartingAfter(tenantId, arrivedAt));
  }

  return {
    /** The agent an identity maps to (enabled or not), or undefined when there is none. */
    resolve(tenantId: string, objectId: string, userPrincipalName: string | undefined): Promise<AgentSummary | undefined> {
      return lookup(tenantId, (directory) => find(directory, objectId, userPrincipalName));
    },
    /** The agent with this id (enabled or not), or undefined when it was deleted. */
    byId(tenantId: string, agentId: string): Promise<AgentSummary | undefined> {
      return lookup(tenantId, (directory) => directory.byId.get(agentId));
    },
  };
}

/**
 * Authenticates agent desktops: `authorization: Bearer <Entra ID token>` is verified (JWKS, issuer,
 * audience, `tid` among the allowed directories) and mapped to the tenant's enabled agent whose
 * entra_object_id (or user_principal_name) matches (see createAgentDirectory for caching).
 */
export function agentCallerMiddleware(options: {
  verifier: EntraTokenVerifier;
  config: ConfigRepository;
  cacheMs?: number;
  minReloadMs?: number;
}): ServerMiddleware<AgentCallContext> {
  const directory = createAgentDirectory({
    config: options.config,
    ...(options.cacheMs !== undefined ? { cacheMs: options.cacheMs } : {}),
    ...(options.minReloadMs !== undefined ? { minReloadMs: options.minReloadMs } : {}),
  });
  return async function* authenticateAgent<Request, Response>(
    call: ServerMiddlewareCall<Request, Response, AgentCallContext>,
    context: CallContext,
  ) {
    const header = context.metadata.get('authorization');
    const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(String(header).trim());
    if (!match?.[1]) throw new UnauthenticatedError('sign in with Microsoft: send "authorization: Bearer <Entra ID token>"');
    const identity = await options.verifier.verify(match[1]);
    const agent = await directory.resolve(identity.tenantId, identity.objectId, identity.userPrincipalName);
    if (!agent) throw new PermissionDeniedError('the signed-in user is not an agent of this tenant');
    if (!agent.enabled) throw new PermissionDeniedError('the agent is disabled');
    return yield* call.next(call.request, {
      ...context,
      tenantId: identity.tenantId,
      agentId: agent.id,
      agentName: agent.name,
      tokenExpiresAt: identity.expiresAt,
    });
  };
}
