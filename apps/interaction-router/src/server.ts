import { randomUUID } from 'node:crypto';
import { AgentDesktopServiceDefinition, descriptorSet, InteractionRouterServiceDefinition } from '@mailroute/contracts';
import type { EventBus } from '@mailroute/messaging';
import {
  createGrpcServer,
  serveWith,
  type CallerAuthenticator,
  type EntraTokenVerifier,
  type GrpcServer,
  type Logger,
} from '@mailroute/platform';
import { agentCallerMiddleware } from './auth/agent-caller';
import { workloadManagerCallerMiddleware } from './auth/supervisor-caller';
import { createDesktopHub, type DesktopHub } from './desktop/desktop-hub';
import { createHtmlSanitizer, type HtmlSanitizer } from './desktop/html-sanitizer';
import { adminScopes, createAdminHandlers } from './handlers/admin.handler';
import { createDesktopHandlers } from './handlers/desktop.handler';
import { createRouterCore, type RouterCore, type RouterCoreOptions } from './routing/router-core';
import { createRouterRuntime, type RouterRuntime } from './routing/router-runtime';
import { createSendResultHandler } from './routing/send-results';
import type { RouterStores } from './store/router-stores';

export interface ServiceDeps {
  logger: Logger;
  stores: RouterStores;
  bus: EventBus;
  /** Workload-manager callers (API keys). */
  authenticator: CallerAuthenticator;
  /** Agent desktops and supervisors (Entra ID tokens of the desktop app). */
  agentVerifier: EntraTokenVerifier;
  /** The desktop app's role that grants the workload-manager API to a signed-in user. Default `Supervisor`. */
  supervisorRole?: string;
  replicaId?: string;
  /** Consumer group of the inbound-email consumer (shared by replicas). */
  consumerGroupId?: string;
  /** Whether a new inbound consumer group starts at the beginning. Default true. */
  inboundFromBeginning?: boolean;
  sanitizer?: HtmlSanitizer;
  clock?: () => number;
  defaultDeadlineMs?: number;
  pollIntervalMs?: number;
  sweepIntervalMs?: number;
  sessionTtlMs?: number;
  sessionRefreshMs?: number;
  /** Planner lease length (a dead replica's tenants are planned elsewhere after at most this). Default 10 s. */
  plannerLeaseMs?: number;
  /** How often the outbox relay runs (see RouterRuntimeOptions.relayIntervalMs). */
  relayIntervalMs?: number;
  /** How long a change waits for its event to reach the bus (see RouterCoreOptions.publishWaitMs). */
  publishWaitMs?: number;
  /** Sees every committed interaction change (the metrics' counters). */
  onCommitted?: RouterCoreOptions['onCommitted'];
}

export interface RouterServer extends GrpcServer {
  core: RouterCore;
  runtime: RouterRuntime;
  hub: DesktopHub;
  /** Starts the consumers and background work; call before `listen`. */
  start(): Promise<void>;
  /** Stops background work and consumers (after the gRPC server). */
  stop(): Promise<void>;
}

/** The interaction-router: InteractionRouterService + AgentDesktopService over one core and runtime. */
export function createServer(deps: ServiceDeps): RouterServer {
  const replicaId = deps.replicaId ?? randomUUID();
  const core = createRouterCore({
    stores: deps.stores,
    bus: deps.bus,
    logger: deps.logger,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.sessionTtlMs ? { sessionTtlMs: deps.sessionTtlMs } : {}),
    ...(deps.onCommitted ? { onCommitted: deps.onCommitted } : {}),
    ...(deps.publishWaitMs !== undefined ? { publishWaitMs: deps.publishWaitMs } : {}),
  });
  const runtime = createRouterRuntime({
    core,
    sendResults: createSendResultHandler({ core, stores: deps.stores, logger: deps.logger }),
    leases: deps.stores.leases,
    replicaId,
    ...(deps.plannerLeaseMs ? { plannerLeaseMs: deps.plannerLeaseMs } : {}),
    bus: deps.bus,
    logger: deps.logger,
    ...(deps.pollIntervalMs ? { pollIntervalMs: deps.pollIntervalMs } : {}),
    ...(deps.sweepIntervalMs ? { sweepIntervalMs: deps.sweepIntervalMs } : {}),
    ...(deps.relayIntervalMs ? { relayIntervalMs: deps.relayIntervalMs } : {}),
    ...(deps.consumerGroupId ? { groupId: deps.consumerGroupId } : {}),
    ...(deps.inboundFromBeginning !== undefined ? { fromBeginning: deps.inboundFromBeginning } : {}),
  });
  const sanitizer = deps.sanitizer ?? createHtmlSanitizer();
  const hub = createDesktopHub({ bus: deps.bus, logger: deps.logger, replicaId });
  const grpc = createGrpcServer({
    logger: deps.logger,
    services: [
      serveWith(
        InteractionRouterServiceDefinition,
        workloadManagerCallerMiddleware({
          authenticator: deps.authenticator,
          verifier: deps.agentVerifier,
          scopeByMethod: adminScopes,
          ...(deps.supervisorRole ? { supervisorRole: deps.supervisorRole } : {}),
        }),
        createAdminHandlers({ core, stores: deps.stores, sanitizer, hub }),
      ),
      serveWith(
        AgentDesktopServiceDefinition,
        agentCallerMiddleware({ verifier: deps.agentVerifier, config: core.config }),
        createDesktopHandlers({
          core,
          stores: deps.stores,
          hub,
          bus: deps.bus,
          sanitizer,
          replicaId,
          ...(deps.sessionRefreshMs ? { sessionRefreshMs: deps.sessionRefreshMs } : {}),
        }),
      ),
    ],
    descriptorSet,
    ...(deps.defaultDeadlineMs ? { defaultDeadlineMs: deps.defaultDeadlineMs } : {}),
  });
  return {
    ...grpc,
    core,
    runtime,
    hub,
    async start() {
      await runtime.start();
      await hub.start();
    },
    async shutdown(graceMs) {
      hub.drain();
      await grpc.shutdown(graceMs);
    },
    async stop() {
      await runtime.stop();
      await hub.stop();
    },
  };
}
