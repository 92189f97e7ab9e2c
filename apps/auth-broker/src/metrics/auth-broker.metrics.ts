import type { Meter } from '@opentelemetry/api';
import { CredentialState } from '@mailroute/contracts';
import type { Logger } from '@mailroute/platform';
import { credentialStateOf, daysUntil, expiryOf, expiryWarningDays } from '../credentials/credential-health';
import { tenantKey, type AuthBrokerStores } from '../store/auth-broker.stores';
import type { TokenProviderObserver } from '../tokens/app-token.provider';
import { defaultAuthBrokerOptions } from '../auth-broker-defaults';

interface CredentialSnapshot {
  tenant: string;
  credentialsId: string;
  kind: string;
  days: number;
  state: CredentialState;
}

export interface AuthBrokerMetricsDeps {
  meter: Meter;
  stores: Pick<AuthBrokerStores, 'credentials' | 'health'>;
  clock: () => Date;
  logger: Logger;
  /** How often the credential gauges are recomputed from the store. Default 5 min. */
  scanIntervalMs?: number;
}

/** The auth-broker's metrics; also the token providers' observer. */
export interface AuthBrokerMetrics extends TokenProviderObserver {
  /** Recomputes the credential gauges now (also runs every scan interval and after changes). */
  refresh(): Promise<void>;
  /** Schedules a refresh soon (coalesced). */
  changed(): void;
  /** A GetAccessToken call ended: `ok`, or the error code (lower case) it failed with. */
  tokenServed(tenantId: string, principal: 'app_only' | 'delegated', outcome: string): void;
  close(): void;
}

/**
 * Per-credentials health as Prometheus gauges, so an expiring secret pages someone 30 days ahead:
 * - `mailroute_auth_credential_days_until_expiry{tenant,credentials_id,kind}` (negative once expired)
 * - `mailroute_auth_credential_expiry_warning{…}` 1 from 30 days before expiry
 * - `mailroute_auth_credential_state{…,state}` 1 for the current state
 * `mailroute_auth_entra_token_requests_total{tenant,outcome}`, the requests sent to Entra ID, and
 * `mailroute_auth_token_requests_total{tenant,principal,outcome}`, the GetAccessToken calls served
 * (outcome `ok` or the error code): served minus Entra requests = answered from the token caches.
 */
export function createAuthBrokerMetrics(deps: AuthBrokerMetricsDeps): AuthBrokerMetrics {
  let snapshot: CredentialSnapshot[] = [];
  const days = deps.meter.createObservableGauge('mailroute_auth_credential_days_until_expiry', {
    description: 'Whole days until the client secret or certificate expires; negative once expired.',
  });
  const warning = deps.meter.createObservableGauge('mailroute_auth_credential_expiry_warning', {
    description: `1 when the client secret or certificate expires within ${expiryWarningDays} days or has expired.`,
  });
  const state = deps.meter.createObservableGauge('mailroute_auth_credential_state', {
    description: 'Credentials health: 1 for the current state (unverified, valid, expiring_soon, expired, rejected).',
  });
  const entraRequests = deps.meter.createCounter('mailroute_auth_entra_token_requests', {
    description: 'Token requests sent to Entra ID.',
  });
  const served = deps.meter.createCounter('mailroute_auth_token_requests_total', {
    description: 'GetAccessToken calls by principal kind and outcome (ok, or the error code).',
  });
  deps.meter.addBatchObservableCallback(
    (result) => {
      for (const item of snapshot) {
        const labels = { tenant: item.tenant, credentials_id: item.credentialsId, kind: item.kind };
        result.observe(days, item.days, labels);
        result.observe(warning, item.days < expiryWarningDays ? 1 : 0, labels);
        result.observe(state, 1, {
          ...labels,
          state: CredentialState[item.state].replace('CREDENTIAL_STATE_', '').toLowerCase(),
        });
      }
    },
    [days, warning, state],
  );

  let running: Promise<void> | undefined;
  let pending: NodeJS.Timeout | undefined;
  async function scan(): Promise<void> {
    const next: CredentialSnapshot[] = [];
    const now = deps.clock();
    let pageToken: string | undefined;
    do {
      const page = await deps.stores.credentials.listAll({ pageSize: 500, ...(pageToken ? { pageToken } : {}) });
      for (const record of page.items) {
        const health = await deps.stores.health.get(tenantKey(record.tenantId, record.credentialsId));
        next.push({
          tenant: record.tenantId,
          credentialsId: record.credentialsId,
          kind: record.credential.kind,
          days: daysUntil(expiryOf(record), now),
          state: credentialStateOf(record, health, now),
        });
      }
      pageToken = page.nextPageToken;
    } while (pageToken);
    snapshot = next;
  }
  const refresh = (): Promise<void> => {
    running ??= scan()
      .catch((error: unknown) => deps.logger.warn({ err: error }, 'auth-broker: credential metrics scan failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const interval = setInterval(() => void refresh(), deps.scanIntervalMs ?? defaultAuthBrokerOptions.metricsScanIntervalMs);
  interval.unref();

  return {
    refresh,
    changed() {
      if (pending) return;
      pending = setTimeout(() => {
        pending = undefined;
        void refresh();
      }, 200);
      pending.unref();
    },
    entraRequest(tenantId, outcome) {
      entraRequests.add(1, { tenant: tenantId, outcome });
    },
    tokenServed(tenantId, principal, outcome) {
      served.add(1, { tenant: tenantId, principal, outcome });
    },
    close() {
      clearInterval(interval);
      if (pending) clearTimeout(pending);
    },
  };
}
