import { randomUUID } from 'node:crypto';
import { InProcessEventBus, KafkaEventBus, kafkaSecurityFromConfig, type EventBus } from '@mailroute/messaging';
import {
  createCallerAuthenticator,
  createEntraTokenVerifier,
  startMetrics,
  type Logger,
  type ServiceConfig,
  type ServiceParts,
} from '@mailroute/platform';
import type { z } from 'zod';
import { composeInteractionRouter } from './compose';
import type { configSchema } from './config';
import { openEmbeddedRouterStores } from './store/embedded-router-stores';
import { openMongoRouterStores } from './store/router-stores';

export type InteractionRouterConfig = z.infer<typeof configSchema> & ServiceConfig;

/** Adapters a host shares between the services it runs in one process (the embedded default's bus). */
export interface SharedAdapters {
  bus?: EventBus;
}

/**
 * The process's adapters from its configuration (store, bus — or the host's shared one —, caller
 * and agent authentication, metrics endpoint), then the composition root over them; shutdown stops
 * the background work, then closes the adapters.
 */
export async function wireInteractionRouter(
  config: InteractionRouterConfig,
  logger: Logger,
  adapters: SharedAdapters = {},
): Promise<ServiceParts> {
  const stores =
    config.ROUTER_STORE === 'mongodb'
      ? await openMongoRouterStores(config.ROUTER_MONGODB_URL ?? '', config.ROUTER_MONGODB_DATABASE)
      : openEmbeddedRouterStores(config.ROUTER_EMBEDDED_PATH, config.ROUTER_BLOB_DIR);
  const metrics = await startMetrics({
    serviceName: 'interaction-router',
    port: config.ROUTER_METRICS_PORT,
    host: config.ROUTER_METRICS_HOST,
  });
  const brokers = config.ROUTER_KAFKA_BROKERS ?? [];
  const bus =
    adapters.bus ??
    (brokers.length
      ? new KafkaEventBus({
          brokers,
          clientId: 'interaction-router',
          logger,
          security: kafkaSecurityFromConfig(config),
          consumerLag: { meter: metrics.meter },
          partitionsConsumedConcurrently: config.ROUTER_KAFKA_PARTITIONS_CONCURRENCY,
          sessionTimeoutMs: config.ROUTER_KAFKA_SESSION_TIMEOUT_MS,
          heartbeatIntervalMs: config.ROUTER_KAFKA_HEARTBEAT_INTERVAL_MS,
        })
      : new InProcessEventBus({ logger }));
  logger.info({ port: metrics.port }, 'interaction-router: metrics at /metrics');
  const server = composeInteractionRouter(
    {
      stores,
      bus,
      logger,
      meter: metrics.meter,
      authenticator: createCallerAuthenticator({ apiKeys: config.ROUTER_API_KEYS ?? [] }),
      agentVerifier: createEntraTokenVerifier({
        directories: config.ROUTER_AGENT_DIRECTORIES ?? new Map(),
        audience: config.ROUTER_AGENT_AUDIENCE || 'unset-audience',
        authority: config.ROUTER_AGENT_AUTHORITY,
      }),
    },
    {
      replicaId: config.ROUTER_REPLICA_ID ?? randomUUID(),
      consumerGroupId: config.ROUTER_CONSUMER_GROUP,
      supervisorRole: config.ROUTER_SUPERVISOR_ROLE,
      defaultDeadlineMs: config.GRPC_DEFAULT_DEADLINE_MS,
      pollIntervalMs: config.ROUTER_POLL_INTERVAL_MS,
      sweepIntervalMs: config.ROUTER_SWEEP_INTERVAL_MS,
      alertSweepIntervalMs: config.ROUTER_ALERT_SWEEP_INTERVAL_MS,
      alertRetentionMs: config.ROUTER_ALERT_RETENTION_MS,
      sessionTtlMs: config.ROUTER_SESSION_TTL_MS,
      plannerLeaseMs: config.ROUTER_PLANNER_LEASE_MS,
      uploadTtlMs: config.ROUTER_UPLOAD_TTL_MS,
      uploadSweepIntervalMs: config.ROUTER_UPLOAD_SWEEP_INTERVAL_MS,
      metrics: {
        snapshotIntervalMs: config.ROUTER_METRICS_SNAPSHOT_MS,
        statisticsIntervalMs: config.ROUTER_METRICS_STATISTICS_MS,
      },
    },
  );
  return {
    server,
    // Consumers join after the server listens: desktops and the admin API need only the store.
    startAfterListen: () => server.start(),
    closeAfterServer: [
      { name: 'router background work and queue metrics', run: () => server.stop() },
      { name: 'event bus', run: () => bus.close() },
      { name: 'store', run: () => stores.close() },
      { name: 'metrics', run: () => metrics.shutdown() },
    ],
  };
}
