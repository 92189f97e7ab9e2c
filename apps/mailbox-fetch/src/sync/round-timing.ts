import type { Logger } from '@mailroute/platform';

/** What woke a mailbox's round: when the change notification arrived, and when the owner's runtime was woken. */
export interface RoundWake {
  notifiedAt: number;
  wokenAt: number;
}

/** Times inside one turn (from mailbox-sync): the first delta page answered, the InboundEmail batch published. */
export interface TurnTiming {
  firstPageAt?: number | undefined;
  /** The first published batch: its messages read (records looked up, Graph asked), records stored, event published. */
  fetchedAt?: number | undefined;
  storedAt?: number | undefined;
  publishedAt?: number | undefined;
  /** Interactions published in the turn (the first 100), to match a round with the e-mails it brought. */
  interactionIds: string[];
}

/**
 * Logs (debug) the stages of a woken round that ingested mail: notification received → owner woken
 * (debounce; the wake-up event when another replica received it) → turn started (the runtime's
 * concurrency bound) → first delta page → messages read (inbound records looked up, Graph message) →
 * records stored (post-processing work, inbound record) → InboundEmail published (Kafka). The push benchmark reads these lines to
 * break push latency down by stage; operators can turn them on with LOG_LEVEL=debug.
 */
export function logRoundTiming(
  logger: Logger,
  mailbox: string,
  wake: RoundWake,
  turnStartedAt: number,
  timing: TurnTiming | undefined,
): void {
  if (!timing?.publishedAt) return;
  logger.debug(
    {
      mailbox,
      notifiedAt: wake.notifiedAt,
      wokenAt: wake.wokenAt,
      turnStartedAt,
      firstPageAt: timing.firstPageAt,
      fetchedAt: timing.fetchedAt,
      storedAt: timing.storedAt,
      publishedAt: timing.publishedAt,
      interactionIds: timing.interactionIds,
    },
    'mailbox-fetch: woken round timing',
  );
}
