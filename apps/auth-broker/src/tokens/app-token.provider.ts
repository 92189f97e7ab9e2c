import type { ConfidentialClientApplication } from '@azure/msal-node';
import { DiagnosticCode } from '@mailroute/contracts';
import type { AppCredentialsRecord } from '@mailroute/persistence';
import { FailedPreconditionError, isMailrouteError, type Logger, type SecretBox } from '@mailroute/platform';
import { appOnlyScope } from '../credentials/clouds';
import { expiryOf, type CredentialHealthRecorder } from '../credentials/credential-health';
import { findingFor } from '../diagnosis/findings';
import { classifyEntraFailure, toCallError } from '../entra/entra-failure';
import { createEntraNetwork, type EntraNetwork } from '../entra/entra-network';
import { createConfidentialClient } from '../entra/msal-clients';
import type { AuthBrokerStores } from '../store/auth-broker.stores';
import { acquireThroughSharedCache } from './shared-acquisition';
import { createSingleFlight } from './single-flight';
import {
  createStoreCachePlugin,
  createTokenCachePartition,
  findAccessToken,
  type CachedAccessToken,
  type TokenCachePartition,
} from './token-cache-plugin';
import { defaultAuthBrokerOptions } from '../auth-broker-defaults';

/** A Graph access token as handed to callers. */
export interface IssuedToken {
  accessToken: string;
  expiresOn: Date;
  /** When Entra ID issued it. */
  issuedAt: Date;
}

export interface TokenRequestOptions {
  /** The token must stay valid at least this long. */
  minValidityMs: number;
  /** Bypass cached tokens older than `forceRefreshReuseMs` (Graph answered 401 with one). */
  forceRefresh: boolean;
}

/** Counts what the provider does, for metrics and benchmarks. */
export interface TokenProviderObserver {
  /** A token request went to Entra ID (one per acquisition, whatever the outcome). */
  entraRequest?(tenantId: string, outcome: 'success' | 'failure'): void;
}

export interface AppTokenProviderOptions {
  /** How long one replica may hold the acquisition lease of a partition. Default 30 s. */
  leaseTtlMs?: number;
  /** How often a replica waiting for another's acquisition re-reads the shared cache. Default 50 ms. */
  waitPollMs?: number;
  /** Tokens with less left than this are refreshed in the background while still served. Default 10 min. */
  refreshAheadMs?: number;
  /** A rejection by Entra ID is remembered this long, so a storm of callers does not hammer it. Default 10 s. */
  rejectionMemoryMs?: number;
  /** A forced refresh returns a token issued within this window instead of acquiring another. Default 30 s. */
  forceRefreshReuseMs?: number;
}

export interface AppTokenProviderDeps {
  stores: Pick<AuthBrokerStores, 'tokenCache' | 'leases'>;
  secretBox: SecretBox;
  health: CredentialHealthRecorder;
  clock: () => Date;
  logger: Logger;
  /** Identifies this replica as a lease owner. */
  replicaId: string;
  observer?: TokenProviderObserver;
  options?: AppTokenProviderOptions;
}

/** App-only (client credentials) Graph tokens per tenant credentials, shared by every replica. */
export interface AppTokenProvider {
  getToken(record: AppCredentialsRecord, options: TokenRequestOptions): Promise<IssuedToken>;
  /** Drops the MSAL client and memo of credentials that changed or were deleted. */
  forget(tenantId: string, credentialsId: string): void;
  /** Waits for background refreshes to settle. */
  close(): Promise<void>;
}

interface ClientEntry {
  revision: string;
  client: ConfidentialClientApplication;
  network: EntraNetwork;
  partition: TokenCachePartition;
}

/** The token cache partition of a credentials revision. */
function appPartitionKey(record: Pick<AppCredentialsRecord, 'tenantId' | 'credentialsId' | 'revision'>): string {
  return `app/${record.tenantId}/${record.credentialsId}/${record.revision}`;
}

/**
 * App-only tokens with one MSAL ConfidentialClientApplication per credentials revision, whose
 * token cache lives in the shared store through MSAL's cache plugin.
 *
 * Per request: a token remembered in this process and valid long enough is returned at once;
 * otherwise concurrent callers of a partition share one flight, which reads the shared cache and,
 * when it holds no usable token, takes the partition's acquisition lease in the store so that
 * only one replica asks Entra ID — the others poll the shared cache until the token appears (or
 * the lease frees up). Tokens are refreshed in the background `refreshAheadMs` before they expire.
 */
export function createAppTokenProvider(deps: AppTokenProviderDeps): AppTokenProvider {
  const leaseTtlMs = deps.options?.leaseTtlMs ?? defaultAuthBrokerOptions.leaseTtlMs;
  const waitPollMs = deps.options?.waitPollMs ?? defaultAuthBrokerOptions.waitPollMs;
  const refreshAheadMs = deps.options?.refreshAheadMs ?? defaultAuthBrokerOptions.refreshAheadMs;
  const rejectionMemoryMs = deps.options?.rejectionMemoryMs ?? defaultAuthBrokerOptions.rejectionMemoryMs;
  const forceRefreshReuseMs = deps.options?.forceRefreshReuseMs ?? defaultAuthBrokerOptions.forceRefreshReuseMs;
  const clients = new Map<string, ClientEntry>();
  const memos = new Map<string, CachedAccessToken>();
  const rejections = new Map<string, { until: number; error: Error }>();
  const flights = createSingleFlight<CachedAccessToken>();
  const background = new Set<Promise<unknown>>();

  const credentialsKey = (record: Pick<AppCredentialsRecord, 'tenantId' | 'credentialsId'>) =>
    `${record.tenantId}/${record.credentialsId}`;

  function clientFor(record: AppCredentialsRecord): ClientEntry {
    const existing = clients.get(credentialsKey(record));
    if (existing?.revision === record.revision) return existing;
    const partition = createTokenCachePartition(deps.stores.tokenCache, deps.secretBox, appPartitionKey(record), deps.clock);
    const network = createEntraNetwork();
    const client = createConfidentialClient(record, deps.secretBox, network, createStoreCachePlugin(partition));
    const entry = { revision: record.revision, client, network, partition };
    clients.set(credentialsKey(record), entry);
    return entry;
  }

  const toIssued = (token: CachedAccessToken): IssuedToken => ({
    accessToken: token.secret,
    expiresOn: token.expiresOn,
    issuedAt: token.cachedAt,
  });

  function usable(
    token: CachedAccessToken | undefined,
    minValidityMs: number,
    force: boolean,
    now: Date,
  ): token is CachedAccessToken {
    if (!token) return false;
    if (force)
      return (
        now.getTime() - token.cachedAt.getTime() <= forceRefreshReuseMs &&
        token.expiresOn.getTime() - now.getTime() >= minValidityMs
      );
    return token.expiresOn.getTime() - now.getTime() >= minValidityMs;
  }

  async function acquireFromEntra(record: AppCredentialsRecord, entry: ClientEntry): Promise<CachedAccessToken> {
    const now = deps.clock();
    if (expiryOf(record).getTime() <= now.getTime()) {
      const code =
        record.credential.kind === 'client-secret'
          ? DiagnosticCode.DIAGNOSTIC_CODE_SECRET_EXPIRED
          : DiagnosticCode.DIAGNOSTIC_CODE_CERTIFICATE_EXPIRED;
      const finding = findingFor(code);
      throw new FailedPreconditionError(`tenant credentials "${record.credentialsId}": ${finding.message} ${finding.remedy}`, {
        reason: DiagnosticCode[code],
      });
    }
    entry.network.reset();
    try {
      const result = await entry.client.acquireTokenByClientCredential({ scopes: [appOnlyScope(record)], skipCache: true });
      if (!result?.expiresOn) throw new Error('MSAL returned no token');
      deps.observer?.entraRequest?.(record.tenantId, 'success');
      await deps.health.succeeded(record, now);
      return { secret: result.accessToken, expiresOn: result.expiresOn, cachedAt: now, homeAccountId: '' };
    } catch (error) {
      if (isMailrouteError(error)) throw error;
      deps.observer?.entraRequest?.(record.tenantId, 'failure');
      const failure = classifyEntraFailure(error, entry.network.lastProblem);
      const callError = toCallError(failure, `tenant credentials "${record.credentialsId}"`);
      deps.logger.warn(
        {
          tenantId: record.tenantId,
          credentialsId: record.credentialsId,
          code: DiagnosticCode[failure.finding.code],
          details: failure.finding.details,
          networkError: failure.networkError,
        },
        'auth-broker: Entra ID refused an app-only token',
      );
      if (!failure.transient) {
        await deps.health.rejected(record, failure.finding, now);
        rejections.set(appPartitionKey(record), { until: now.getTime() + rejectionMemoryMs, error: callError });
      }
      throw callError;
    }
  }

  async function acquire(record: AppCredentialsRecord, minValidityMs: number, force: boolean): Promise<CachedAccessToken> {
    const entry = clientFor(record);
    const scopes = [appOnlyScope(record)];
    return acquireThroughSharedCache(
      { leases: deps.stores.leases, clock: deps.clock, logger: deps.logger, replicaId: deps.replicaId, leaseTtlMs, waitPollMs },
      {
        partition: entry.partition,
        subject: `tenant credentials "${record.credentialsId}"`,
        find: (serialized) => {
          const token = findAccessToken(serialized, { clientId: record.clientId, scopes });
          return usable(token, minValidityMs, force, deps.clock()) ? token : undefined;
        },
        fromEntra: () => acquireFromEntra(record, entry),
      },
    );
  }

  function refreshInBackground(record: AppCredentialsRecord): void {
    const key = appPartitionKey(record);
    const refresh = flights
      .run(key, () => acquire(record, refreshAheadMs, false))
      .then((token) => memos.set(key, token))
      .catch((error: unknown) =>
        deps.logger.warn(
          { err: error, tenantId: record.tenantId, credentialsId: record.credentialsId },
          'auth-broker: background token refresh failed',
        ),
      );
    background.add(refresh);
    void refresh.finally(() => background.delete(refresh));
  }

  return {
    async getToken(record, options) {
      const key = appPartitionKey(record);
      const now = deps.clock();
      const memo = memos.get(key);
      if (usable(memo, options.minValidityMs, options.forceRefresh, now)) {
        if (memo.expiresOn.getTime() - now.getTime() < refreshAheadMs && !flights.has(key)) refreshInBackground(record);
        return toIssued(memo);
      }
      const rejection = rejections.get(key);
      if (rejection && rejection.until > now.getTime()) throw rejection.error;
      rejections.delete(key);
      let token = await flights.run(options.forceRefresh ? `${key}#force` : key, () =>
        acquire(record, options.minValidityMs, options.forceRefresh),
      );
      if (!usable(token, options.minValidityMs, options.forceRefresh, deps.clock())) {
        // Joined a flight started for a caller that needed less validity.
        token = await flights.run(`${key}#force`, () => acquire(record, options.minValidityMs, true));
      }
      const current = memos.get(key);
      if (!current || token.expiresOn > current.expiresOn) memos.set(key, token);
      return toIssued(token);
    },
    forget(tenantId, credentialsId) {
      clients.delete(`${tenantId}/${credentialsId}`);
      const prefix = `app/${tenantId}/${credentialsId}/`;
      for (const key of [...memos.keys(), ...rejections.keys()]) {
        if (key.startsWith(prefix)) {
          memos.delete(key);
          rejections.delete(key);
        }
      }
    },
    async close() {
      await Promise.allSettled([...background]);
    },
  };
}
