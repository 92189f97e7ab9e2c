/**
 * How long published changes' outbox markers gather before one round trip removes them all. At a
 * backlog's pace (tens of changes a second) 25 ms held about one change. After a crash, the relay
 * publishes the changes of the last such interval again (at least once, as before).
 */
const defaultMarkerRemovalDelayMs = 200;
/** A batch is deleted at once when it holds this many markers. */
const maxBatch = 200;

/**
 * Removes the outbox markers of published changes and replies in batches (`removeBatch`: the send
 * outbox's `deleteMany`, or marking committed changes published): one round trip per batch instead
 * of one per state change (a planning pass or a backlog commits many changes within a
 * few milliseconds). `remove(key)` settles when the batch holding `key` is deleted, so a caller that
 * keeps the marker marked as "being published" until then keeps the relay away from it; a marker
 * whose batch failed stays in the store and the relay publishes its change again (at least once, as
 * after a crash between publishing and deleting).
 */
export function createMarkerRemoval(deps: { removeBatch: (keys: string[]) => Promise<unknown>; delayMs?: number }) {
  const delayMs = deps.delayMs ?? defaultMarkerRemovalDelayMs;
  let batch: { keys: string[]; done: Promise<void>; settle: (error?: unknown) => void; timer: NodeJS.Timeout } | undefined;

  function deleteBatch(): Promise<void> {
    const current = batch;
    if (!current) return Promise.resolve();
    batch = undefined;
    clearTimeout(current.timer);
    deps.removeBatch(current.keys).then(
      () => current.settle(),
      (error: unknown) => current.settle(error ?? new Error('outbox marker delete failed')),
    );
    return current.done;
  }

  return {
    /** Deletes marker `key` with the next batch; settles once that batch is deleted (rejects when it failed). */
    remove(key: string): Promise<void> {
      if (!batch) {
        let settle: (error?: unknown) => void = () => undefined;
        const done = new Promise<void>(
          (resolve, reject) => (settle = (error) => (error === undefined ? resolve() : reject(error))),
        );
        const timer = setTimeout(() => void deleteBatch().catch(() => undefined), delayMs);
        timer.unref();
        batch = { keys: [], done, settle, timer };
      }
      const current = batch;
      current.keys.push(key);
      if (current.keys.length >= maxBatch) void deleteBatch().catch(() => undefined);
      return current.done;
    },
    /** Deletes the gathering batch now (on stop, so a clean shutdown leaves no marker behind). */
    flush: (): Promise<void> => deleteBatch(),
  };
}

export type MarkerRemoval = ReturnType<typeof createMarkerRemoval>;
