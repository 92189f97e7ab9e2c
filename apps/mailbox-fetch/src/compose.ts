import { createGraphMailClient, createMailboxLimiter, type GraphTokenProvider } from '@mailroute/graph-mail';
import { createAlertEventPublisher, type EventBus } from '@mailroute/messaging';
import {
  createCallerAuthenticator,
  createEntraTokenVerifier,
  type ApiKeyEntry,
  type EntraTokenVerifier,
  type GrpcServer,
  type Logger,
} from '@mailroute/platform';
import type { Meter } from '@opentelemetry/api';
import { createMailboxSyncAlertSweep, type MailboxSyncAlertOptions } from './alerts/mailbox-sync-alerts';
import { moveLegacyAttachmentContent } from './ingest/legacy-attachments';
import { createMailboxDiagnosis } from './diagnosis/mailbox-diagnosis';
import { createMailboxFetchCore, type MailboxFetchCore } from './mailbox-fetch';
import { createMailboxFetchMetrics } from './metrics/mailbox-fetch.metrics';
import { createServer } from './server';
import { createPushIntake, type PushIntake, type PushSettings } from './push/push-intake';
import type { MailboxFetchStores } from './store/mailbox-fetch.stores';
import type { SyncRuntimeOptions } from './sync/sync-runtime';

/** What mailbox-fetch runs on; the caller creates these and closes them after `stop()`. */
export interface MailboxFetchAdapters {
  /** MongoDB tables (shared by replicas) or the embedded store (one process). */
  stores: MailboxFetchStores;
  /** Kafka, or the in-process bus of an all-in-one host. */
  bus: EventBus;
  /** Graph tokens: auth-broker's AccessTokenService, or a host's own provider. */
  tokens: GraphTokenProvider;
  logger: Logger;
  /** Where the Prometheus instruments are registered; none = no metrics. */
  meter?: Meter | undefined;
  /** Supervisors' Entra ID tokens (the desktop app's); none = every token is refused, API keys only. */
  supervisorVerifier?: EntraTokenVerifier | undefined;
}

/** mailbox-fetch's own settings (already parsed and validated). */
export interface MailboxFetchSettings {
  /** Unique per process; shown as the lease owner. */
  replicaId: string;
  /** Workload-manager API keys of MailboxFetchService. */
  apiKeys: readonly ApiKeyEntry[];
  /** The desktop app's role that grants MailboxFetchService to a signed-in user (default `Supervisor`). */
  supervisorRole?: string;
  /** Concurrent Graph requests per mailbox (default 3) and per replica (default 64). */
  graphConcurrencyPerMailbox?: number;
  graphConcurrencyGlobal?: number;
  /** Messages per delta page (default 50). */
  deltaPageSize?: number;
  /** Leases, scans, scheduling and backoff; defaults in defaultSyncRuntimeOptions. */
  runtime?: Partial<SyncRuntimeOptions> & { maxPagesPerTurn?: number };
  /** Deadline of unary calls that arrive without one. */
  defaultDeadlineMs?: number;
  /** Graph change notifications (subscriptions, the notification endpoint); unset = polling only. */
  push?: PushSettings;
  /** The mailbox-stopped-syncing alert sweep (defaults in defaultMailboxSyncAlertSettings). */
  alerts?: Partial<MailboxSyncAlertSettings>;
}

/** How often the stopped-syncing alert sweep runs and when a mailbox counts as stopped. */
export interface MailboxSyncAlertSettings extends MailboxSyncAlertOptions {
  sweepIntervalMs: number;
}

/** The defaults of MailboxSyncAlertSettings: a sweep a minute; stopped after 15 minutes without a sync. */
const defaultMailboxSyncAlertSettings: MailboxSyncAlertSettings = {
  sweepIntervalMs: 60_000,
  stoppedAfterMs: 900_000,
  relayAfterMs: 30_000,
  retentionMs: 7 * 86_400_000,
};

/** The defaults of MailboxFetchSettings' Graph limits (documented there); the runtime's are in defaultSyncRuntimeOptions. */
const defaultMailboxFetchSettings = { graphConcurrencyPerMailbox: 3, graphConcurrencyGlobal: 64, deltaPageSize: 50 } as const;

export interface ComposedMailboxFetch {
  /** The gRPC server (MailboxFetchService, health, reflection), not yet listening. */
  server: GrpcServer;
  core: MailboxFetchCore;
  /** Subscriptions and the notification endpoint. */
  push: PushIntake;
  /** The mailbox-stopped-syncing alert sweep (runs every `alerts.sweepIntervalMs` once started). */
  syncAlerts: ReturnType<typeof createMailboxSyncAlertSweep>;
  /** Starts the background sync (lease scans, turns), the subscriptions and the notification endpoint. */
  start(): Promise<void>;
  /** Lets running turns finish and releases every lease; the adapters stay open. */
  stop(): Promise<void>;
}

/**
 * The composition root of mailbox-fetch: everything above the adapters (Graph client with its
 * limiter, the core and its sync runtime, diagnosis, metrics, the gRPC server). `main.ts` reaches
 * it through `wireMailboxFetch` (config → adapters); a host that runs every service in one process
 * calls it with its own adapters.
 */
export function composeMailboxFetch(adapters: MailboxFetchAdapters, settings: MailboxFetchSettings): ComposedMailboxFetch {
  const { logger } = adapters;
  const holder: { core?: MailboxFetchCore } = {};
  const alertSettings = { ...defaultMailboxSyncAlertSettings, ...settings.alerts };
  const syncAlerts = createMailboxSyncAlertSweep({
    stores: adapters.stores,
    clock: Date.now,
    publish: createAlertEventPublisher(adapters.bus),
    options: alertSettings,
  });
  const instruments = adapters.meter
    ? createMailboxFetchMetrics(adapters.meter, () => holder.core?.runtime, syncAlerts.figures)
    : undefined;
  let alertTimer: NodeJS.Timeout | undefined;
  const graph = createGraphMailClient({
    tokens: adapters.tokens,
    limiter: createMailboxLimiter({
      perMailbox: settings.graphConcurrencyPerMailbox ?? defaultMailboxFetchSettings.graphConcurrencyPerMailbox,
      global: settings.graphConcurrencyGlobal ?? defaultMailboxFetchSettings.graphConcurrencyGlobal,
    }),
    deltaPageSize: settings.deltaPageSize ?? defaultMailboxFetchSettings.deltaPageSize,
    logger,
    ...(instruments ? { onThrottled: instruments.onThrottled } : {}),
  });
  const core = createMailboxFetchCore({
    stores: adapters.stores,
    graph,
    bus: adapters.bus,
    logger,
    replicaId: settings.replicaId,
    options: settings.runtime ?? {},
    ...(instruments ? { onIngested: instruments.onIngested } : {}),
  });
  holder.core = core;
  const push = createPushIntake({
    stores: adapters.stores,
    graph,
    runtime: core.runtime,
    wakeUps: core.wakeUps,
    logger,
    clock: Date.now,
    settings: settings.push ?? {},
  });
  const server = createServer({
    logger,
    core,
    diagnosis: createMailboxDiagnosis({ core, graph }),
    authenticator: createCallerAuthenticator({ apiKeys: settings.apiKeys }),
    supervisorVerifier: adapters.supervisorVerifier ?? createEntraTokenVerifier({ directories: new Map(), audience: [] }),
    ...(settings.supervisorRole ? { supervisorRole: settings.supervisorRole } : {}),
    ...(settings.defaultDeadlineMs ? { defaultDeadlineMs: settings.defaultDeadlineMs } : {}),
  });
  return {
    server,
    core,
    push,
    syncAlerts,
    start: async () => {
      void moveLegacyAttachmentContent(adapters.stores, logger).catch((error: unknown) =>
        logger.error({ err: error }, 'mailbox-fetch: moving stored attachment content to the blob store failed'),
      );
      core.runtime.start();
      await core.wakeUps.start();
      await push.start();
      alertTimer = setInterval(
        () => void syncAlerts.sweep().catch((error: unknown) => logger.warn({ err: error }, 'mailbox-fetch: alert sweep failed')),
        alertSettings.sweepIntervalMs,
      );
      alertTimer.unref();
    },
    stop: async () => {
      clearInterval(alertTimer);
      // The runtime at once (it starts no turn and cuts the running ones short) while push and wake-ups close.
      await Promise.all([
        core.runtime.stop(),
        (async () => {
          await push.stop();
          await core.wakeUps.stop();
        })(),
      ]);
    },
  };
}
