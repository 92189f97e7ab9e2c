import type { Logger } from '@mailroute/platform';
import type { BlobStore } from '../ports/blob-store';

export interface BlobSweeperOptions {
  blobs: BlobStore;
  logger: Logger;
  /** How often expired blobs are looked for. */
  intervalMs: number;
  clock?: () => number;
  /** Called with each sweep's deleted keys (metrics, tests). */
  onSwept?: (keys: readonly string[]) => void;
}

export interface BlobSweeper {
  /** One sweep now: deletes every expired blob (in batches of 100); returns how many. */
  sweepOnce(): Promise<number>;
  start(): void;
  /** Stops the timer and waits for a running sweep. */
  stop(): Promise<void>;
}

/**
 * Deletes expired blobs (uploads no send referenced in time) every `intervalMs`. Several replicas
 * may sweep the same store: deleting a blob twice is harmless. A failed sweep is logged and tried
 * again at the next interval.
 */
export function createBlobSweeper(options: BlobSweeperOptions): BlobSweeper {
  const clock = options.clock ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  async function sweepOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await options.blobs.deleteExpired(new Date(clock()), 100);
      total += deleted.length;
      if (deleted.length > 0) options.onSwept?.(deleted);
      if (deleted.length < 100) return total;
    }
  }

  function schedule(): void {
    timer = setTimeout(() => {
      running = sweepOnce()
        .then((count) => {
          if (count > 0) options.logger.info({ count }, 'expired blobs deleted');
        })
        .catch((error: unknown) => options.logger.warn({ err: error }, 'blob sweep failed; trying again later'))
        .finally(() => {
          running = undefined;
          if (timer) schedule();
        });
    }, options.intervalMs);
    timer.unref();
  }

  return {
    sweepOnce,
    start() {
      if (!timer) schedule();
    },
    async stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
