import { AgentDesktopServiceDefinition, descriptorSet, InteractionRouterServiceDefinition } from '@mailroute/contracts';
import type { EventBus } from '@mailroute/messaging';
import {
  createGrpcServer,
  serveWith,
  type CallerAuthenticator,
  type EntraTokenVerifier,
  type GrpcServer,
  type Logger,
  workloadManagerCallerMiddleware,
} from '@mailroute/platform';
import { withStoreSteps } from '@mailroute/persistence';
import { agentCallerMiddleware } from './auth/agent-caller';
import type { DesktopHub } from './desktop/desktop-hub';
import type { HtmlSanitizer } from './desktop/html-sanitizer';
import { adminScopes, createAdminHandlers } from './handlers/admin.handler';
import { createDesktopHandlers } from './handlers/desktop.handler';
import type { RouterCore } from './routing/router-core';
import type { RouterStores } from './store/router-stores';

export interface ServerDeps {
  logger: Logger;
  core: RouterCore;
  stores: RouterStores;
  hub: DesktopHub;
  bus: EventBus;
  sanitizer: HtmlSanitizer;
  replicaId: string;
  /** Workload-manager callers (API keys). */
  authenticator: CallerAuthenticator;
  /** Agent desktops and supervisors (Entra ID tokens of the desktop app). */
  agentVerifier: EntraTokenVerifier;
  /** The desktop app's role that grants the workload-manager API to a signed-in user. Default `Supervisor`. */
  supervisorRole?: string | undefined;
  defaultDeadlineMs?: number | undefined;
  /** How often a desktop stream refreshes its session lease. Default 5 s. */
  sessionRefreshMs?: number | undefined;
  /** How long a reply upload no reply references is kept. Default 24 hours. */
  uploadTtlMs?: number | undefined;
}

/**
 * The store step (see withStoreStep) a desktop call's store operations are counted under: the
 * stream's session refreshes and presence are the heartbeat; reads of the desktop are `desktop`.
 */
function desktopStoreStep(method: string): string {
  const steps: Record<string, string> = {
    connect: 'heartbeat',
    setPresence: 'heartbeat',
    accept: 'accept',
    decline: 'decline',
    complete: 'complete',
    transfer: 'transfer',
    reply: 'reply',
    uploadReplyAttachment: 'reply',
  };
  return steps[method] ?? 'desktop';
}

/**
 * The router's gRPC server: InteractionRouterService (API keys with routing.read / routing.write, or
 * supervisors' Entra ID tokens with the supervisor role) and AgentDesktopService (agents' Entra ID tokens), with health and reflection. Shutdown first tells
 * the desktop streams to drain. Built by `composeInteractionRouter` (compose.ts).
 */
export function createServer(deps: ServerDeps): GrpcServer {
  const { core, stores, hub } = deps;
  const grpc = createGrpcServer({
    logger: deps.logger,
    services: [
      serveWith(
        InteractionRouterServiceDefinition,
        workloadManagerCallerMiddleware({
          authenticator: deps.authenticator,
          verifier: deps.agentVerifier,
          scopeByMethod: adminScopes,
          supervisorScopes: ['routing.read', 'routing.write'],
          ...(deps.supervisorRole ? { supervisorRole: deps.supervisorRole } : {}),
        }),
        withStoreSteps(createAdminHandlers({ core, stores, sanitizer: deps.sanitizer, hub }), () => 'admin'),
      ),
      serveWith(
        AgentDesktopServiceDefinition,
        agentCallerMiddleware({ verifier: deps.agentVerifier, config: core.config }),
        withStoreSteps(
          createDesktopHandlers({
            core,
            stores,
            hub,
            bus: deps.bus,
            sanitizer: deps.sanitizer,
            replicaId: deps.replicaId,
            sessionRefreshMs: deps.sessionRefreshMs,
            uploadTtlMs: deps.uploadTtlMs,
          }),
          desktopStoreStep,
        ),
      ),
    ],
    descriptorSet,
    defaultDeadlineMs: deps.defaultDeadlineMs,
  });
  return {
    ...grpc,
    async shutdown(graceMs) {
      hub.drain();
      await grpc.shutdown(graceMs);
    },
  };
}
