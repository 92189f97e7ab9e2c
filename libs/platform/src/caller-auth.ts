import { createHash, timingSafeEqual } from 'node:crypto';
import type { CallContext, ServerMiddleware, ServerMiddlewareCall } from 'nice-grpc-common';
import { PermissionDeniedError, UnauthenticatedError } from './errors';

/**
 * Who is calling, as proven by the credential the call carried (never by a request field).
 *
 * - `tenant-client`: a workload-manager client acting for exactly one mailroute tenant with a set of
 *   scopes, authenticated by an API key (`Authorization: Bearer <key>`).
 * - `service`: another mailroute service (mailbox-fetch, outbound-send), authenticated by its
 *   service token, or — in the embedded development mode only — by calling over loopback.
 */
export type CallerIdentity = TenantClientIdentity | ServiceIdentity;

export interface TenantClientIdentity {
  kind: 'tenant-client';
  /** Id of the API key (not secret), for logs and audit. */
  keyId: string;
  tenantId: string;
  scopes: ReadonlySet<string>;
}

export interface ServiceIdentity {
  kind: 'service';
  /** The service's name, e.g. "mailbox-fetch". */
  service: string;
}

/** A workload-manager API key as configured: only its SHA-256 is known to the server. */
export interface ApiKeyEntry {
  id: string;
  tenantId: string;
  scopes: readonly string[];
  /** Lower-case hex SHA-256 of the whole key string. */
  sha256: string;
}

/** A mailroute service's token as configured: only its SHA-256 is known to the server. */
export interface ServiceTokenEntry {
  service: string;
  sha256: string;
}

export interface CallerAuthenticatorOptions {
  apiKeys?: readonly ApiKeyEntry[];
  serviceTokens?: readonly ServiceTokenEntry[];
  /**
   * Development only: a call without credentials from a loopback peer counts as the service
   * "loopback". Never enable it where other users or workloads share the host.
   */
  trustLoopbackAsService?: boolean;
}

/** Resolves a call's credential to a caller identity. */
export interface CallerAuthenticator {
  /** The identity; UnauthenticatedError when the call has no valid credential. */
  authenticate(context: Pick<CallContext, 'metadata' | 'peer'>): CallerIdentity;
}

/** Lower-case hex SHA-256 of a bearer credential, as API keys and service tokens are configured. */
export function hashBearerCredential(credential: string): string {
  return createHash('sha256').update(credential, 'utf8').digest('hex');
}

/**
 * Authenticates bearer credentials against hashed API keys and service tokens. Credentials are
 * compared by their SHA-256 (constant time), so the configuration holds nothing that would let a
 * reader call the API.
 */
export function createCallerAuthenticator(options: CallerAuthenticatorOptions): CallerAuthenticator {
  const byHash = new Map<string, CallerIdentity>();
  for (const key of options.apiKeys ?? []) {
    byHash.set(normalizeHash(key.sha256), {
      kind: 'tenant-client',
      keyId: key.id,
      tenantId: key.tenantId,
      scopes: new Set(key.scopes),
    });
  }
  for (const token of options.serviceTokens ?? []) {
    byHash.set(normalizeHash(token.sha256), { kind: 'service', service: token.service });
  }
  return {
    authenticate(context) {
      const header = context.metadata.get('authorization');
      if (header === undefined) {
        if (options.trustLoopbackAsService && isLoopbackPeer(context.peer)) return { kind: 'service', service: 'loopback' };
        throw new UnauthenticatedError('this call needs a credential: send "authorization: Bearer <API key or service token>"');
      }
      const match = /^Bearer\s+(\S+)$/i.exec(String(header).trim());
      if (!match?.[1]) throw new UnauthenticatedError('the authorization header must be "Bearer <credential>"');
      const hash = hashBearerCredential(match[1]);
      for (const [known, identity] of byHash) {
        if (timingSafeEqual(Buffer.from(known, 'hex'), Buffer.from(hash, 'hex'))) return identity;
      }
      throw new UnauthenticatedError('the credential is not valid (unknown, revoked or mistyped)');
    },
  };
}

/** What handlers of a tenant-facing service see: the tenant comes from the verified caller. */
export interface TenantCallContext {
  tenantId: string;
  caller: TenantClientIdentity;
}

/** What handlers of an internal service see. */
export interface ServiceCallContext {
  callerService: string;
}

export interface TenantCallerMiddlewareOptions {
  authenticator: CallerAuthenticator;
  /**
   * The scope each method needs, by method name (e.g. `GetTenantCredentials: 'credentials.read'`).
   * A method missing from the map is refused: new methods must be classified on purpose.
   */
  scopeByMethod: Readonly<Record<string, string>>;
}

/**
 * Server middleware for workload-manager facing services: authenticates the caller, refuses
 * services and clients lacking the method's scope (PERMISSION_DENIED), and gives the handler the
 * caller's tenant as `context.tenantId`.
 */
export function tenantCallerMiddleware(options: TenantCallerMiddlewareOptions): ServerMiddleware<TenantCallContext> {
  return async function* authenticateTenantCaller<Request, Response>(
    call: ServerMiddlewareCall<Request, Response, TenantCallContext>,
    context: CallContext,
  ) {
    const identity = options.authenticator.authenticate(context);
    if (identity.kind !== 'tenant-client') {
      throw new PermissionDeniedError(`${call.method.path} is for workload-manager clients; services have no tenant`);
    }
    const scope = options.scopeByMethod[methodName(call.method.path)];
    if (!scope || !identity.scopes.has(scope)) {
      throw new PermissionDeniedError(
        `the API key ${JSON.stringify(identity.keyId)} lacks the scope ${JSON.stringify(scope ?? '(none)')} for ${call.method.path}`,
      );
    }
    return yield* call.next(call.request, { ...context, tenantId: identity.tenantId, caller: identity });
  };
}

export interface ServiceCallerMiddlewareOptions {
  authenticator: CallerAuthenticator;
  /** Services allowed to call; unset allows every authenticated mailroute service. */
  allowedServices?: readonly string[];
}

/**
 * Server middleware for internal services: only mailroute services may call (PERMISSION_DENIED for
 * workload-manager and agent credentials); the handler sees `context.callerService`.
 */
export function serviceCallerMiddleware(options: ServiceCallerMiddlewareOptions): ServerMiddleware<ServiceCallContext> {
  const allowed = options.allowedServices ? new Set(options.allowedServices) : undefined;
  return async function* authenticateServiceCaller<Request, Response>(
    call: ServerMiddlewareCall<Request, Response, ServiceCallContext>,
    context: CallContext,
  ) {
    const identity = options.authenticator.authenticate(context);
    if (identity.kind !== 'service') {
      throw new PermissionDeniedError(`${call.method.path} is internal: only mailroute services may call it`);
    }
    if (allowed && identity.service !== 'loopback' && !allowed.has(identity.service)) {
      throw new PermissionDeniedError(`the service ${JSON.stringify(identity.service)} may not call ${call.method.path}`);
    }
    return yield* call.next(call.request, { ...context, callerService: identity.service });
  };
}

/**
 * Parses API keys from configuration: entries `keyId:tenantId:scope+scope:sha256hex`, separated by
 * commas. Throws naming the bad entry.
 */
export function parseApiKeys(text: string): ApiKeyEntry[] {
  return entries(text).map((entry, index) => {
    const [id, tenantId, scopes, sha256, ...rest] = entry.split(':');
    if (!id || !tenantId || !scopes || !sha256 || rest.length > 0 || !isSha256Hex(sha256)) {
      throw new Error(`entry ${index + 1} must be "<key id>:<tenant id>:<scope>+<scope>:<sha256 hex of the key>"`);
    }
    return { id, tenantId, scopes: scopes.split('+').filter(Boolean), sha256: sha256.toLowerCase() };
  });
}

/** Parses service tokens from configuration: entries `service:sha256hex`, separated by commas. */
export function parseServiceTokens(text: string): ServiceTokenEntry[] {
  return entries(text).map((entry, index) => {
    const [service, sha256, ...rest] = entry.split(':');
    if (!service || !sha256 || rest.length > 0 || !isSha256Hex(sha256)) {
      throw new Error(`entry ${index + 1} must be "<service name>:<sha256 hex of the token>"`);
    }
    return { service, sha256: sha256.toLowerCase() };
  });
}

/**
 * True for a loopback peer as grpc-js reports it: `127.x.x.x:port` and `[::1]:port` (grpc-js 1.14),
 * the older `ipv4:`/`ipv6:`-prefixed forms, IPv4-mapped `[::ffff:127.x.x.x]:port`, and `unix:` sockets.
 */
export function isLoopbackPeer(peer: string): boolean {
  if (peer.startsWith('unix:')) return true;
  const address = peer.replace(/^ipv[46]:/, '');
  return (
    /^127\.\d+\.\d+\.\d+(:\d+)?$/.test(address) ||
    /^\[::1\](:\d+)?$/.test(address) ||
    /^\[::ffff:127\.\d+\.\d+\.\d+\](:\d+)?$/i.test(address)
  );
}

function methodName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function entries(text: string): string[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
}

function isSha256Hex(value: string): boolean {
  return /^[0-9a-fA-F]{64}$/.test(value);
}

function normalizeHash(value: string): string {
  if (!isSha256Hex(value)) throw new Error('credential hashes must be 64 hex characters (SHA-256)');
  return value.toLowerCase();
}
