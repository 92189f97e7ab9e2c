import { randomUUID } from 'node:crypto';
import type { EventBus } from '@mailroute/messaging';
import type { CallerAuthenticator, EntraTokenVerifier, GrpcServer, Logger } from '@mailroute/platform';
import type { Meter } from '@opentelemetry/api';
import { createDesktopHub, type DesktopHub } from './desktop/desktop-hub';
import { createHtmlSanitizer, type HtmlSanitizer } from './desktop/html-sanitizer';
import { createRouterMetrics, type RouterMetricsOptions } from './metrics/router.metrics';
import { createRouterCore, type RouterCore, type RouterCoreOptions } from './routing/router-core';
import { createRouterRuntime, type RouterRuntime } from './routing/router-runtime';
import { createSendResultHandler } from './results/send-results';
import { createServer } from './server';
import { createBlobSweeper } from '@mailroute/persistence';
import type { RouterStores } from './store/router-stores';

/** What the interaction-router runs on; the caller creates these and closes them after `stop()`. */
export interface InteractionRouterAdapters {
  /** MongoDB tables (shared by replicas) or the embedded store (one process). */
  stores: RouterStores;
  /** Kafka, or the in-process bus of an all-in-one host. */
  bus: EventBus;
  logger: Logger;
  /** Workload-manager callers (API keys). */
  authenticator: CallerAuthenticator;
  /** Agent desktops and supervisors (Entra ID tokens of the desktop app). */
  agentVerifier: EntraTokenVerifier;
  /** Where the queue metrics are registered; none = no queue metrics. */
  meter?: Meter | undefined;
}

/** The interaction-router's own settings (already parsed and validated); every one has a default downstream. */
export interface InteractionRouterSettings {
  /** Unique per process: planner and metrics lease owner, desktop session owner. Default a random UUID. */
  replicaId?: string | undefined;
  /** Consumer group of the inbound-email consumer (shared by replicas). Default "interaction-router". */
  consumerGroupId?: string | undefined;
  /** Whether a new inbound consumer group starts at the beginning. Default true. */
  inboundFromBeginning?: boolean | undefined;
  /** The desktop app's role that grants the workload-manager API to a signed-in user. Default `Supervisor`. */
  supervisorRole?: string | undefined;
  sanitizer?: HtmlSanitizer | undefined;
  clock?: (() => number) | undefined;
  /** Deadline of unary calls that arrive without one (createGrpcServer's default when unset). */
  defaultDeadlineMs?: number | undefined;
  /** Planning poll (RouterRuntimeOptions.pollIntervalMs). */
  pollIntervalMs?: number | undefined;
  /** Offer expiry sweep (RouterRuntimeOptions.sweepIntervalMs). */
  sweepIntervalMs?: number | undefined;
  /** Outbox relay (RouterRuntimeOptions.relayIntervalMs). */
  relayIntervalMs?: number | undefined;
  /** Alert sweep: SLA and queue alerts (RouterRuntimeOptions.alertSweepIntervalMs). */
  alertSweepIntervalMs?: number | undefined;
  /** How long published alert claims are kept once done (RouterCoreOptions.alertRetentionMs). */
  alertRetentionMs?: number | undefined;
  /** Planner lease length (a dead replica's tenants are planned elsewhere after at most this). Default 5 s. */
  plannerLeaseMs?: number | undefined;
  /** RouterCoreOptions.sessionTtlMs. */
  sessionTtlMs?: number | undefined;
  /** How often a desktop stream refreshes its session lease. Default 5 s. */
  sessionRefreshMs?: number | undefined;
  /** RouterCoreOptions.publishWaitMs. */
  publishWaitMs?: number | undefined;
  /** How long a reply upload no reply references is kept. Default 24 hours. */
  uploadTtlMs?: number | undefined;
  /** How often expired uploads are deleted. Default 5 minutes. */
  uploadSweepIntervalMs?: number | undefined;
  /** Sees every committed interaction change (besides the queue metrics, when a meter is given). */
  onCommitted?: RouterCoreOptions['onCommitted'];
  /** Queue metrics' intervals (with `adapters.meter`). */
  metrics?: RouterMetricsOptions | undefined;
}

/** The defaults of InteractionRouterSettings that compose.ts applies itself (the others are applied downstream). */
const defaultInteractionRouterSettings = { uploadSweepIntervalMs: 300_000 } as const;

/** The router a host runs: its gRPC server (not yet listening) and the parts behind it. */
export interface RouterServer extends GrpcServer {
  core: RouterCore;
  runtime: RouterRuntime;
  hub: DesktopHub;
  /** Starts the consumers and background work (and the queue metrics); call before `listen`. */
  start(): Promise<void>;
  /** Stops background work, consumers and queue metrics (after the gRPC server); the adapters stay open. */
  stop(): Promise<void>;
}

/**
 * The composition root of the interaction-router: everything above the adapters (the core, its
 * runtime of consumers and sweeps, the desktop hub, send results, queue metrics, the gRPC server).
 * `main.ts` reaches it through `wireInteractionRouter` (config → adapters); tests, benches and a host
 * that runs every service in one process call it with their own adapters.
 */
export function composeInteractionRouter(
  adapters: InteractionRouterAdapters,
  settings: InteractionRouterSettings = {},
): RouterServer {
  const { stores, bus, logger } = adapters;
  const replicaId = settings.replicaId ?? randomUUID();
  const routerMetrics = adapters.meter
    ? createRouterMetrics({ meter: adapters.meter, stores, logger, replicaId, options: settings.metrics ?? {} })
    : undefined;
  const onCommitted = [settings.onCommitted, routerMetrics?.onCommitted].filter((f) => f !== undefined);
  const core = createRouterCore({
    stores,
    bus,
    logger,
    clock: settings.clock,
    sessionTtlMs: settings.sessionTtlMs,
    publishWaitMs: settings.publishWaitMs,
    alertRetentionMs: settings.alertRetentionMs,
    onCommitted: onCommitted.length ? (entry) => onCommitted.forEach((seen) => seen(entry)) : undefined,
  });
  const runtime = createRouterRuntime({
    core,
    sendResults: createSendResultHandler({ core, stores, logger }),
    leases: stores.leases,
    replicaId,
    bus,
    logger,
    plannerLeaseMs: settings.plannerLeaseMs,
    pollIntervalMs: settings.pollIntervalMs,
    sweepIntervalMs: settings.sweepIntervalMs,
    relayIntervalMs: settings.relayIntervalMs,
    alertSweepIntervalMs: settings.alertSweepIntervalMs,
    groupId: settings.consumerGroupId,
    fromBeginning: settings.inboundFromBeginning,
  });
  const hub = createDesktopHub({ bus, logger, replicaId });
  const grpc = createServer({
    logger,
    core,
    stores,
    hub,
    bus,
    sanitizer: settings.sanitizer ?? createHtmlSanitizer(),
    replicaId,
    authenticator: adapters.authenticator,
    agentVerifier: adapters.agentVerifier,
    supervisorRole: settings.supervisorRole,
    defaultDeadlineMs: settings.defaultDeadlineMs,
    sessionRefreshMs: settings.sessionRefreshMs,
    uploadTtlMs: settings.uploadTtlMs,
  });
  const uploadSweeper = createBlobSweeper({
    blobs: stores.blobs,
    logger,
    intervalMs: settings.uploadSweepIntervalMs ?? defaultInteractionRouterSettings.uploadSweepIntervalMs,
    ...(settings.clock ? { clock: settings.clock } : {}),
  });
  return {
    ...grpc,
    core,
    runtime,
    hub,
    async start() {
      await runtime.start();
      await hub.start();
      uploadSweeper.start();
      routerMetrics?.start(core);
    },
    async stop() {
      await uploadSweeper.stop();
      await runtime.stop();
      await core.flushMarkers().catch(() => undefined);
      await hub.stop();
      await routerMetrics?.stop();
    },
  };
}
