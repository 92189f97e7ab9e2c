/**
 * The sync runtime: the replica's scheduler of mailbox turns (leases, liveness, due times, backoff,
 * concurrency bounds), described at createSyncRuntime. One scheduler over one table of held
 * mailboxes, hence the file's size (over 400 lines).
 */
import { MailboxSyncState } from '@mailroute/contracts';
import { ReplicaLiveness } from '@mailroute/persistence';
import { backoffDelayMs, isRetryable, type Logger } from '@mailroute/platform';
import {
  type IntakeRecord,
  type MailboxRecord,
  type MailboxStatusRecord,
  type SyncRequestRecord,
} from '../store/mailbox-fetch.records';
import { listAll, type MailboxFetchStores } from '../store/mailbox-fetch.stores';
import { isHeld, MailboxLeases, ownerGoneIn, type MailboxLease } from './mailbox-lease';
import { LostMailboxError, ReplicaStoppingError, type MailboxSync } from './mailbox-sync';
import { CursorTakenError } from './sync-cursor.store';
import { logRoundTiming, type RoundWake } from './round-timing';
import { describeSyncFailure } from './sync-failure';

/** Options of the sync runtime; defaults in defaultSyncRuntimeOptions. */
export interface SyncRuntimeOptions {
  /** How long a mailbox lease lasts without renewal (takeover time after a replica hangs). Default 30 s. */
  leaseTtlMs: number;
  /**
   * How long a replica counts as alive after its last heartbeat (takeover time after a replica
   * dies; heartbeats every fifth of it). Default 5 s; at most leaseTtlMs.
   */
  livenessTtlMs: number;
  /** How often configuration, SyncNow requests and leases are scanned (must be well under the TTL). Default 5 s. */
  scanIntervalMs: number;
  /** Sync turns running at once over all mailboxes (the global bound). Default 32. */
  maxConcurrentTurns: number;
  /** Most mailboxes one replica owns. Default 5,000. */
  maxMailboxes: number;
  /** Caps every mailbox's poll interval (development and tests). Default: none. */
  pollIntervalCapMs?: number | undefined;
  /**
   * Poll interval of a mailbox with a live Graph subscription: notifications wake its delta sync, and a
   * round this often catches whatever a notification missed. Default 15 min (never below the mailbox's own).
   */
  safetyNetPollIntervalMs: number;
  /**
   * First backoff after a failed turn (the project's backoff: doubles, equal jitter) up to
   * errorBackoffMaxMs. Default 1 s: a failure that clears at once (a dropped connection) costs a
   * mailbox about a second, less than one poll interval.
   */
  errorBackoffBaseMs: number;
  /**
   * Cap of the backoff after a failure that is not a dependency being away (consent revoked, a
   * mailbox gone). Default 5 min: such a mailbox costs a few Graph calls an hour, and a fix made by
   * an admin is picked up within minutes (SyncNow picks it up at once).
   */
  errorBackoffMaxMs: number;
  /**
   * Cap of the backoff after a failure because a dependency is briefly away (a retryable error: the
   * event bus, the store, a Graph 5xx), so intake resumes within it once the dependency is back.
   * Default 2 s.
   */
  dependencyBackoffMaxMs: number;
}

/** Lease acquisitions one scan runs at once. */
const acquisitionConcurrency = 8;

export function defaultSyncRuntimeOptions(options: Partial<SyncRuntimeOptions> = {}): SyncRuntimeOptions {
  const merged: SyncRuntimeOptions = {
    leaseTtlMs: 30_000,
    scanIntervalMs: 5_000,
    maxConcurrentTurns: 32,
    maxMailboxes: 5_000,
    errorBackoffBaseMs: 1_000,
    errorBackoffMaxMs: 300_000,
    dependencyBackoffMaxMs: 2_000,
    safetyNetPollIntervalMs: 900_000,
    ...options,
    // At most the lease TTL: liveness adds nothing once the lease itself expires sooner.
    livenessTtlMs: Math.min(options.livenessTtlMs ?? 5_000, options.leaseTtlMs ?? 30_000),
  };
  if (merged.scanIntervalMs > merged.leaseTtlMs) throw new RangeError('scanIntervalMs must not exceed leaseTtlMs');
  return merged;
}

interface HeldMailbox {
  key: string;
  mailbox: MailboxRecord;
  lease: MailboxLease;
  status: MailboxStatusRecord;
  nextSyncAt: number;
  running: boolean;
  lost: boolean;
  lastRequestAt: number;
  fullResyncPending: boolean;
  /** Woken while a turn ran: the turn may have read Graph before the change, so another follows at once. */
  wokenDuringTurn: boolean;
  /** The status save after the last turn, while in flight. */
  saving?: Promise<void> | undefined;
  /** The first wake-up since the last turn started (for the round's timing log). */
  pendingWake?: RoundWake | undefined;
  roundStartedAt?: number | undefined;
  /** The mailbox kind was asked of Graph since this replica took the mailbox (once: see mailbox-kind.ts). */
  kindAsked?: boolean;
}

export interface SyncRuntimeDeps {
  stores: MailboxFetchStores;
  sync: MailboxSync;
  logger: Logger;
  clock: () => number;
  replicaId: string;
  options?: Partial<SyncRuntimeOptions>;
}

export function initialStatus(mailbox: MailboxRecord): MailboxStatusRecord {
  return {
    state: mailbox.enabled ? MailboxSyncState.MAILBOX_SYNC_STATE_PENDING : MailboxSyncState.MAILBOX_SYNC_STATE_DISABLED,
    consecutiveFailures: 0,
    backlogMessages: 0,
    messagesIngestedTotal: 0,
  };
}

/**
 * The replica's background work: owns mailboxes through leases (acquire on scan, renew, release,
 * take over expired ones), and runs sync turns for due mailboxes, oldest due first, with at most
 * `maxConcurrentTurns` at once. A mailbox turn reads a few pages and yields, so a mailbox with a
 * big backlog never starves the others; failing mailboxes back off on their own.
 */
export function createSyncRuntime(deps: SyncRuntimeDeps) {
  const options = defaultSyncRuntimeOptions(deps.options);
  const { stores, clock, logger } = deps;
  const leases = new MailboxLeases(stores.leases);
  const liveness = new ReplicaLiveness(stores.liveness, deps.replicaId, options.livenessTtlMs, clock);
  /** Incarnations seen gone by the last liveness check (a newly gone one triggers a scan at once). */
  let knownGone = new Set<string>();
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let beating: Promise<void> | undefined;
  const held = new Map<string, HeldMailbox>();
  /** Mailboxes dropped while a turn was still running: not re-acquired until that turn ended. */
  const draining = new Set<string>();
  let running = 0;
  let stopped = true;
  /** Aborted when stop starts: turns in flight end at their next safe point (mailbox-sync.ts). */
  let stopping = new AbortController();
  let scanTimer: NodeJS.Timeout | undefined;
  let pumpTimer: NodeJS.Timeout | undefined;
  let renewTimer: NodeJS.Timeout | undefined;
  let renewing: Promise<void> | undefined;
  let scanning: Promise<void> | undefined;
  const turns = new Set<Promise<void>>();
  /** Status saves after turns still in flight (stop waits for them). */
  const saves = new Set<Promise<void>>();

  const pollOf = (entry: HeldMailbox) =>
    Math.min(
      entry.status.intake?.mode === 'push'
        ? Math.max(entry.mailbox.pollIntervalMs, options.safetyNetPollIntervalMs)
        : entry.mailbox.pollIntervalMs,
      options.pollIntervalCapMs ?? Number.POSITIVE_INFINITY,
    );

  async function saveStatus(entry: HeldMailbox): Promise<void> {
    await stores.statuses
      .put(entry.key, entry.status)
      .catch((error: unknown) => logger.warn({ err: error, mailbox: entry.key }, 'mailbox-fetch: status not saved'));
  }

  /**
   * Saves the status (after a turn: without holding the mailbox): a wake-up that came during the turn starts
   * the next one at once instead of after a store write. Saves of one mailbox run one after another, each
   * writing the status as it is then, so the last one stored is the newest.
   */
  function queueStatusSave(entry: HeldMailbox): Promise<void> {
    const save = (entry.saving ?? Promise.resolve()).then(() => (entry.lost ? undefined : saveStatus(entry)));
    entry.saving = save;
    saves.add(save);
    void save.finally(() => {
      saves.delete(save);
      if (entry.saving === save) entry.saving = undefined;
    });
    return save;
  }

  function drop(entry: HeldMailbox, reason: string): void {
    entry.lost = true;
    held.delete(entry.key);
    deps.sync.release(entry.key);
    if (entry.running) draining.add(entry.key);
    logger.info({ mailbox: entry.key, reason }, 'mailbox-fetch: mailbox released');
  }

  async function scan(): Promise<void> {
    const now = clock();
    const [mailboxes, requests, heads, gone] = await Promise.all([
      listAll(stores.mailboxes, ''),
      listAll(stores.syncRequests, ''),
      leases.heads(),
      liveness.gone(now),
    ]);
    knownGone = gone;
    const ownerGone = ownerGoneIn(gone);
    const configured = new Map(mailboxes.map((entry) => [entry.key, entry.document]));
    const requested = new Map<string, SyncRequestRecord>(requests.map((entry) => [entry.key, entry.document]));

    for (const entry of [...held.values()]) {
      const mailbox = configured.get(entry.key);
      if (!mailbox || !mailbox.enabled) {
        drop(entry, mailbox ? 'disabled' : 'deleted');
        await leases.release(entry.lease).catch(() => undefined);
        if (mailbox)
          await stores.statuses.put(entry.key, {
            ...entry.status,
            state: MailboxSyncState.MAILBOX_SYNC_STATE_DISABLED,
            nextSyncAt: undefined,
          });
        continue;
      }
      if (mailbox.folderGeneration !== entry.mailbox.folderGeneration) entry.nextSyncAt = now;
      entry.mailbox = mailbox;
    }

    // Free mailboxes, acquired a few at a time (each acquisition reads its lease head afresh).
    // `acquiring` reserves a slot before each attempt, so held + in flight never exceeds maxMailboxes.
    const free = liveness.alive()
      ? [...configured].filter(
          ([key, mailbox]) => mailbox.enabled && !held.has(key) && !draining.has(key) && !isHeld(heads.get(key), now, ownerGone),
        )
      : [];
    let nextFree = 0;
    let acquiring = 0;
    const acquireNext = async (): Promise<void> => {
      for (let index = nextFree++; index < free.length; index = nextFree++) {
        if (stopped || !liveness.alive() || held.size + acquiring >= options.maxMailboxes) return;
        const [key, mailbox] = free[index] ?? [];
        if (!key || !mailbox) continue;
        acquiring += 1;
        try {
          const lease = await leases.tryAcquire(
            key,
            { owner: deps.replicaId, incarnation: liveness.incarnation },
            options.leaseTtlMs,
            clock(),
            heads.get(key) ?? null,
            ownerGone,
          );
          if (!lease) continue;
          const status = (await stores.statuses.get(key)) ?? initialStatus(mailbox);
          held.set(key, {
            key,
            mailbox,
            lease,
            status,
            nextSyncAt: clock(),
            running: false,
            lost: false,
            lastRequestAt: requested.get(key)?.requestedAt ?? 0,
            fullResyncPending: false,
            wokenDuringTurn: false,
          });
          logger.info({ mailbox: key, epoch: lease.epoch }, 'mailbox-fetch: mailbox acquired');
          pump();
        } catch (error) {
          // One failed acquisition must not end the scan's other workers (the next scan retries it).
          logger.warn({ err: error, mailbox: key }, 'mailbox-fetch: lease acquisition failed');
        } finally {
          acquiring -= 1;
        }
      }
    };
    await Promise.all(
      Array.from(
        { length: Math.max(0, Math.min(acquisitionConcurrency, free.length, options.maxMailboxes - held.size)) },
        acquireNext,
      ),
    );

    for (const entry of held.values()) {
      const request = requested.get(entry.key);
      if (request && request.requestedAt > entry.lastRequestAt) {
        entry.lastRequestAt = request.requestedAt;
        entry.nextSyncAt = Math.min(entry.nextSyncAt, now);
        if (entry.running) entry.wokenDuringTurn = true;
        if (request.fullResync) entry.fullResyncPending = true;
      }
    }
    pump();
  }

  /** Heartbeat: renews every held lease, on its own timer so a slow scan never lets leases lapse. */
  async function renewAll(): Promise<void> {
    if (!liveness.alive()) return;
    await Promise.all(
      [...held.values()].map(async (entry) => {
        const now = clock();
        if (entry.lease.expiresAt - now > options.leaseTtlMs * 0.6) return;
        try {
          const renewed = await leases.renew(entry.lease, options.leaseTtlMs, now);
          if (!renewed) drop(entry, 'lease lost');
          else entry.lease = renewed;
        } catch (error) {
          logger.warn({ err: error, mailbox: entry.key }, 'mailbox-fetch: lease renewal failed');
        }
      }),
    );
  }

  function backoff(failures: number, dependencyAway: boolean): number {
    const maxDelayMs = dependencyAway
      ? Math.min(options.dependencyBackoffMaxMs, options.errorBackoffMaxMs)
      : options.errorBackoffMaxMs;
    return backoffDelayMs(failures, { initialDelayMs: options.errorBackoffBaseMs, maxDelayMs });
  }

  async function runTurn(entry: HeldMailbox): Promise<void> {
    const startedAt = clock();
    const fullResync = entry.fullResyncPending;
    entry.fullResyncPending = false;
    entry.wokenDuringTurn = false;
    const wake = entry.pendingWake;
    entry.pendingWake = undefined;
    const status = entry.status;
    try {
      if (entry.roundStartedAt === undefined) {
        entry.roundStartedAt = startedAt;
        status.lastSyncStartedAt = startedAt;
      }
      const detectKind = !status.kind && !entry.kindAsked;
      entry.kindAsked = true;
      const result = await deps.sync.turn(entry.mailbox, {
        fullResync,
        isOwner: () => !entry.lost && entry.lease.expiresAt > clock() && liveness.alive(),
        detectKind,
        signal: stopping.signal,
      });
      if (result.kind) status.kind = result.kind;
      if (wake) logRoundTiming(logger, entry.key, wake, startedAt, result.timing);
      const now = clock();
      if (result.startedRound && !fullResync && entry.roundStartedAt !== startedAt) {
        // The turn began a new round from a delta link: the round started now.
        entry.roundStartedAt = startedAt;
        status.lastSyncStartedAt = startedAt;
      }
      status.messagesIngestedTotal += result.ingested;
      if (result.ingested > 0) status.lastIngestedAt = now;
      status.consecutiveFailures = 0;
      status.lastError = undefined;
      status.lastErrorAt = undefined;
      status.throttledUntil = undefined;
      status.backlogMessages = result.backlog;
      if (result.complete) {
        status.lastSuccessfulSyncAt = entry.roundStartedAt;
        if (result.phase === 'resync' || fullResync) status.lastFullResyncAt = now;
        entry.roundStartedAt = undefined;
        status.state = MailboxSyncState.MAILBOX_SYNC_STATE_HEALTHY;
        // A failed post-processing is retried when its backoff ends, not only at the next poll.
        entry.nextSyncAt = entry.wokenDuringTurn
          ? now
          : Math.min(now + pollOf(entry), result.postProcessingDueAt ?? Number.POSITIVE_INFINITY);
      } else {
        status.state =
          result.phase === 'initial'
            ? MailboxSyncState.MAILBOX_SYNC_STATE_INITIAL_SYNC
            : result.phase === 'resync'
              ? MailboxSyncState.MAILBOX_SYNC_STATE_RESYNCING
              : MailboxSyncState.MAILBOX_SYNC_STATE_HEALTHY;
        entry.nextSyncAt = now;
      }
    } catch (error) {
      const now = clock();
      if (stopping.signal.aborted) {
        // Cut short by stop (whatever the abort surfaced as): not a failure; the next owner runs it at once.
        if (fullResync) entry.fullResyncPending = true;
        entry.nextSyncAt = now;
        logger.info(
          { mailbox: entry.key, cause: error instanceof ReplicaStoppingError ? undefined : String(error) },
          'mailbox-fetch: sync turn cut short by stop',
        );
        return;
      }
      if (error instanceof LostMailboxError || error instanceof CursorTakenError) {
        drop(entry, `taken over (${error.name}, lease ${entry.lease.expiresAt - clock()} ms left)`);
        return;
      }
      if (fullResync) entry.fullResyncPending = true;
      const failure = describeSyncFailure(error, entry.mailbox.address, entry.mailbox.accessMode);
      status.consecutiveFailures += 1;
      status.lastError = failure.finding;
      status.lastErrorAt = now;
      if (failure.state === MailboxSyncState.MAILBOX_SYNC_STATE_THROTTLED) {
        status.state = failure.state;
        status.throttledUntil = now + (failure.retryAfterMs ?? 1_000);
        entry.nextSyncAt = status.throttledUntil;
      } else {
        if (!failure.transient || status.consecutiveFailures >= 3) status.state = failure.state;
        entry.nextSyncAt = now + backoff(status.consecutiveFailures, isRetryable(error));
      }
      logger.warn(
        { err: error, mailbox: entry.key, state: MailboxSyncState[status.state], failures: status.consecutiveFailures },
        'mailbox-fetch: sync turn failed',
      );
    } finally {
      status.nextSyncAt = entry.nextSyncAt;
      if (!entry.lost) void queueStatusSave(entry);
    }
  }

  function pump(): void {
    if (stopped) return;
    const now = clock();
    if (running >= options.maxConcurrentTurns) return;
    if (!liveness.alive(now)) return;
    const due = [...held.values()]
      .filter((entry) => !entry.running && entry.nextSyncAt <= now && entry.lease.expiresAt > now)
      .sort((a, b) => a.nextSyncAt - b.nextSyncAt);
    for (const entry of due) {
      if (running >= options.maxConcurrentTurns) break;
      entry.running = true;
      running += 1;
      const turn = runTurn(entry).finally(() => {
        entry.running = false;
        if (entry.lost) draining.delete(entry.key);
        running -= 1;
        turns.delete(turn);
        setImmediate(pump);
      });
      turns.add(turn);
    }
  }

  /**
   * Heartbeat: keeps this replica alive for others, gives up every mailbox after a lapse (others may
   * have taken them), and scans at once when another replica is newly known to be gone — its
   * mailboxes are free now, not when their leases expire.
   */
  async function heartbeat(): Promise<void> {
    try {
      const { lapsed, lapsedIncarnation } = await liveness.beat();
      if (lapsed) {
        logger.warn(
          { lapsedIncarnation, incarnation: liveness.incarnation, mailboxes: held.size },
          'mailbox-fetch: liveness lapsed, giving up every mailbox',
        );
        for (const entry of [...held.values()]) {
          drop(entry, 'liveness lapsed');
          void leases.release(entry.lease).catch(() => undefined);
        }
      }
    } catch (error) {
      logger.warn({ err: error }, 'mailbox-fetch: heartbeat failed');
    }
    if (stopped) return;
    try {
      const gone = await liveness.gone();
      const newlyGone = [...gone].filter((key) => !knownGone.has(key));
      // (While a scan runs, the next heartbeat looks again: that scan may have listed before.)
      if (newlyGone.length > 0 && !scanning && !stopped) {
        knownGone = gone;
        logger.info({ gone: newlyGone }, 'mailbox-fetch: replica gone, scanning for its mailboxes');
        clearTimeout(scanTimer);
        runScan();
      }
    } catch (error) {
      logger.warn({ err: error }, 'mailbox-fetch: liveness check failed');
    }
  }

  function runScan(): void {
    scanning = scan()
      .catch((error: unknown) => logger.warn({ err: error }, 'mailbox-fetch: scan failed'))
      .finally(() => {
        scanning = undefined;
        scheduleScan();
      });
  }

  function scheduleScan(): void {
    if (stopped) return;
    clearTimeout(scanTimer);
    scanTimer = setTimeout(runScan, options.scanIntervalMs);
  }

  return {
    /** Starts scanning (the first scan runs at once). */
    start(): void {
      if (!stopped) return;
      stopped = false;
      stopping = new AbortController();
      // Alive before owning anything: the first scan follows the first heartbeat.
      scanning = (beating = heartbeat().finally(() => (beating = undefined)))
        .then(() => scan())
        .catch((error: unknown) => logger.warn({ err: error }, 'mailbox-fetch: scan failed'))
        .finally(() => {
          scanning = undefined;
          scheduleScan();
        });
      heartbeatTimer = setInterval(
        () => {
          beating ??= heartbeat().finally(() => (beating = undefined));
        },
        Math.max(50, Math.floor(options.livenessTtlMs / 5)),
      );
      pumpTimer = setInterval(pump, 50);
      renewTimer = setInterval(
        () => {
          renewing ??= renewAll().finally(() => (renewing = undefined));
        },
        Math.max(50, Math.floor(options.leaseTtlMs / 6)),
      );
    },
    /**
     * Stops at once: no new turn starts, turns in flight are aborted at their next safe point (a Graph request
     * in flight or waiting is aborted; a page being published finishes, and the cursor never moves past it
     * otherwise), their statuses are saved, and every lease is released so another replica takes over at once.
     */
    async stop(): Promise<void> {
      stopped = true;
      stopping.abort(new ReplicaStoppingError());
      clearTimeout(scanTimer);
      clearInterval(pumpTimer);
      clearInterval(renewTimer);
      clearInterval(heartbeatTimer);
      await scanning;
      await renewing;
      await beating;
      await Promise.allSettled([...turns]);
      await Promise.allSettled([...saves]);
      await Promise.allSettled([...held.values()].map((entry) => leases.release(entry.lease)));
      held.clear();
      await liveness.stop().catch((error: unknown) => logger.warn({ err: error }, 'mailbox-fetch: liveness not marked stopped'));
    },
    /** Keys (`tenant/mailbox`) this replica owns now. */
    owned(): string[] {
      return [...held.keys()];
    },
    /**
     * Wakes a mailbox this replica owns; false when it does not own it. `requestedAt`: the time of a
     * stored sync request this wake-up stands for — the scan then skips that request, and a wake-up
     * not newer than the last request acted on is ignored (true: already handled). `notifiedAt`: when the
     * change notification behind it arrived (default: `requestedAt`, else now), for the round's timing.
     */
    wake(key: string, fullResync: boolean, requestedAt?: number, notifiedAt?: number): boolean {
      const entry = held.get(key);
      if (!entry) return false;
      if (requestedAt !== undefined) {
        if (requestedAt <= entry.lastRequestAt) return true;
        entry.lastRequestAt = requestedAt;
      }
      const now = clock();
      entry.pendingWake ??= { notifiedAt: notifiedAt ?? requestedAt ?? now, wokenAt: now };
      entry.nextSyncAt = now;
      if (entry.running) entry.wokenDuringTurn = true;
      if (fullResync) entry.fullResyncPending = true;
      pump();
      return true;
    },
    /**
     * Records an owned mailbox's intake mode (push/polling and why) in its status; false when this
     * replica does not own it. Going back to polling brings the next round forward to the poll interval.
     */
    async setIntake(key: string, intake: IntakeRecord): Promise<boolean> {
      const entry = held.get(key);
      if (!entry) return false;
      const before = entry.status.intake;
      entry.status.intake = intake;
      if (intake.mode === 'polling' && before?.mode === 'push')
        entry.nextSyncAt = Math.min(entry.nextSyncAt, clock() + pollOf(entry));
      if (JSON.stringify(before) !== JSON.stringify(intake)) await queueStatusSave(entry);
      return true;
    },
    /** In-memory statuses of owned mailboxes (fresher than the stored ones). */
    statusOf(key: string): MailboxStatusRecord | undefined {
      return held.get(key)?.status;
    },
    /** Owned mailboxes' states for metrics: lag = now − start of the last complete sync round. */
    statesSnapshot(): {
      tenantId: string;
      mailboxId: string;
      address: string;
      state: number;
      lagMs: number | undefined;
      backlog: number;
    }[] {
      const now = clock();
      return [...held.values()].map((entry) => ({
        tenantId: entry.mailbox.tenantId,
        mailboxId: entry.mailbox.mailboxId,
        address: entry.mailbox.address,
        state: entry.status.state,
        lagMs: entry.status.lastSuccessfulSyncAt === undefined ? undefined : now - entry.status.lastSuccessfulSyncAt,
        backlog: entry.status.backlogMessages,
      }));
    },
  };
}

export type SyncRuntime = ReturnType<typeof createSyncRuntime>;
