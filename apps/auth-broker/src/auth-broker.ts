import { randomBytes } from 'node:crypto';
import type { Meter } from '@opentelemetry/api';
import type { AlertToPublish } from '@mailroute/messaging';
import type { AppCredentialsRecord } from '@mailroute/persistence';
import type { Logger, SecretBox } from '@mailroute/platform';
import { createCredentialExpiryAlertSweep } from './alerts/credential-expiry-alerts';
import { createCloudPolicy, type CloudPolicy } from './credentials/clouds';
import { createCredentialHealthRecorder, type CredentialHealthRecorder } from './credentials/credential-health';
import {
  createDelegatedTokenProvider,
  delegatedPartitionKey,
  type DelegatedTokenProvider,
} from './delegated/delegated-token.provider';
import { createDeviceCodeSignIns, type DeviceCodeSignIns } from './delegated/device-code-sign-in';
import { createAuthBrokerMetrics, type AuthBrokerMetrics } from './metrics/auth-broker.metrics';
import { tenantKey, type AuthBrokerStores } from './store/auth-broker.stores';
import { createAppTokenProvider, type AppTokenProvider, type AppTokenProviderOptions } from './tokens/app-token.provider';
import { defaultAuthBrokerOptions } from './auth-broker-defaults';

export interface AuthBrokerOptions extends AppTokenProviderOptions {
  /** How long GetAccessToken reuses a credentials record read from the store. Default 5 s. */
  credentialsCacheMs?: number;
  /** How often the credential gauges are recomputed and the credential-expiry alerts swept. Default 5 min. */
  metricsScanIntervalMs?: number;
  /** How often CompleteDelegatedSignIn re-reads a pending session while waiting. Default 200 ms. */
  signInWaitPollMs?: number;
}

export interface AuthBrokerCoreDeps {
  stores: AuthBrokerStores;
  secretBox: SecretBox;
  logger: Logger;
  /** Time source; tests move it to see expiry. Default: the system clock. */
  clock?: () => Date;
  /** Names this replica as a lease owner. Default: random. */
  replicaId?: string;
  /** Meter for the auth-broker's metrics; without one, nothing is measured. */
  meter?: Meter;
  /**
   * Origins (`https://host[:port]`) a CUSTOM cloud may use besides the national clouds' hosts: the
   * graph sandbox, a proxy (AUTH_BROKER_ALLOWED_CLOUD_ORIGINS). Default none.
   */
  allowedCloudOrigins?: readonly string[];
  /** Publishes the credential-expiry alerts (AlertEvents on mailroute.alert.v1); none = no alerts. */
  publishAlert?: (alert: AlertToPublish) => Promise<void>;
  options?: AuthBrokerOptions;
}

/** Everything the handlers share: stores, providers, health, metrics. Built once per process. */
export interface AuthBrokerCore {
  stores: AuthBrokerStores;
  secretBox: SecretBox;
  logger: Logger;
  clock: () => Date;
  health: CredentialHealthRecorder;
  appTokens: AppTokenProvider;
  delegatedTokens: DelegatedTokenProvider;
  signIns: DeviceCodeSignIns;
  metrics: AuthBrokerMetrics | undefined;
  /** The credential-expiry alert sweep (every scan interval), when alerts are published. */
  credentialAlerts: { sweep(): Promise<number> } | undefined;
  /** Which authority hosts and Graph endpoints credentials may use. */
  clouds: CloudPolicy;
  /** Credentials from the store, or from a short-lived cache when `cached` (the GetAccessToken path). */
  loadCredentials(tenantId: string, credentialsId: string, cached?: boolean): Promise<AppCredentialsRecord | undefined>;
  /** Drops cached tokens and clients of changed or deleted credentials (this replica; others follow by revision). */
  credentialsChanged(tenantId: string, credentialsId: string, dropTokens: boolean): Promise<void>;
  /** Drops a mailbox's delegated grant, its cached tokens and refresh token. */
  dropGrant(tenantId: string, mailboxAddress: string): Promise<boolean>;
  /** Stops background work: device-code polling, refreshes, metric scans. */
  close(): Promise<void>;
}

export function createAuthBrokerCore(deps: AuthBrokerCoreDeps): AuthBrokerCore {
  const clock = deps.clock ?? (() => new Date());
  const replicaId = deps.replicaId ?? `auth-broker-${randomBytes(6).toString('hex')}`;
  const credentialsCacheMs = deps.options?.credentialsCacheMs ?? defaultAuthBrokerOptions.credentialsCacheMs;
  const metrics = deps.meter
    ? createAuthBrokerMetrics({
        meter: deps.meter,
        stores: deps.stores,
        clock,
        logger: deps.logger,
        scanIntervalMs: deps.options?.metricsScanIntervalMs ?? defaultAuthBrokerOptions.metricsScanIntervalMs,
      })
    : undefined;
  const health = createCredentialHealthRecorder(deps.stores.health, () => metrics?.changed());
  const observer = metrics ?? {};
  const appTokens = createAppTokenProvider({
    stores: deps.stores,
    secretBox: deps.secretBox,
    health,
    clock,
    logger: deps.logger,
    replicaId,
    observer,
    ...(deps.options ? { options: deps.options } : {}),
  });
  const delegatedTokens = createDelegatedTokenProvider({
    stores: deps.stores,
    secretBox: deps.secretBox,
    clock,
    logger: deps.logger,
    replicaId,
    observer,
  });
  const signIns = createDeviceCodeSignIns({
    stores: deps.stores,
    secretBox: deps.secretBox,
    clock,
    logger: deps.logger,
    replicaId,
    onGrantStored: (tenantId, mailbox) => delegatedTokens.forget(tenantId, mailbox),
    ...(deps.options?.signInWaitPollMs ? { waitPollMs: deps.options.signInWaitPollMs } : {}),
  });
  const credentialAlerts = deps.publishAlert
    ? createCredentialExpiryAlertSweep({ stores: deps.stores, clock, publish: deps.publishAlert })
    : undefined;
  const sweepAlerts = () =>
    void credentialAlerts
      ?.sweep()
      .catch((error: unknown) => deps.logger.warn({ err: error }, 'auth-broker: credential alert sweep failed'));
  const alertTimer = credentialAlerts
    ? setInterval(sweepAlerts, deps.options?.metricsScanIntervalMs ?? defaultAuthBrokerOptions.metricsScanIntervalMs)
    : undefined;
  alertTimer?.unref();
  sweepAlerts();
  const recordCache = new Map<string, { record: AppCredentialsRecord; until: number }>();
  void metrics?.refresh();

  return {
    stores: deps.stores,
    secretBox: deps.secretBox,
    logger: deps.logger,
    clock,
    health,
    appTokens,
    delegatedTokens,
    signIns,
    metrics,
    credentialAlerts,
    clouds: createCloudPolicy(deps.allowedCloudOrigins),
    async loadCredentials(tenantId, credentialsId, cached = false) {
      const key = tenantKey(tenantId, credentialsId);
      const now = Date.now();
      const hit = cached ? recordCache.get(key) : undefined;
      if (hit && hit.until > now) return hit.record;
      const record = await deps.stores.credentials.get(tenantId, credentialsId);
      if (record) recordCache.set(key, { record, until: now + credentialsCacheMs });
      else recordCache.delete(key);
      return record;
    },
    async credentialsChanged(tenantId, credentialsId, dropTokens) {
      recordCache.delete(tenantKey(tenantId, credentialsId));
      if (dropTokens) {
        appTokens.forget(tenantId, credentialsId);
        await deps.stores.tokenCache.deletePrefix(`app/${tenantId}/${credentialsId}/`);
      }
      metrics?.changed();
    },
    async dropGrant(tenantId, mailboxAddress) {
      const deleted = await deps.stores.grants.delete(tenantKey(tenantId, mailboxAddress));
      await deps.stores.tokenCache.delete(delegatedPartitionKey(tenantId, mailboxAddress));
      delegatedTokens.forget(tenantId, mailboxAddress);
      return deleted;
    },
    async close() {
      clearInterval(alertTimer);
      metrics?.close();
      await signIns.close();
      await appTokens.close();
    },
  };
}
