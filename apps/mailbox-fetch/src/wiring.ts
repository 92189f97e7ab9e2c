import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { InProcessEventBus, KafkaEventBus, kafkaSecurityFromConfig, type EventBus } from '@mailroute/messaging';
import {
  createAuthBrokerTokenClient,
  createEntraTokenVerifier,
  createSecretBox,
  grpcClientCredentials,
  startMetrics,
  type Logger,
  type ServiceConfig,
  type ServiceParts,
} from '@mailroute/platform';
import type { z } from 'zod';
import { composeMailboxFetch } from './compose';
import type { configSchema } from './config';
import { openEmbeddedStores, openMongoStores } from './store/mailbox-fetch.stores';

export type MailboxFetchConfig = z.infer<typeof configSchema> & ServiceConfig;

/** Adapters a host shares between the services it runs in one process (the embedded default's bus). */
export interface SharedAdapters {
  bus?: EventBus;
}

/**
 * The process's adapters from its configuration (metrics endpoint, store, bus — or the host's
 * shared one —, auth-broker token client), then the composition root over them; shutdown stops the
 * sync, then closes the adapters.
 */
export async function wireMailboxFetch(
  config: MailboxFetchConfig,
  logger: Logger,
  adapters: SharedAdapters = {},
): Promise<ServiceParts> {
  const metrics = await startMetrics({
    serviceName: 'mailbox-fetch',
    port: config.MAILBOX_FETCH_METRICS_PORT,
    host: config.MAILBOX_FETCH_METRICS_HOST,
  });
  const stores =
    config.MAILBOX_FETCH_STORE === 'mongodb'
      ? await openMongoStores({
          url: config.MAILBOX_FETCH_MONGODB_URL ?? '',
          database: config.MAILBOX_FETCH_MONGODB_DATABASE,
          logger,
        })
      : openEmbeddedStores({ path: config.MAILBOX_FETCH_EMBEDDED_PATH, blobDirectory: config.MAILBOX_FETCH_BLOB_DIR });
  const bus: EventBus =
    adapters.bus ??
    (config.MAILBOX_FETCH_KAFKA_BROKERS
      ? new KafkaEventBus({
          brokers: config.MAILBOX_FETCH_KAFKA_BROKERS,
          clientId: 'mailbox-fetch',
          logger,
          security: kafkaSecurityFromConfig(config),
          consumerLag: { meter: metrics.meter },
        })
      : new InProcessEventBus());
  const tokens = createAuthBrokerTokenClient({
    address: config.MAILBOX_FETCH_AUTH_BROKER_ADDRESS,
    serviceToken: config.MAILBOX_FETCH_AUTH_BROKER_TOKEN,
    credentials: grpcClientCredentials(config),
  });
  const replicaId = config.MAILBOX_FETCH_REPLICA_ID ?? `${hostname()}-${process.pid}`;
  const clientStateKeys = config.MAILBOX_FETCH_PUSH_CLIENT_STATE_KEYS;
  const pushTls =
    config.MAILBOX_FETCH_PUSH_TLS_CERT_FILE && config.MAILBOX_FETCH_PUSH_TLS_KEY_FILE
      ? {
          cert: readFileSync(config.MAILBOX_FETCH_PUSH_TLS_CERT_FILE, 'utf8'),
          key: readFileSync(config.MAILBOX_FETCH_PUSH_TLS_KEY_FILE, 'utf8'),
        }
      : undefined;
  const service = composeMailboxFetch(
    {
      stores,
      bus,
      tokens,
      logger,
      meter: metrics.meter,
      supervisorVerifier: createEntraTokenVerifier({
        directories: config.MAILBOX_FETCH_SUPERVISOR_DIRECTORIES ?? new Map(),
        audience: config.MAILBOX_FETCH_SUPERVISOR_AUDIENCE ? [config.MAILBOX_FETCH_SUPERVISOR_AUDIENCE] : [],
        authority: config.MAILBOX_FETCH_SUPERVISOR_AUTHORITY,
      }),
    },
    {
      replicaId,
      apiKeys: config.MAILBOX_FETCH_API_KEYS ?? [],
      supervisorRole: config.MAILBOX_FETCH_SUPERVISOR_ROLE,
      graphConcurrencyPerMailbox: config.MAILBOX_FETCH_GRAPH_CONCURRENCY_PER_MAILBOX,
      graphConcurrencyGlobal: config.MAILBOX_FETCH_GRAPH_CONCURRENCY_GLOBAL,
      deltaPageSize: config.MAILBOX_FETCH_DELTA_PAGE_SIZE,
      runtime: {
        leaseTtlMs: config.MAILBOX_FETCH_LEASE_TTL_MS,
        ...(config.MAILBOX_FETCH_LIVENESS_TTL_MS ? { livenessTtlMs: config.MAILBOX_FETCH_LIVENESS_TTL_MS } : {}),
        scanIntervalMs: config.MAILBOX_FETCH_SCAN_INTERVAL_MS,
        maxConcurrentTurns: config.MAILBOX_FETCH_MAX_CONCURRENT_SYNCS,
        maxMailboxes: config.MAILBOX_FETCH_MAX_MAILBOXES,
        pollIntervalCapMs: config.MAILBOX_FETCH_POLL_INTERVAL_CAP_MS,
        errorBackoffMaxMs: config.MAILBOX_FETCH_ERROR_BACKOFF_MAX_MS,
        safetyNetPollIntervalMs: config.MAILBOX_FETCH_SAFETY_NET_POLL_MS,
      },
      alerts: {
        stoppedAfterMs: config.MAILBOX_FETCH_SYNC_STOPPED_ALERT_AFTER_MS,
        sweepIntervalMs: config.MAILBOX_FETCH_ALERT_SWEEP_INTERVAL_MS,
      },
      push: {
        options: { publicUrl: config.MAILBOX_FETCH_PUSH_PUBLIC_URL },
        secrets: clientStateKeys?.[0]
          ? createSecretBox({ keys: clientStateKeys, activeKeyId: clientStateKeys[0].id })
          : undefined,
        endpoint: pushTls
          ? { host: config.MAILBOX_FETCH_PUSH_HOST, port: config.MAILBOX_FETCH_PUSH_PORT, tls: pushTls }
          : undefined,
      },
      defaultDeadlineMs: config.GRPC_DEFAULT_DEADLINE_MS,
    },
  );
  await service.start();
  logger.info(
    {
      replicaId,
      store: config.MAILBOX_FETCH_STORE,
      bus: adapters.bus ? 'shared' : config.MAILBOX_FETCH_KAFKA_BROKERS ? 'kafka' : 'in-process',
    },
    'mailbox-fetch: sync started',
  );
  return {
    server: service.server,
    // It only publishes, on new mail: connecting now stops it at once if Kafka refuses its TLS/SASL settings.
    ...(bus instanceof KafkaEventBus ? { startAfterListen: () => bus.connect() } : {}),
    closeAfterServer: [
      { name: 'sync runtime', run: () => service.stop() },
      { name: 'event bus', run: () => bus.close() },
      { name: 'auth-broker client', run: async () => tokens.close() },
      { name: 'store', run: () => stores.close() },
      { name: 'metrics', run: () => metrics.shutdown() },
    ],
  };
}
