import type { ICachePlugin, TokenCacheContext } from '@azure/msal-node';
import type { DocumentTable } from '@mailroute/persistence';
import type { SecretBox } from '@mailroute/platform';
import { sealingContext } from '../entra/msal-clients';
import type { TokenCacheDocument } from '../store/auth-broker.stores';

/** Reads and writes one MSAL cache partition in the shared store, sealed (it holds tokens). */
export interface TokenCachePartition {
  readonly key: string;
  /** The serialized MSAL cache, or '' when there is none. */
  read(): Promise<string>;
  write(serialized: string): Promise<void>;
}

export function createTokenCachePartition(
  table: DocumentTable<TokenCacheDocument>,
  secretBox: SecretBox,
  key: string,
  clock: () => Date,
): TokenCachePartition {
  const context = sealingContext.tokenCache(key);
  return {
    key,
    async read() {
      const document = await table.get(key);
      return document ? secretBox.openString(document.sealed, context) : '';
    },
    async write(serialized) {
      await table.put(key, { sealed: secretBox.seal(serialized, context), updatedAt: clock() });
    },
  };
}

/**
 * MSAL's cache plugin over a shared partition: every access loads the partition from the store
 * (so a token one replica acquired is seen by all), and every change is written back. MSAL calls
 * the hooks around each cache access; the caller serialises acquisitions per partition.
 */
export function createStoreCachePlugin(partition: TokenCachePartition): ICachePlugin {
  return {
    async beforeCacheAccess(context: TokenCacheContext) {
      const serialized = await partition.read();
      if (serialized) context.tokenCache.deserialize(serialized);
    },
    async afterCacheAccess(context: TokenCacheContext) {
      if (context.cacheHasChanged) await partition.write(context.tokenCache.serialize());
    },
  };
}

/** An access token found in a serialized MSAL cache. */
export interface CachedAccessToken {
  secret: string;
  expiresOn: Date;
  /** When it was written to the cache (issued). */
  cachedAt: Date;
  homeAccountId: string;
}

interface SerializedAccessToken {
  home_account_id?: string;
  credential_type?: string;
  client_id?: string;
  secret?: string;
  target?: string;
  cached_at?: string;
  expires_on?: string;
}

/**
 * The longest-lived access token in a serialized MSAL cache (the schema MSAL libraries share) for
 * `clientId` whose scopes include every one of `scopes` (case-insensitive), optionally for one
 * account. Lets a replica check the shared cache without asking Entra ID.
 */
export function findAccessToken(
  serialized: string,
  match: { clientId: string; scopes: readonly string[]; homeAccountId?: string },
): CachedAccessToken | undefined {
  if (!serialized) return undefined;
  const cache = JSON.parse(serialized) as { AccessToken?: Record<string, SerializedAccessToken> };
  const wanted = match.scopes.map((scope) => scope.toLowerCase());
  let best: CachedAccessToken | undefined;
  for (const entry of Object.values(cache.AccessToken ?? {})) {
    if (entry.credential_type && entry.credential_type !== 'AccessToken') continue;
    if (entry.client_id?.toLowerCase() !== match.clientId.toLowerCase() || !entry.secret || !entry.expires_on) continue;
    if (match.homeAccountId !== undefined && entry.home_account_id !== match.homeAccountId) continue;
    const target = new Set((entry.target ?? '').toLowerCase().split(/\s+/));
    if (!wanted.every((scope) => target.has(scope))) continue;
    const expiresOn = new Date(Number(entry.expires_on) * 1000);
    if (!best || expiresOn > best.expiresOn) {
      best = {
        secret: entry.secret,
        expiresOn,
        cachedAt: new Date(Number(entry.cached_at ?? 0) * 1000),
        homeAccountId: entry.home_account_id ?? '',
      };
    }
  }
  return best;
}
