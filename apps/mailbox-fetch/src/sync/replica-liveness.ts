import { randomBytes } from 'node:crypto';
import type { DocumentTable } from '@mailroute/persistence';
import { seqKey } from '../store/mailbox-fetch.records';

/** One heartbeat of a replica incarnation, stored under `<replica id>/<incarnation>#<seq>`. */
export interface LivenessDocument {
  replicaId: string;
  incarnation: string;
  seq: number;
  /** The incarnation counts as alive until then (epoch ms). */
  expiresAt: number;
  /** Written on a clean stop or after a lapse (`expiresAt` is then when): gone at once. */
  stopped?: boolean | undefined;
}

/** Heartbeats of dead incarnations are removed this long after they expired (their leases expired long before). */
const forgetAfterMs = 10 * 60_000;

/** The newest heartbeat of each incarnation (`<replica id>/<incarnation>`), from a listing. */
export function livenessHeads(entries: readonly { key: string; document: LivenessDocument }[]): Map<string, LivenessDocument> {
  const heads = new Map<string, LivenessDocument>();
  for (const { key, document } of entries) {
    const incarnationKey = key.slice(0, key.lastIndexOf('#'));
    const head = heads.get(incarnationKey);
    if (!head || head.seq < document.seq) heads.set(incarnationKey, document);
  }
  return heads;
}

/** The key of an incarnation in the liveness table. */
export function incarnationKey(replicaId: string, incarnation: string): string {
  return `${replicaId}/${incarnation}`;
}

/**
 * Owner liveness: each process (an *incarnation* of a replica id, new at every start) inserts a
 * heartbeat every few hundred ms that says "alive until now + TTL". A mailbox lease names the
 * incarnation that holds it, so a lease whose incarnation's last heartbeat has expired belongs to a
 * process known to be gone and may be taken over at once, without waiting for the lease's own
 * expiry (a crashed replica's mailboxes come back within the liveness TTL instead of the lease TTL).
 *
 * Never two owners: an incarnation works on its leases only while its last *acknowledged* heartbeat
 * lives (`alive()`). Takers take only when the *stored* newest heartbeat has expired, which is never
 * earlier than the acknowledged one. A heartbeat acknowledged after the previous one had expired
 * means others may have seen this incarnation gone: it gives up every lease and continues as a new
 * incarnation, so "gone" is final for an incarnation. Heartbeats are unique inserts of the next
 * sequence number (FerretDB v1 applies no conditional update atomically), so a late write can never
 * lower the newest one. Like the lease TTL, this assumes replicas' clocks agree well within the TTL.
 */
export class ReplicaLiveness {
  private current: string = newIncarnation();
  private seq = 0;
  private aliveUntil = 0;

  constructor(
    private readonly table: DocumentTable<LivenessDocument>,
    readonly replicaId: string,
    private readonly ttlMs: number,
    private readonly clock: () => number,
  ) {}

  /** This process's current incarnation (changes after a lapse). */
  get incarnation(): string {
    return this.current;
  }

  /** The last acknowledged heartbeat still lives: leases held may be worked on. */
  alive(now = this.clock()): boolean {
    return now < this.aliveUntil;
  }

  /**
   * Writes the next heartbeat. Returns `lapsed: true` when it was acknowledged after the previous
   * one had expired: the caller drops every lease of the old incarnation (now `lapsedIncarnation`)
   * — this object already continues as a new incarnation.
   */
  async beat(): Promise<{ lapsed: boolean; lapsedIncarnation?: string }> {
    const incarnation = this.current;
    const seq = ++this.seq;
    const issuedAt = this.clock();
    const inserted = await this.table.insert(`${incarnationKey(this.replicaId, incarnation)}#${seqKey(seq)}`, { replicaId: this.replicaId, incarnation, seq, expiresAt: issuedAt + this.ttlMs });
    const acknowledgedAt = this.clock();
    if (seq > 2) void this.table.delete(`${incarnationKey(this.replicaId, incarnation)}#${seqKey(seq - 2)}`).catch(() => undefined);
    if (incarnation !== this.current) return { lapsed: false };
    if (this.aliveUntil !== 0 && acknowledgedAt >= this.aliveUntil) {
      // The old incarnation is over: say so, so its leases are free for others at once.
      await this.table.insert(`${incarnationKey(this.replicaId, incarnation)}#${seqKey(seq + 1)}`, { replicaId: this.replicaId, incarnation, seq: seq + 1, expiresAt: acknowledgedAt, stopped: true }).catch(() => false);
      this.current = newIncarnation();
      this.seq = 0;
      this.aliveUntil = 0;
      const lapsed = { lapsed: true, lapsedIncarnation: incarnation };
      await this.beat();
      return lapsed;
    }
    // (A duplicate key means an earlier attempt of this insert landed: its expiry is not known here.)
    if (inserted) this.aliveUntil = issuedAt + this.ttlMs;
    return { lapsed: false };
  }

  /** Clean stop: marks this incarnation gone at once. */
  async stop(): Promise<void> {
    const seq = ++this.seq;
    this.aliveUntil = 0;
    await this.table.insert(`${incarnationKey(this.replicaId, this.current)}#${seqKey(seq)}`, { replicaId: this.replicaId, incarnation: this.current, seq, expiresAt: this.clock(), stopped: true });
  }

  /**
   * Incarnations known to be gone now (newest heartbeat expired or stopped), by incarnation key; long
   * dead ones are removed from the table on the way.
   */
  async gone(now = this.clock()): Promise<Set<string>> {
    const entries = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.table.list({ prefix: '', after, limit: 1000 });
      entries.push(...page);
      if (page.length < 1000) break;
      after = page[page.length - 1]?.key;
    }
    const gone = new Set<string>();
    for (const [key, head] of livenessHeads(entries)) {
      if (!head.stopped && head.expiresAt > now) continue;
      gone.add(key);
      if (now - head.expiresAt > forgetAfterMs) void this.table.deletePrefix(`${key}#`).catch(() => undefined);
    }
    return gone;
  }
}

function newIncarnation(): string {
  return randomBytes(6).toString('hex');
}
