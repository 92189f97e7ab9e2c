import type { DocumentTable } from '@mailroute/persistence';
import { seqKey } from '../store/mailbox-fetch.records';

/** One holding of a mailbox lease, stored under `<lease key>#<epoch>`. */
export interface LeaseDocument {
  owner: string;
  /** The owner process's incarnation (ReplicaLiveness in libs/persistence); absent on leases of older versions. */
  incarnation?: string | undefined;
  epoch: number;
  expiresAt: number;
  released?: boolean | undefined;
}

/** A lease this replica holds. */
export interface MailboxLease {
  key: string;
  owner: string;
  incarnation?: string | undefined;
  epoch: number;
  expiresAt: number;
}

/** Whether a lease's holder is known to be gone (its incarnation's liveness expired); default: never known. */
export type OwnerGone = (head: LeaseDocument) => boolean;

/** A `OwnerGone` from the set of gone incarnation keys (`<replica id>/<incarnation>`). */
export function ownerGoneIn(gone: ReadonlySet<string>): OwnerGone {
  return (head) => head.incarnation !== undefined && gone.has(`${head.owner}/${head.incarnation}`);
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

/** Held: not released, not expired, and its holder not known to be gone. */
export function isHeld(head: LeaseDocument | undefined, now: number, ownerGone: OwnerGone = () => false): boolean {
  return head !== undefined && !head.released && head.expiresAt > now && !ownerGone(head);
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

  /**
   * Takes the lease when free (given the head the caller saw, or a fresh read): released, expired,
   * or held by an incarnation known to be gone (`ownerGone`: gone is final for an incarnation, so a
   * listing of liveness taken before the fresh head read is still true for it).
   */
  async tryAcquire(
    key: string,
    owner: string | { owner: string; incarnation: string },
    ttlMs: number,
    now: number,
    seenHead?: LeaseDocument | null,
    ownerGone: OwnerGone = () => false,
  ): Promise<MailboxLease | undefined> {
    // The scan's listing only filters: the insert is based on a fresh read, so a stale listing can
    // never re-insert a pruned epoch below the real head.
    if (seenHead !== undefined && isHeld(seenHead ?? undefined, now, ownerGone)) return undefined;
    const head = await this.head(key);
    if (isHeld(head, now, ownerGone)) return undefined;
    const holder = typeof owner === 'string' ? { owner } : owner;
    return this.insertNext(key, holder, (head?.epoch ?? 0) + 1, now + ttlMs);
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
      const renewed = await this.insertNext(lease.key, lease, lease.epoch + 1, now + ttlMs);
      if (renewed) return renewed;
    }
    // Near expiry, or epoch n+1 exists: ours from an attempt whose answer was lost, or a taker's.
    // Owner and incarnation identify the process, so a head with both ours is still ours to extend.
    const head = await this.head(lease.key);
    if (
      !head ||
      head.owner !== lease.owner ||
      head.incarnation !== lease.incarnation ||
      head.released ||
      head.epoch < lease.epoch
    )
      return undefined;
    return this.insertNext(lease.key, lease, head.epoch + 1, now + ttlMs);
  }

  /** Frees the lease at once (clean shutdown, mailbox deleted or disabled). */
  async release(lease: MailboxLease): Promise<void> {
    const head = await this.head(lease.key);
    if (head && head.epoch === lease.epoch && head.owner === lease.owner && head.incarnation === lease.incarnation) {
      await this.table.put(`${lease.key}#${seqKey(lease.epoch)}`, { ...head, released: true });
    }
  }

  private async insertNext(
    key: string,
    holder: { owner: string; incarnation?: string | undefined },
    epoch: number,
    expiresAt: number,
  ): Promise<MailboxLease | undefined> {
    const incarnation = holder.incarnation ? { incarnation: holder.incarnation } : {};
    const inserted = await this.table.insert(`${key}#${seqKey(epoch)}`, {
      owner: holder.owner,
      ...incarnation,
      epoch,
      expiresAt,
    });
    if (!inserted) return undefined;
    if (epoch > 2) void this.table.delete(`${key}#${seqKey(epoch - 2)}`).catch(() => undefined);
    return { key, owner: holder.owner, ...incarnation, epoch, expiresAt };
  }
}
