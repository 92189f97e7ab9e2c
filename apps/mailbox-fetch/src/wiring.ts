import { hostname } from 'node:os';
import { createGraphMailClient, createMailboxLimiter } from '@mailroute/graph-mail';
import { InProcessEventBus, KafkaEventBus, type EventBus } from '@mailroute/messaging';
import { createCallerAuthenticator, startMetrics, type Logger, type ServiceConfig, type ServiceParts } from '@mailroute/platform';
import type { z } from 'zod';
import type { configSchema } from './config';
import { createMailboxDiagnosis } from './diagnosis/mailbox-diagnosis';
import { createMailboxFetchCore, type MailboxFetchCore } from './mailbox-fetch';
import { createMailboxFetchMetrics } from './metrics/mailbox-fetch.metrics';
import { createServer } from './server';
import { openEmbeddedStores, openMongoStores } from './store/mailbox-fetch.stores';
import { createAuthBrokerTokenProvider } from './tokens/auth-broker-token.provider';

export type MailboxFetchConfig = z.infer<typeof configSchema> & ServiceConfig;

/** config → metrics → stores, bus, Graph client → core (sync runtime) → gRPC server. */
export async function wireMailboxFetch(config: MailboxFetchConfig, logger: Logger): Promise<ServiceParts> {
  const metrics = await startMetrics({ serviceName: 'mailbox-fetch', port: config.MAILBOX_FETCH_METRICS_PORT, host: config.MAILBOX_FETCH_METRICS_HOST });
  const holder: { core?: MailboxFetchCore } = {};
  const instruments = createMailboxFetchMetrics(metrics.meter, () => holder.core?.runtime);
  const stores =
    config.MAILBOX_FETCH_STORE === 'mongodb'
      ? await openMongoStores({ url: config.MAILBOX_FETCH_MONGODB_URL ?? '', database: config.MAILBOX_FETCH_MONGODB_DATABASE, logger })
      : openEmbeddedStores({ path: config.MAILBOX_FETCH_EMBEDDED_PATH });
  const bus: EventBus = config.MAILBOX_FETCH_KAFKA_BROKERS
    ? new KafkaEventBus({ brokers: config.MAILBOX_FETCH_KAFKA_BROKERS.split(','), clientId: 'mailbox-fetch', logger })
    : new InProcessEventBus();
  const tokens = createAuthBrokerTokenProvider({ address: config.MAILBOX_FETCH_AUTH_BROKER_ADDRESS, serviceToken: config.MAILBOX_FETCH_AUTH_BROKER_TOKEN });
  const graph = createGraphMailClient({
    tokens,
    limiter: createMailboxLimiter({ perMailbox: config.MAILBOX_FETCH_GRAPH_CONCURRENCY_PER_MAILBOX, global: config.MAILBOX_FETCH_GRAPH_CONCURRENCY_GLOBAL }),
    deltaPageSize: config.MAILBOX_FETCH_DELTA_PAGE_SIZE,
    logger,
  });
  const started = createMailboxFetchCore({
    stores,
    graph,
    bus,
    logger,
    replicaId: config.MAILBOX_FETCH_REPLICA_ID ?? `${hostname()}-${process.pid}`,
    options: {
      leaseTtlMs: config.MAILBOX_FETCH_LEASE_TTL_MS,
      scanIntervalMs: config.MAILBOX_FETCH_SCAN_INTERVAL_MS,
      maxConcurrentTurns: config.MAILBOX_FETCH_MAX_CONCURRENT_SYNCS,
      maxMailboxes: config.MAILBOX_FETCH_MAX_MAILBOXES,
      pollIntervalCapMs: config.MAILBOX_FETCH_POLL_INTERVAL_CAP_MS,
    },
    onIngested: instruments.onIngested,
  });
  holder.core = started;
  started.runtime.start();
  const authenticator = createCallerAuthenticator({ apiKeys: config.MAILBOX_FETCH_API_KEYS ?? [] });
  return {
    server: createServer({ logger, core: started, diagnosis: createMailboxDiagnosis({ core: started, graph }), authenticator, defaultDeadlineMs: config.GRPC_DEFAULT_DEADLINE_MS }),
    closeAfterServer: [
      { name: 'sync runtime', run: () => started.runtime.stop() },
      { name: 'event bus', run: () => bus.close() },
      { name: 'auth-broker client', run: async () => tokens.close() },
      { name: 'store', run: () => stores.close() },
      { name: 'metrics', run: () => metrics.shutdown() },
    ],
  };
}
