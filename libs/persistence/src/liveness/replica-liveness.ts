import { randomBytes } from 'node:crypto';
import type { DocumentTable, KeyedDocument } from '../ports/document-table';

/** One heartbeat of a replica incarnation, stored under `<replica id>/<incarnation>#<seq, 12 digits>`. */
export interface LivenessDocument {
  replicaId: string;
  incarnation: string;
  seq: number;
  /** The incarnation counts as alive until then (epoch ms). */
  expiresAt: number;
  /** When the incarnation began (epoch ms); absent on heartbeats of older versions. */
  startedAt?: number | undefined;
  /** Written on a clean stop or after a lapse (`expiresAt` is then when): gone at once. */
  stopped?: boolean | undefined;
}

/** Heartbeats of dead incarnations are removed this long after they expired (their leases and markers were resolved long before). */
const forgetAfterMs = 10 * 60_000;
const pageSize = 1000;

/** The key of an incarnation in a liveness table. */
export function incarnationKey(replicaId: string, incarnation: string): string {
  return `${replicaId}/${incarnation}`;
}

function heartbeatKey(replicaId: string, incarnation: string, seq: number): string {
  return `${incarnationKey(replicaId, incarnation)}#${String(seq).padStart(12, '0')}`;
}

/**
 * The newest heartbeat of each incarnation (`<replica id>/<incarnation>`), from a listing. Entries that
 * are not heartbeats (no `#<seq>` key, e.g. rows an older version left in the table) are ignored.
 */
function livenessHeads(entries: readonly KeyedDocument<LivenessDocument>[]): Map<string, LivenessDocument> {
  const heads = new Map<string, LivenessDocument>();
  for (const { key, document } of entries) {
    const hash = key.lastIndexOf('#');
    if (hash < 0 || typeof document.seq !== 'number' || typeof document.expiresAt !== 'number') continue;
    const incarnation = key.slice(0, hash);
    const head = heads.get(incarnation);
    if (!head || head.seq < document.seq) heads.set(incarnation, document);
  }
  return heads;
}

/**
 * Which incarnations in `heads` are known gone at `now`: the newest heartbeat expired or says
 * stopped, or the incarnation was superseded — a later-started incarnation of the same replica id is
 * alive (replica ids are unique per live process, so the earlier process is over).
 */
function goneIncarnations(heads: ReadonlyMap<string, LivenessDocument>, now: number): Set<string> {
  const gone = new Set<string>();
  const newestLiveStart = new Map<string, number>();
  for (const head of heads.values()) {
    if (head.stopped || head.expiresAt <= now || head.startedAt === undefined) continue;
    newestLiveStart.set(head.replicaId, Math.max(newestLiveStart.get(head.replicaId) ?? 0, head.startedAt));
  }
  for (const [key, head] of heads) {
    const superseded = head.startedAt !== undefined && (newestLiveStart.get(head.replicaId) ?? 0) > head.startedAt;
    if (head.stopped || head.expiresAt <= now || superseded) gone.add(key);
  }
  return gone;
}

/**
 * Replica liveness, the one way mailroute's services tell a live process from a dead one (mailbox
 * leases in mailbox-fetch, attempt markers in outbound-send). Each process — an *incarnation* of a
 * replica id, new at every start — inserts a heartbeat every fraction of the TTL that says "alive
 * until now + TTL"; a lease or marker names the incarnation that holds it, so one whose incarnation
 * is known gone belongs to a process that is over and may be taken over at once instead of waiting
 * for the lease's or marker's own expiry.
 *
 * Never two owners: an incarnation works on what it holds only while its last *acknowledged*
 * heartbeat lives (`alive()`). Others count it gone only when the *stored* newest heartbeat has
 * expired, which is never earlier than the acknowledged one, or after a clean stop, or when the same
 * replica id runs a later incarnation. A heartbeat acknowledged after the previous one had expired
 * means others may have seen this incarnation gone: `beat()` reports the lapse (the caller gives up
 * what the old incarnation held) and continues as a new incarnation, so "gone" is final for an
 * incarnation. Heartbeats are unique inserts of the next sequence number (FerretDB v1 applies no
 * conditional update atomically), so a late write can never lower the newest one. Assumes replicas'
 * clocks agree well within the TTL, and replica ids unique per live process.
 */
export class ReplicaLiveness {
  private current: string = newIncarnation();
  private startedAt: number;
  private seq = 0;
  private aliveUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<unknown> | undefined;

  constructor(
    private readonly table: DocumentTable<LivenessDocument>,
    readonly replicaId: string,
    readonly ttlMs: number,
    private readonly clock: () => number,
  ) {
    if (!Number.isInteger(ttlMs) || ttlMs < 1) throw new RangeError('ttlMs must be a positive integer');
    this.startedAt = clock();
  }

  /** This process's current incarnation (changes after a lapse). */
  get incarnation(): string {
    return this.current;
  }

  /**
   * The last acknowledged heartbeat still lives (for `marginMs` more): what this incarnation holds
   * may be worked on. A margin keeps work that cannot be interrupted (a Graph send) well inside it.
   */
  alive(now = this.clock(), marginMs = 0): boolean {
    return now + marginMs < this.aliveUntil;
  }

  /**
   * Writes the next heartbeat. Returns `lapsed: true` when it was acknowledged after the previous
   * one had expired: the caller drops everything the old incarnation (now `lapsedIncarnation`) held
   * — this object already continues as a new incarnation.
   */
  async beat(): Promise<{ lapsed: boolean; lapsedIncarnation?: string }> {
    const incarnation = this.current;
    const startedAt = this.startedAt;
    const seq = ++this.seq;
    const issuedAt = this.clock();
    const inserted = await this.table.insert(heartbeatKey(this.replicaId, incarnation, seq), {
      replicaId: this.replicaId,
      incarnation,
      seq,
      expiresAt: issuedAt + this.ttlMs,
      startedAt,
    });
    const acknowledgedAt = this.clock();
    if (seq > 2) void this.table.delete(heartbeatKey(this.replicaId, incarnation, seq - 2)).catch(() => undefined);
    if (incarnation !== this.current) return { lapsed: false };
    if (this.aliveUntil !== 0 && acknowledgedAt >= this.aliveUntil) {
      // The old incarnation is over: say so, so what it held is free for others at once.
      await this.table
        .insert(heartbeatKey(this.replicaId, incarnation, seq + 1), {
          replicaId: this.replicaId,
          incarnation,
          seq: seq + 1,
          expiresAt: acknowledgedAt,
          startedAt,
          stopped: true,
        })
        .catch(() => false);
      this.current = newIncarnation();
      this.startedAt = Math.max(acknowledgedAt, startedAt + 1);
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

  /**
   * Beats every `intervalMs` in the background (one beat at a time) until `stop()`; `onBeat` gets each
   * result (a lapse included), `onError` each failed beat. Call after a first awaited `beat()`.
   */
  keepBeating(
    intervalMs: number,
    handlers: {
      onBeat?: (result: { lapsed: boolean; lapsedIncarnation?: string }) => void;
      onError?: (error: unknown) => void;
    } = {},
  ): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.beating ??= this.beat()
        .then((result) => handlers.onBeat?.(result))
        .catch((error: unknown) => handlers.onError?.(error))
        .finally(() => {
          this.beating = undefined;
        });
    }, intervalMs);
    this.timer.unref();
  }

  /** Clean stop: ends background beating and marks this incarnation gone at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
    const seq = ++this.seq;
    this.aliveUntil = 0;
    await this.table.insert(heartbeatKey(this.replicaId, this.current, seq), {
      replicaId: this.replicaId,
      incarnation: this.current,
      seq,
      expiresAt: this.clock(),
      startedAt: this.startedAt,
      stopped: true,
    });
  }

  /**
   * Incarnations known to be gone now (see goneIncarnations), by incarnation key; long dead ones are
   * removed from the table on the way.
   */
  async gone(now = this.clock()): Promise<Set<string>> {
    const heads = livenessHeads(await this.listAll(''));
    const gone = goneIncarnations(heads, now);
    for (const key of gone) {
      const head = heads.get(key);
      if (head && now - head.expiresAt > forgetAfterMs) void this.table.deletePrefix(`${key}#`).catch(() => undefined);
    }
    return gone;
  }

  /**
   * Whether one incarnation of `replicaId` is known to be gone now: gone as in `gone()`, or unknown
   * to the table while the replica id runs another, live incarnation (that one restarted, and every
   * incarnation beats before it holds anything). False when unsure: the caller's own expiry decides.
   */
  async isGone(replicaId: string, incarnation: string | undefined, now = this.clock()): Promise<boolean> {
    if (incarnation === undefined) return false;
    const heads = livenessHeads(await this.listAll(`${replicaId}/`));
    const key = incarnationKey(replicaId, incarnation);
    if (heads.has(key)) return goneIncarnations(heads, now).has(key);
    return [...heads.values()].some((head) => !head.stopped && head.expiresAt > now);
  }

  private async listAll(prefix: string): Promise<KeyedDocument<LivenessDocument>[]> {
    const entries: KeyedDocument<LivenessDocument>[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.table.list({ prefix, after, limit: pageSize });
      entries.push(...page);
      if (page.length < pageSize) return entries;
      after = page[page.length - 1]?.key;
    }
  }
}

function newIncarnation(): string {
  return randomBytes(6).toString('hex');
}
