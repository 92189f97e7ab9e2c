import type { LeaseRepository } from '@mailroute/persistence';
import { sleep, UnavailableError, type Logger } from '@mailroute/platform';
import type { CachedAccessToken, TokenCachePartition } from './token-cache-plugin';

export interface SharedAcquisitionDeps {
  leases: LeaseRepository;
  clock: () => Date;
  logger: Logger;
  replicaId: string;
  leaseTtlMs: number;
  waitPollMs: number;
}

export interface SharedAcquisition {
  partition: TokenCachePartition;
  /** The usable token of the serialized cache, if any. */
  find(serialized: string): CachedAccessToken | undefined;
  /** Asks Entra ID (MSAL writes the result into the partition through the cache plugin). */
  fromEntra(): Promise<CachedAccessToken>;
  /** Names the work in the "took too long" error. */
  subject: string;
}

/**
 * One acquisition across replicas: return a usable token from the shared cache partition if there
 * is one; otherwise take the partition's lease and ask Entra ID, or — when another replica holds
 * the lease — poll the shared cache until its token appears or the lease frees up. With cold caches
 * on N replicas, Entra ID sees one request.
 */
export async function acquireThroughSharedCache(
  deps: SharedAcquisitionDeps,
  work: SharedAcquisition,
): Promise<CachedAccessToken> {
  const lockKey = `token/${work.partition.key}`;
  const deadline = deps.clock().getTime() + 2 * deps.leaseTtlMs;
  for (;;) {
    const shared = work.find(await work.partition.read());
    if (shared) return shared;
    const lease = await deps.leases.tryAcquire(lockKey, deps.replicaId, deps.leaseTtlMs, deps.clock());
    if (lease) {
      try {
        // Another replica may have written a token between our read and the lease.
        const again = work.find(await work.partition.read());
        if (again) return again;
        return await work.fromEntra();
      } finally {
        await deps.leases
          .release(lease)
          .catch((error: unknown) => deps.logger.warn({ err: error }, 'auth-broker: lease release failed'));
      }
    }
    if (deps.clock().getTime() > deadline) {
      throw new UnavailableError(`${work.subject}: another replica's token acquisition did not finish in time`, {
        retryAfterMs: 1_000,
      });
    }
    await sleep(deps.waitPollMs);
  }
}
