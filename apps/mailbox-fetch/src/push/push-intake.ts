import type { GraphMailClient } from '@mailroute/graph-mail';
import type { Logger, SecretBox } from '@mailroute/platform';
import type { MailboxFetchStores } from '../store/mailbox-fetch.stores';
import type { MailboxWakeUps } from '../sync/mailbox-wake-ups';
import type { SyncRuntime } from '../sync/sync-runtime';
import { createNotificationEndpoint } from './notification-endpoint';
import { createNotificationIntake } from './notification-intake';
import { createSubscriptionManager, defaultPushOptions, type PushOptions } from './subscription-manager';
import { createWakeScheduler } from './wake-scheduler';

/** Push intake settings of mailbox-fetch (config → wiring). */
export interface PushSettings {
  options?: Partial<PushOptions>;
  /** Key ring sealing each subscription's clientState; required for push. */
  secrets?: SecretBox | undefined;
  /** The notification endpoint; unset = none in this process (polling only, unless another serves it). */
  endpoint?: { host: string; port: number; tls: { cert: string; key: string } } | undefined;
}

/**
 * Graph change notifications for mailbox-fetch: the subscription manager, the wake scheduler, and the
 * HTTPS notification endpoint with its intake. Without a public URL or key ring every mailbox polls and
 * says so in its sync status.
 */
export function createPushIntake(deps: {
  stores: MailboxFetchStores;
  graph: GraphMailClient;
  runtime: SyncRuntime;
  wakeUps: MailboxWakeUps;
  logger: Logger;
  clock: () => number;
  settings: PushSettings;
}) {
  const options = defaultPushOptions(deps.settings.options);
  const enabled = Boolean(options.publicUrl && deps.settings.secrets);
  const waker = createWakeScheduler({ ...deps, debounceMs: options.wakeDebounceMs });
  const secrets = deps.settings.secrets;
  // The intake asks the manager to recreate or reauthorize; the manager tells the intake what it created.
  const intake = secrets
    ? createNotificationIntake({
        ...deps,
        secrets,
        waker,
        manager: { recreate: (key) => manager.recreate(key), reauthorize: (key) => manager.reauthorize(key) },
      })
    : undefined;
  const manager = createSubscriptionManager({
    ...deps,
    waker,
    secrets,
    options,
    onCreated: (subscriptionId, key, clientState) => intake?.remember(subscriptionId, key, clientState),
  });
  const endpointSettings = deps.settings.endpoint;
  const endpoint =
    intake && endpointSettings
      ? createNotificationEndpoint({ ...endpointSettings, logger: deps.logger, onItems: intake.onItems })
      : undefined;
  let port: number | undefined;

  return {
    enabled,
    counters: intake?.counters,
    /** The endpoint's bound port (after start), when this process serves one. */
    port: () => port,
    async start(): Promise<void> {
      if (endpoint) port = await endpoint.listen();
      manager.start();
    },
    async stop(): Promise<void> {
      // The manager first: a subscription it is still creating needs the endpoint for Graph's validation request.
      await manager.stop();
      await endpoint?.close();
      waker.stop();
    },
  };
}

export type PushIntake = ReturnType<typeof createPushIntake>;
