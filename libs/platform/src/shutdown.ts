import type { Logger } from './logger';

/** One step of an ordered shutdown. */
export interface ShutdownStep {
  name: string;
  run: () => Promise<void> | void;
}

export interface Shutdown {
  /** Runs every step once, in order; later calls return the same promise. Never rejects. */
  run(reason: string): Promise<{ ok: boolean }>;
  /** True once `run` was called (work that fails because it was stopped is not a failure then). */
  readonly started: boolean;
}

/**
 * Ordered, idempotent shutdown. Each step is bounded by `stepTimeoutMs`; a step that fails or times
 * out is logged and the next one still runs, so the database is closed and telemetry flushed even
 * when a consumer hangs.
 */
export function createShutdown(logger: Logger, steps: readonly ShutdownStep[], stepTimeoutMs = 15_000): Shutdown {
  let running: Promise<{ ok: boolean }> | undefined;
  return {
    get started() {
      return running !== undefined;
    },
    run(reason) {
      running ??= (async () => {
        logger.info({ reason }, 'shutdown: starting');
        let ok = true;
        for (const step of steps) {
          const started = performance.now();
          let timer: NodeJS.Timeout | undefined;
          try {
            await Promise.race([
              Promise.resolve().then(step.run),
              new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error(`timed out after ${stepTimeoutMs} ms`)), stepTimeoutMs);
              }),
            ]);
            logger.info({ step: step.name, ms: Math.round(performance.now() - started) }, 'shutdown: step done');
          } catch (error) {
            ok = false;
            logger.error({ step: step.name, err: error }, 'shutdown: step failed');
          } finally {
            clearTimeout(timer);
          }
        }
        logger.info({ ok }, 'shutdown: complete');
        return { ok };
      })();
      return running;
    },
  };
}

/**
 * Runs `shutdown` on SIGTERM/SIGINT and then exits (0 when every step succeeded). A second signal
 * while draining exits at once with 130.
 */
export function onTerminationSignals(shutdown: Shutdown, exit: (code: number) => void = process.exit): void {
  let received = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (received) return exit(130);
      received = true;
      void shutdown.run(signal).then(({ ok }) => exit(ok ? 0 : 1));
    });
  }
}
