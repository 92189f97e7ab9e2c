import { randomUUID } from 'node:crypto';
import type { DocumentTable } from '@mailroute/persistence';
import type { Logger } from '@mailroute/platform';
import type { AttemptRecord, ReplicaRecord } from '../store/outbound-send.stores';

/** Options of createReplicaPresence; defaults in defaultReplicaPresenceOptions. */
export interface ReplicaPresenceOptions {
  /**
   * A replica whose heartbeat is older than this is gone: its stranded attempts are resolved (Sent
   * Items / draft check) without waiting for OUTBOUND_SEND_ATTEMPT_STALE_MS. Longer than a store
   * hiccup and than a Graph request (a live owner in a slow send must not be taken over). Default 30 s.
   */
  deadAfterMs: number;
  /** Heartbeat interval. Default deadAfterMs / 6. */
  heartbeatMs?: number;
}

export const defaultReplicaPresenceOptions: ReplicaPresenceOptions = { deadAfterMs: 30_000 };

/**
 * Who is alive among outbound-send's processes, in the shared store (`os_replicas`, one document per
 * replica id): each process writes a heartbeat with its instance id (random per start) and marks
 * itself stopped on a clean shutdown. The send engine asks `isGone(marker)` before waiting out a
 * stranded attempt marker: gone = this replica id restarted (another instance now), stopped, or no
 * heartbeat for `deadAfterMs`. Replica ids must be unique per live process (the default
 * `<hostname>-<pid>` is); clocks of replicas are assumed within a few seconds of each other.
 */
export interface ReplicaPresence {
  readonly replicaId: string;
  /** This process's instance id (goes into its attempt markers). */
  readonly instanceId: string;
  /** Writes the first heartbeat and keeps beating. */
  start(): Promise<void>;
  /** Stops beating and records a clean stop: this instance's markers are free at once. */
  stop(): Promise<void>;
  /** Whether the process that wrote `marker` is known to be gone (false when unsure: staleness decides). */
  isGone(marker: AttemptRecord, nowMs: number): Promise<boolean>;
  /** Whether this process's own heartbeat is recent enough that no other replica takes its attempts over. */
  isFresh(nowMs: number): boolean;
}

export function createReplicaPresence(deps: {
  table: DocumentTable<ReplicaRecord>;
  replicaId: string;
  logger: Logger;
  options?: Partial<ReplicaPresenceOptions>;
  clock?: () => number;
}): ReplicaPresence {
  const options = { ...defaultReplicaPresenceOptions, ...deps.options };
  if (!Number.isInteger(options.deadAfterMs) || options.deadAfterMs < 1_000) throw new RangeError('deadAfterMs must be an integer of at least 1000');
  const heartbeatMs = options.heartbeatMs ?? Math.max(200, Math.floor(options.deadAfterMs / 6));
  const clock = deps.clock ?? Date.now;
  const instanceId = randomUUID();
  const startedAt = clock();
  let lastBeat = 0;
  let timer: NodeJS.Timeout | undefined;
  let beating: Promise<void> | undefined;

  async function beat(): Promise<void> {
    const now = clock();
    const current = await deps.table.get(deps.replicaId);
    if (current && current.instance !== instanceId && current.startedAt > startedAt && !current.stoppedAt) {
      deps.logger.error({ replicaId: deps.replicaId }, 'outbound-send: another live process uses this replica id (OUTBOUND_SEND_REPLICA_ID must be unique per process)');
    }
    await deps.table.put(deps.replicaId, { instance: instanceId, startedAt, beatAt: now });
    lastBeat = now;
  }

  return {
    replicaId: deps.replicaId,
    instanceId,
    async start() {
      await beat();
      timer = setInterval(() => {
        beating ??= beat()
          .catch((error: unknown) => deps.logger.warn({ err: error }, 'outbound-send: replica heartbeat failed'))
          .finally(() => {
            beating = undefined;
          });
      }, heartbeatMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await beating;
      const now = clock();
      await deps.table.put(deps.replicaId, { instance: instanceId, startedAt, beatAt: now, stoppedAt: now }).catch((error: unknown) => deps.logger.warn({ err: error }, 'outbound-send: could not record the clean stop'));
    },
    async isGone(marker, nowMs) {
      // This replica id: another instance is a restart of this replica; this instance holds it in no
      // drive (the engine drives a send once per process), so its attempt ended without a result.
      if (marker.owner === deps.replicaId) return true;
      const owner = await deps.table.get(marker.owner);
      if (!owner) return false;
      if (marker.instance !== undefined && owner.instance !== marker.instance) return true;
      if (owner.stoppedAt !== undefined) return true;
      return nowMs - owner.beatAt > options.deadAfterMs;
    },
    isFresh(nowMs) {
      return lastBeat > 0 && nowMs - lastBeat < options.deadAfterMs / 2;
    },
  };
}
