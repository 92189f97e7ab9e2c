/** A held lease: proof that `owner` may do the work guarded by `key` until `expiresAt`. */
export interface Lease {
  key: string;
  owner: string;
  /** Increases with every acquisition of `key`; identifies this holding. */
  epoch: number;
  expiresAt: Date;
}

/**
 * Short exclusive leases shared by every replica (e.g. "only one replica asks Entra ID for this
 * tenant's token right now"). A lease is free when never taken, released, or expired, so a holder
 * that dies blocks others for at most its TTL.
 */
export interface LeaseRepository {
  /** Takes the lease when it is free; undefined when another holder has it. */
  tryAcquire(key: string, owner: string, ttlMs: number, now: Date): Promise<Lease | undefined>;
  /** Frees a lease this holder took (no-op when it expired and was taken by someone else). */
  release(lease: Lease): Promise<void>;
}
