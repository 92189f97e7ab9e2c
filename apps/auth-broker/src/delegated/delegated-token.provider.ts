import type { PublicClientApplication } from '@azure/msal-node';
import { DelegatedGrantState, DiagnosticCode } from '@mailroute/contracts';
import type { AppCredentialsRecord } from '@mailroute/persistence';
import { FailedPreconditionError, isMailrouteError, type Logger, type SecretBox } from '@mailroute/platform';
import { findingFor } from '../diagnosis/findings';
import { classifyEntraFailure, toCallError } from '../entra/entra-failure';
import { scopesOfGrant } from './delegated-scopes';
import { createEntraNetwork, type EntraNetwork } from '../entra/entra-network';
import { createPublicClient } from '../entra/msal-clients';
import { tenantKey, type AuthBrokerStores, type DelegatedGrantDocument } from '../store/auth-broker.stores';
import type { IssuedToken, TokenProviderObserver, TokenRequestOptions } from '../tokens/app-token.provider';
import { acquireThroughSharedCache } from '../tokens/shared-acquisition';
import { createSingleFlight } from '../tokens/single-flight';
import {
  createStoreCachePlugin,
  createTokenCachePartition,
  findAccessToken,
  type CachedAccessToken,
  type TokenCachePartition,
} from '../tokens/token-cache-plugin';
import { defaultAuthBrokerOptions } from '../auth-broker-defaults';

/** The token cache partition of a mailbox's delegated grant (holds its refresh token, sealed). */
export function delegatedPartitionKey(tenantId: string, mailboxAddress: string): string {
  return `delegated/${tenantId}/${mailboxAddress}`;
}

export interface DelegatedTokenProviderDeps {
  stores: Pick<AuthBrokerStores, 'tokenCache' | 'leases' | 'grants'>;
  secretBox: SecretBox;
  clock: () => Date;
  logger: Logger;
  replicaId: string;
  observer?: TokenProviderObserver;
  options?: { leaseTtlMs?: number; waitPollMs?: number; forceRefreshReuseMs?: number };
}

/** Delegated Graph tokens for mailboxes with a stored grant. */
export interface DelegatedTokenProvider {
  getToken(grant: DelegatedGrantDocument, record: AppCredentialsRecord, options: TokenRequestOptions): Promise<IssuedToken>;
  /** Drops the MSAL client and memo of a mailbox (grant deleted or replaced). */
  forget(tenantId: string, mailboxAddress: string): void;
}

interface ClientEntry {
  clientId: string;
  client: PublicClientApplication;
  network: EntraNetwork;
  partition: TokenCachePartition;
}

/**
 * Delegated tokens: the grant's MSAL cache (account, access and refresh tokens) is a shared,
 * sealed partition. A usable access token is served from it; otherwise one replica (lease)
 * redeems the refresh token through a public client, and MSAL writes the rotated refresh token
 * back through the cache plugin. A refresh Entra ID refuses for good (expired, revoked, consent
 * withdrawn, blocked by policy) turns the grant's state into SIGN_IN_REQUIRED / CONSENT_REQUIRED /
 * BLOCKED_BY_POLICY with the finding, and callers get FAILED_PRECONDITION naming it.
 */
export function createDelegatedTokenProvider(deps: DelegatedTokenProviderDeps): DelegatedTokenProvider {
  const leaseTtlMs = deps.options?.leaseTtlMs ?? defaultAuthBrokerOptions.leaseTtlMs;
  const waitPollMs = deps.options?.waitPollMs ?? defaultAuthBrokerOptions.waitPollMs;
  const forceRefreshReuseMs = deps.options?.forceRefreshReuseMs ?? defaultAuthBrokerOptions.forceRefreshReuseMs;
  const clients = new Map<string, ClientEntry>();
  const memos = new Map<string, CachedAccessToken>();
  const flights = createSingleFlight<CachedAccessToken>();

  function clientFor(grant: DelegatedGrantDocument, record: AppCredentialsRecord): ClientEntry {
    const key = delegatedPartitionKey(grant.tenantId, grant.mailboxAddress);
    const existing = clients.get(key);
    if (existing?.clientId === record.clientId) return existing;
    const partition = createTokenCachePartition(deps.stores.tokenCache, deps.secretBox, key, deps.clock);
    const network = createEntraNetwork();
    const entry = {
      clientId: record.clientId,
      client: createPublicClient(record, network, createStoreCachePlugin(partition)),
      network,
      partition,
    };
    clients.set(key, entry);
    return entry;
  }

  function usable(token: CachedAccessToken | undefined, options: TokenRequestOptions, now: Date): token is CachedAccessToken {
    if (!token || token.expiresOn.getTime() - now.getTime() < options.minValidityMs) return false;
    return !options.forceRefresh || now.getTime() - token.cachedAt.getTime() <= forceRefreshReuseMs;
  }

  async function refresh(
    grant: DelegatedGrantDocument,
    record: AppCredentialsRecord,
    entry: ClientEntry,
  ): Promise<CachedAccessToken> {
    const now = deps.clock();
    entry.network.reset();
    try {
      const account = await entry.client.getTokenCache().getAccountByHomeId(grant.homeAccountId);
      if (!account) throw Object.assign(new Error('no account in the grant cache'), { noAccount: true });
      const result = await entry.client.acquireTokenSilent({ account, scopes: [...scopesOfGrant(grant)], forceRefresh: true });
      if (!result?.expiresOn) throw new Error('MSAL returned no token');
      deps.observer?.entraRequest?.(grant.tenantId, 'success');
      await deps.stores.grants.put(tenantKey(grant.tenantId, grant.mailboxAddress), {
        ...grant,
        state: DelegatedGrantState.DELEGATED_GRANT_STATE_ACTIVE,
        lastFailure: undefined,
        lastRefreshedAt: now,
        updatedAt: now,
      });
      return { secret: result.accessToken, expiresOn: result.expiresOn, cachedAt: now, homeAccountId: grant.homeAccountId };
    } catch (error) {
      if (isMailrouteError(error)) throw error;
      const failure = (error as { noAccount?: boolean }).noAccount
        ? {
            transient: false,
            finding: findingFor(DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED),
            grantState: DelegatedGrantState.DELEGATED_GRANT_STATE_SIGN_IN_REQUIRED,
            retryAfterMs: undefined,
          }
        : classifyEntraFailure(error, entry.network.lastProblem);
      deps.observer?.entraRequest?.(grant.tenantId, 'failure');
      deps.logger.warn(
        {
          tenantId: grant.tenantId,
          mailbox: grant.mailboxAddress,
          code: DiagnosticCode[failure.finding.code],
          details: failure.finding.details,
        },
        'auth-broker: Entra ID refused a delegated token refresh',
      );
      if (!failure.transient) {
        await deps.stores.grants.put(tenantKey(grant.tenantId, grant.mailboxAddress), {
          ...grant,
          state: failure.grantState ?? DelegatedGrantState.DELEGATED_GRANT_STATE_SIGN_IN_REQUIRED,
          lastFailure: failure.finding,
          updatedAt: now,
        });
      }
      throw toCallError(failure, `delegated grant of ${grant.mailboxAddress}`);
    }
  }

  return {
    async getToken(grant, record, options) {
      if (grant.state !== DelegatedGrantState.DELEGATED_GRANT_STATE_ACTIVE) {
        const finding = grant.lastFailure ?? findingFor(DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED);
        throw new FailedPreconditionError(`delegated grant of ${grant.mailboxAddress}: ${finding.message} ${finding.remedy}`, {
          reason: DiagnosticCode[finding.code],
        });
      }
      const key = delegatedPartitionKey(grant.tenantId, grant.mailboxAddress);
      const memo = memos.get(key);
      if (usable(memo, options, deps.clock()))
        return { accessToken: memo.secret, expiresOn: memo.expiresOn, issuedAt: memo.cachedAt };
      const entry = clientFor(grant, record);
      const token = await flights.run(options.forceRefresh ? `${key}#force` : key, () =>
        acquireThroughSharedCache(
          {
            leases: deps.stores.leases,
            clock: deps.clock,
            logger: deps.logger,
            replicaId: deps.replicaId,
            leaseTtlMs,
            waitPollMs,
          },
          {
            partition: entry.partition,
            subject: `delegated grant of ${grant.mailboxAddress}`,
            find: (serialized) => {
              const found = findAccessToken(serialized, {
                clientId: record.clientId,
                scopes: scopesOfGrant(grant),
                homeAccountId: grant.homeAccountId,
              });
              return usable(found, options, deps.clock()) ? found : undefined;
            },
            fromEntra: () => refresh(grant, record, entry),
          },
        ),
      );
      memos.set(key, token);
      return { accessToken: token.secret, expiresOn: token.expiresOn, issuedAt: token.cachedAt };
    },
    forget(tenantId, mailboxAddress) {
      const key = delegatedPartitionKey(tenantId, mailboxAddress);
      clients.delete(key);
      memos.delete(key);
    },
  };
}
