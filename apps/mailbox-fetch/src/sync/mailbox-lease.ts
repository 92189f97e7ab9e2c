import type { DocumentTable } from '@mailroute/persistence';
import { seqKey } from '../store/mailbox-fetch.records';

/** One holding of a mailbox lease, stored under `<lease key>#<epoch>`. */
export interface LeaseDocument {
  owner: string;
  epoch: number;
  expiresAt: number;
  released?: boolean | undefined;
}

/** A lease this replica holds. */
export interface MailboxLease {
  key: string;
  owner: string;
  epoch: number;
  expiresAt: number;
}

/** The newest holding of each lease key, from a listing of the lease table. */
export function leaseHeads(entries: readonly { key: string; document: LeaseDocument }[]): Map<string, LeaseDocument> {
  const heads = new Map<string, LeaseDocument>();
  for (const { key, document } of entries) {
    const leaseKey = key.slice(0, key.lastIndexOf('#'));
    const head = heads.get(leaseKey);
    if (!head || head.epoch < document.epoch) heads.set(leaseKey, document);
  }
  return heads;
}

export function isHeld(head: LeaseDocument | undefined, now: number): boolean {
  return head !== undefined && !head.released && head.expiresAt > now;
}

/**
 * Mailbox ownership built only on unique inserts (FerretDB v1 applies no conditional update
 * atomically): acquiring or renewing inserts the next epoch of the key; of two replicas that saw
 * the same head exactly one insert succeeds. Renewal is the holder inserting epoch n+1 for itself,
 * so a replica that stalled past its expiry finds epoch n+1 taken and knows it lost the mailbox.
 * Old epochs are pruned by their writer; the head is never deleted.
 */
export class MailboxLeases {
  constructor(private readonly table: DocumentTable<LeaseDocument>) {}

  async head(key: string): Promise<LeaseDocument | undefined> {
    const entries = await this.table.list({ prefix: `${key}#`, limit: 50 });
    return leaseHeads(entries).get(key);
  }

  /** All heads under `prefix` (one listing; all by default), for the scheduler's scan and list calls. */
  async heads(prefix = ''): Promise<Map<string, LeaseDocument>> {
    const all: { key: string; document: LeaseDocument }[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.table.list({ prefix, after, limit: 1000 });
      all.push(...page);
      if (page.length < 1000) break;
      after = page[page.length - 1]?.key;
    }
    return leaseHeads(all);
  }

  /** Takes the lease when free (given the head the caller saw, or a fresh read). */
  async tryAcquire(key: string, owner: string, ttlMs: number, now: number, seenHead?: LeaseDocument | null): Promise<MailboxLease | undefined> {
    // The scan's listing only filters: the insert is based on a fresh read, so a stale listing can
    // never re-insert a pruned epoch below the real head.
    if (seenHead !== undefined && isHeld(seenHead ?? undefined, now)) return undefined;
    const head = await this.head(key);
    if (isHeld(head, now)) return undefined;
    return this.insertNext(key, owner, (head?.epoch ?? 0) + 1, now + ttlMs);
  }

  /**
   * Extends a held lease; undefined when it was lost (taken over, or expired and taken).
   *
   * While the lease is well inside its lifetime nobody else can have written epoch n+1 (taking
   * over needs epoch n expired), so the renewal is a blind insert of n+1 — no read. A lease near
   * or past its expiry (a stalled replica) is checked against the head first: a prefix listing,
   * which FerretDB v1 answers by scanning, so it stays off the steady-state path.
   */
  async renew(lease: MailboxLease, ttlMs: number, now: number): Promise<MailboxLease | undefined> {
    const margin = Math.min(ttlMs / 4, 5_000);
    if (lease.expiresAt - now > margin) {
      const renewed = await this.insertNext(lease.key, lease.owner, lease.epoch + 1, now + ttlMs);
      if (renewed) return renewed;
    }
    // Near expiry, or epoch n+1 exists: ours from an attempt whose answer was lost, or a taker's.
    // Owner ids are unique per process, so a head with our owner is still ours to extend.
    const head = await this.head(lease.key);
    if (!head || head.owner !== lease.owner || head.released || head.epoch < lease.epoch) return undefined;
    return this.insertNext(lease.key, lease.owner, head.epoch + 1, now + ttlMs);
  }

  /** Frees the lease at once (clean shutdown, mailbox deleted or disabled). */
  async release(lease: MailboxLease): Promise<void> {
    const head = await this.head(lease.key);
    if (head && head.epoch === lease.epoch && head.owner === lease.owner) {
      await this.table.put(`${lease.key}#${seqKey(lease.epoch)}`, { ...head, released: true });
    }
  }

  private async insertNext(key: string, owner: string, epoch: number, expiresAt: number): Promise<MailboxLease | undefined> {
    const inserted = await this.table.insert(`${key}#${seqKey(epoch)}`, { owner, epoch, expiresAt });
    if (!inserted) return undefined;
    if (epoch > 2) void this.table.delete(`${key}#${seqKey(epoch - 2)}`).catch(() => undefined);
    return { key, owner, epoch, expiresAt };
  }
}
