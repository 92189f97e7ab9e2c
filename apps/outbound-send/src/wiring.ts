import { hostname } from 'node:os';
import { EmbeddedDocumentTable, EmbeddedStore, MongoDocumentTable } from '@mailroute/persistence';
import { InProcessEventBus, KafkaEventBus, kafkaSecurityFromConfig, type EventBus } from '@mailroute/messaging';
import {
  createAuthBrokerTokenClient,
  grpcClientCredentials,
  createCallerAuthenticator,
  startMetrics,
  type Logger,
  type ServiceConfig,
  type ServiceParts,
} from '@mailroute/platform';
import type { z } from 'zod';
import type { configSchema } from './config';
import {
  createTableMailboxDirectory,
  mailboxConfigTableName,
  type MailboxConfigView,
  type MailboxDirectory,
} from './mailboxes/mailbox-directory';
import { createOutboundSendMetrics } from './metrics/outbound-send.metrics';
import { composeOutboundSend } from './compose';
import { openEmbeddedStores, openMongoStores, type OutboundSendStores } from './store/outbound-send.stores';

export type OutboundSendConfig = z.infer<typeof configSchema> & ServiceConfig;

/** Adapters a host shares between the services it runs in one process (the embedded default's bus). */
export interface SharedAdapters {
  bus?: EventBus;
}

/**
 * The process's adapters from its configuration (metrics endpoint, store, bus — or the host's shared one —,
 * auth-broker tokens, mailbox directory, caller authentication), then the composition root over them
 * (`compose.ts`); shutdown stops the consumers, then closes the adapters.
 */
export async function wireOutboundSend(
  config: OutboundSendConfig,
  logger: Logger,
  adapters: SharedAdapters = {},
): Promise<ServiceParts> {
  const metrics = await startMetrics({
    serviceName: 'outbound-send',
    port: config.OUTBOUND_SEND_METRICS_PORT,
    host: config.OUTBOUND_SEND_METRICS_HOST,
  });
  let stores: OutboundSendStores;
  let mailboxes: MailboxDirectory;
  const closeExtra: (() => void)[] = [];
  if (config.OUTBOUND_SEND_STORE === 'mongodb') {
    const opened = await openMongoStores({
      url: config.OUTBOUND_SEND_MONGODB_URL ?? '',
      database: config.OUTBOUND_SEND_MONGODB_DATABASE,
      logger,
    });
    stores = opened;
    mailboxes = createTableMailboxDirectory(new MongoDocumentTable<MailboxConfigView>(opened.store, mailboxConfigTableName));
  } else {
    stores = openEmbeddedStores({ path: config.OUTBOUND_SEND_EMBEDDED_PATH, blobDirectory: config.OUTBOUND_SEND_BLOB_DIR });
    const mailboxStore = new EmbeddedStore({ path: config.OUTBOUND_SEND_MAILBOX_FETCH_EMBEDDED_PATH });
    closeExtra.push(() => mailboxStore.close());
    mailboxes = createTableMailboxDirectory(new EmbeddedDocumentTable<MailboxConfigView>(mailboxStore, mailboxConfigTableName));
  }
  // Consumers only record and queue requests (sending happens off the consumer), so the default session suits.
  const bus: EventBus =
    adapters.bus ??
    (config.OUTBOUND_SEND_KAFKA_BROKERS
      ? new KafkaEventBus({
          brokers: config.OUTBOUND_SEND_KAFKA_BROKERS,
          clientId: 'outbound-send',
          logger,
          security: kafkaSecurityFromConfig(config),
          consumerLag: { meter: metrics.meter },
          sessionTimeoutMs: config.OUTBOUND_SEND_KAFKA_SESSION_TIMEOUT_MS,
          partitionsConsumedConcurrently: 4,
        })
      : new InProcessEventBus());
  const tokens = createAuthBrokerTokenClient({
    address: config.OUTBOUND_SEND_AUTH_BROKER_ADDRESS,
    serviceToken: config.OUTBOUND_SEND_AUTH_BROKER_TOKEN,
    credentials: grpcClientCredentials(config),
  });
  const instruments = createOutboundSendMetrics(metrics.meter);
  const composed = composeOutboundSend(
    {
      stores,
      bus,
      tokens,
      mailboxes,
      logger,
      events: instruments,
      onThrottled: instruments.onThrottled,
      authenticator: createCallerAuthenticator({ apiKeys: config.OUTBOUND_SEND_API_KEYS ?? [] }),
    },
    {
      replicaId: config.OUTBOUND_SEND_REPLICA_ID ?? `${hostname()}-${process.pid}`,
      defaultDeadlineMs: config.GRPC_DEFAULT_DEADLINE_MS,
      options: {
        groupId: config.OUTBOUND_SEND_CONSUMER_GROUP,
        fromBeginning: config.OUTBOUND_SEND_CONSUMER_FROM_BEGINNING,
        graphConcurrencyPerMailbox: config.OUTBOUND_SEND_GRAPH_CONCURRENCY_PER_MAILBOX,
        graphConcurrencyGlobal: config.OUTBOUND_SEND_GRAPH_CONCURRENCY_GLOBAL,
        graphRequestTimeoutMs: config.OUTBOUND_SEND_GRAPH_TIMEOUT_MS,
        sendRatePerWindow: config.OUTBOUND_SEND_RATE_PER_WINDOW,
        sendRateWindowMs: config.OUTBOUND_SEND_RATE_WINDOW_MS,
        inlineAttachmentMaxBytes: config.OUTBOUND_SEND_INLINE_ATTACHMENT_MAX_BYTES,
        replicaDeadAfterMs: config.OUTBOUND_SEND_REPLICA_DEAD_AFTER_MS,
        uploadTtlMs: config.OUTBOUND_SEND_UPLOAD_TTL_MS,
        uploadSweepIntervalMs: config.OUTBOUND_SEND_UPLOAD_SWEEP_INTERVAL_MS,
        engine: {
          retryBudgetMs: config.OUTBOUND_SEND_RETRY_BUDGET_MS,
          outcomeCheckBudgetMs: config.OUTBOUND_SEND_OUTCOME_CHECK_BUDGET_MS,
          rateMaxWaitMs: config.OUTBOUND_SEND_RATE_MAX_WAIT_MS,
          backoffBaseMs: config.OUTBOUND_SEND_BACKOFF_BASE_MS,
          attemptStaleMs: config.OUTBOUND_SEND_ATTEMPT_STALE_MS,
          pauseAfterSendMs: config.OUTBOUND_SEND_TEST_PAUSE_AFTER_SEND_MS,
        },
      },
    },
  );
  return {
    server: composed.server,
    // Consumers join after the server listens: the send API needs only the store.
    startAfterListen: () => composed.start(),
    closeAfterServer: [
      { name: 'consumers', run: () => composed.stop() },
      { name: 'event bus', run: () => bus.close() },
      { name: 'auth-broker client', run: async () => tokens.close() },
      {
        name: 'store',
        run: async () => {
          await stores.close();
          for (const close of closeExtra) close();
        },
      },
      { name: 'metrics', run: () => metrics.shutdown() },
    ],
  };
}
