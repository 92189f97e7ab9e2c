import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@mailroute/platform';
import type { TokenIssuer } from '../entra/token-issuer';
import type { SandboxState } from '../model/sandbox-state';
import type { FaultDecision, FaultInjector, FaultTarget } from '../throttling/fault-injector';
import type { MailboxLimiter } from '../throttling/mailbox-limiter';
import type { Clock } from './clock';

/** Protocol knobs (from config) that handlers read. */
export interface SandboxSettings {
  accessTokenLifetimeSeconds: number;
  refreshTokenLifetimeSeconds: number;
  /** Refresh tokens issued to single-page apps: Entra's 24 hours, not extended by refreshing. */
  spaRefreshTokenLifetimeSeconds: number;
  deviceCodeIntervalSeconds: number;
  deviceCodeLifetimeSeconds: number;
  /** Delta tokens older than this answer SyncStateNotFound (0 = only evicted by the admin API). */
  deltaTokenMaxAgeSeconds: number;
  /** SPA redirect URIs the demo profile registers for the console. */
  consoleRedirectUris?: string[] | undefined;
  /** Messages delta page size when the client sends no `Prefer: odata.maxpagesize`. */
  defaultDeltaPageSize: number;
}

/** Everything the HTTP handlers share: the state, the token issuer, the limits and fault switches. */
export interface SandboxContext {
  state: SandboxState;
  issuer: TokenIssuer;
  faults: FaultInjector;
  limiter: MailboxLimiter;
  clock: Clock;
  logger: Logger;
  settings: SandboxSettings;
  /** `https://127.0.0.1:<port>`, known once the listener is bound. */
  baseUrl(): string;
  /** Signs and checks opaque delta/skip tokens. */
  tokenSecret: Buffer;
}

/**
 * Applies the fault switches matching `target`: waits the injected latency, then either destroys the
 * socket (returns 'dropped'), returns the decision when it has a status to answer with or asks to
 * drop the response after handling (`dropResponse`), or undefined to carry on normally.
 */
export async function applyFaults(
  context: SandboxContext,
  request: FastifyRequest,
  reply: FastifyReply,
  target: FaultTarget,
): Promise<'dropped' | FaultDecision | undefined> {
  const decision = context.faults.decide(target);
  if (!decision) return undefined;
  if (decision.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, decision.latencyMs));
  if (decision.drop) {
    reply.hijack();
    request.raw.socket.destroy();
    return 'dropped';
  }
  return decision.status === undefined && !decision.dropResponse ? undefined : decision;
}
