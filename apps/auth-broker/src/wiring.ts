import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KafkaEventBus, kafkaSecurityFromConfig, type EventBus } from '@mailroute/messaging';
import {
  createCallerAuthenticator,
  createEntraTokenVerifier,
  createSecretBox,
  ensurePrivateFile,
  startMetrics,
  writePrivateFile,
  type Logger,
  type ServiceParts,
} from '@mailroute/platform';
import { composeAuthBroker } from './compose';
import type { AuthBrokerConfig } from './config';
import { openEmbeddedStores, openMongoStores } from './store/auth-broker.stores';

/** Adapters a host shares between the services it runs in one process (the embedded default's bus). */
export interface SharedAdapters {
  bus?: EventBus;
}

/**
 * The process's adapters from its configuration (stores — MongoDB or embedded —, the secret key ring,
 * caller authentication, metrics endpoint, the Kafka producer of the credential-expiry alerts when
 * AUTH_BROKER_KAFKA_BROKERS is set, or the host's shared bus), then the composition root over them
 * (`compose.ts`); shutdown stops the background work, then closes the adapters.
 */
export async function wireAuthBroker(
  config: AuthBrokerConfig,
  logger: Logger,
  shared: SharedAdapters = {},
): Promise<ServiceParts> {
  const stores =
    config.AUTH_BROKER_STORE === 'mongodb'
      ? await openMongoStores({
          url: config.AUTH_BROKER_MONGODB_URL ?? '',
          database: config.AUTH_BROKER_MONGODB_DATABASE,
          logger,
        })
      : openEmbeddedStores(config.AUTH_BROKER_EMBEDDED_PATH);
  const keys = config.AUTH_BROKER_ENCRYPTION_KEYS?.length
    ? config.AUTH_BROKER_ENCRYPTION_KEYS
    : [developmentKey(config.AUTH_BROKER_EMBEDDED_PATH, logger)];
  const secretBox = createSecretBox({ keys, activeKeyId: config.AUTH_BROKER_ENCRYPTION_ACTIVE_KEY ?? keys[0]?.id ?? '' });
  const metrics = await startMetrics({
    serviceName: 'auth-broker',
    port: config.AUTH_BROKER_METRICS_PORT,
    host: config.AUTH_BROKER_METRICS_HOST,
  });
  logger.info({ port: metrics.port }, 'auth-broker: metrics at /metrics');
  const authenticator = createCallerAuthenticator({
    apiKeys: config.AUTH_BROKER_API_KEYS ?? [],
    serviceTokens: config.AUTH_BROKER_SERVICE_TOKENS ?? [],
    trustLoopbackAsService: config.AUTH_BROKER_TRUST_LOOPBACK_SERVICES,
  });
  if (!config.AUTH_BROKER_SERVICE_TOKENS?.length && !config.AUTH_BROKER_TRUST_LOOPBACK_SERVICES) {
    logger.warn('auth-broker: no AUTH_BROKER_SERVICE_TOKENS configured: every GetAccessToken call will be refused');
  }
  const ownBus = config.AUTH_BROKER_KAFKA_BROKERS
    ? new KafkaEventBus({
        brokers: config.AUTH_BROKER_KAFKA_BROKERS,
        clientId: 'auth-broker',
        logger,
        security: kafkaSecurityFromConfig(config),
      })
    : undefined;
  const bus = shared.bus ?? ownBus;
  if (!bus)
    logger.info(
      'auth-broker: no AUTH_BROKER_KAFKA_BROKERS: credential-expiry alert events are off (the metrics still show expiry)',
    );
  const broker = composeAuthBroker(
    {
      stores,
      secretBox,
      logger,
      authenticator,
      meter: metrics.meter,
      bus,
      supervisorVerifier: createEntraTokenVerifier({
        directories: config.AUTH_BROKER_SUPERVISOR_DIRECTORIES ?? new Map(),
        audience: config.AUTH_BROKER_SUPERVISOR_AUDIENCE ? [config.AUTH_BROKER_SUPERVISOR_AUDIENCE] : [],
        authority: config.AUTH_BROKER_SUPERVISOR_AUTHORITY,
      }),
    },
    {
      supervisorRole: config.AUTH_BROKER_SUPERVISOR_ROLE,
      allowedCloudOrigins: config.AUTH_BROKER_ALLOWED_CLOUD_ORIGINS ?? [],
      options: {
        refreshAheadMs: config.AUTH_BROKER_REFRESH_AHEAD_SECONDS * 1000,
        leaseTtlMs: config.AUTH_BROKER_ACQUISITION_LEASE_MS,
        metricsScanIntervalMs: config.AUTH_BROKER_HEALTH_SCAN_SECONDS * 1000,
      },
      defaultDeadlineMs: config.GRPC_DEFAULT_DEADLINE_MS,
    },
  );
  return {
    server: broker.server,
    closeAfterServer: [
      { name: 'auth-broker background work', run: () => broker.stop() },
      ...(ownBus ? [{ name: 'event bus', run: () => ownBus.close() }] : []),
      { name: 'store', run: () => stores.close() },
      { name: 'metrics', run: () => metrics.shutdown() },
    ],
  };
}

/**
 * The embedded default's key when none is configured: 32 random bytes in a file next to the
 * database (mode 0600), so `npm start` works on a fresh machine. Never used with MongoDB.
 */
function developmentKey(databasePath: string, logger: Logger): { id: string; key: Buffer } {
  const file = path.join(path.dirname(path.resolve(databasePath)), 'dev-encryption.key');
  if (!existsSync(file)) writePrivateFile(file, randomBytes(32).toString('base64'));
  else ensurePrivateFile(file);
  logger.warn(
    { file },
    'auth-broker: using a local development encryption key; set AUTH_BROKER_ENCRYPTION_KEYS for any real deployment',
  );
  return { id: 'dev-local', key: Buffer.from(readFileSync(file, 'utf8').trim(), 'base64') };
}
