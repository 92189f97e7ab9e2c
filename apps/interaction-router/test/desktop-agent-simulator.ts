import { ClientError, Status } from 'nice-grpc';
import {
  AgentPresence,
  OutgoingMessage,
  ReplyMode,
  type AgentDesktopServiceClient,
  type Interaction,
  type Offer,
} from '@mailroute/contracts';

/** Codes a desktop retries on: the replica is gone or restarting, or cut the call while going away. */
const transientCodes = new Set([
  Status.UNAVAILABLE,
  Status.DEADLINE_EXCEEDED,
  Status.CANCELLED,
  Status.ABORTED,
  Status.UNKNOWN,
  Status.INTERNAL,
]);
/** Besides those codes, a call cut short: by the desktop's own per-call timeout (TimeoutError) or an abort. */
const isTransient = (error: unknown): boolean =>
  error instanceof ClientError
    ? transientCodes.has(error.code)
    : ['AbortError', 'TimeoutError'].includes((error as Error | undefined)?.name ?? '');
const codeOf = (error: unknown): string =>
  error instanceof ClientError ? Status[error.code] : String((error as Error | undefined)?.name ?? error);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How an agent came to hold an interaction: its own Accept call, or the router telling it (a reconnect's snapshot, an assignment event). */
export type HoldSource = 'accept' | 'snapshot' | 'assignment';

/** An offer a desktop was shown but had not acted on when its stream ended. */
export interface LostOffer {
  agentId: string;
  offerId: string;
  interactionId: string;
  /** The label of the replica whose stream showed it (see SimulatedAgentOptions.replicaLabel). */
  replica: string;
}

/**
 * What the simulated desktops saw and did, shared by all of them: the test's evidence from the
 * agents' side (who holds what, when, and what every call answered).
 */
export class DesktopLedger {
  /** interaction → every (agent, how) that came to hold it; a correct router gives each interaction one agent. */
  readonly holders = new Map<string, { agentId: string; source: HoldSource; offerId: string }[]>();
  /** Interactions whose Complete call succeeded. */
  readonly completed = new Set<string>();
  /** Interactions whose Reply call succeeded (send id per interaction). */
  readonly replied = new Map<string, string>();
  /** agent → interactions it works on now (from holding to the moment it asks to complete). */
  readonly holding = new Map<string, Set<string>>();
  /** agent → the most interactions it worked on at once. */
  readonly peakHeld = new Map<string, number>();
  /** "agent held n > capacity" findings. */
  readonly overCapacity: string[] = [];
  /** Offers shown on a stream and never acted on before that stream ended. */
  readonly lostOffers: LostOffer[] = [];
  /** Offers being held back now (see SimulatedAgentOptions.holdOffers), by offer id. */
  readonly heldBack = new Map<string, LostOffer>();
  /** offer id → how many times a stream showed it (an offer repeated by a reconnect's snapshot counts twice). */
  readonly offersShown = new Map<string, number>();
  /** Offer ids whose Accept call succeeded. */
  readonly accepted = new Set<string>();
  /** Accept calls refused (offer lapsed, revoked, …) by status name. */
  readonly refusedAccepts = new Map<string, number>();
  /** Streams opened per agent (1 + reconnects). */
  readonly connects = new Map<string, number>();
  /** Snapshots received per agent (streams the router set up). */
  readonly snapshots = new Map<string, number>();
  /** When each agent's first stream was set up (its first snapshot), ms since the epoch. */
  readonly firstSnapshotAt = new Map<string, number>();
  /** Offers shown per agent (repeats included). */
  readonly offersPerAgent = new Map<string, number>();
  /** Calls that failed for good (not transient, or out of attempts), for the test's report. */
  readonly failures: string[] = [];

  holdersOf(interactionId: string): string[] {
    return [...new Set((this.holders.get(interactionId) ?? []).map((entry) => entry.agentId))];
  }

  private noteHold(interactionId: string, agentId: string, source: HoldSource, offerId: string): void {
    this.holders.set(interactionId, [...(this.holders.get(interactionId) ?? []), { agentId, source, offerId }]);
  }

  /** @internal the simulator's bookkeeping */
  startHolding(agentId: string, capacity: number, interactionId: string, source: HoldSource, offerId: string): void {
    this.noteHold(interactionId, agentId, source, offerId);
    const now = this.holding.get(agentId) ?? new Set<string>();
    now.add(interactionId);
    this.holding.set(agentId, now);
    this.peakHeld.set(agentId, Math.max(this.peakHeld.get(agentId) ?? 0, now.size));
    if (now.size > capacity) this.overCapacity.push(`${agentId} held ${now.size} > ${capacity}: ${[...now].join(', ')}`);
  }

  /** @internal */
  stopHolding(agentId: string, interactionId: string): void {
    this.holding.get(agentId)?.delete(interactionId);
  }

  /** @internal */
  count(map: Map<string, number>, key: string): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}

export interface SimulatedAgentOptions {
  agentId: string;
  /** The agent's capacity as configured (the ledger flags any moment it holds more). */
  capacity: number;
  /** A desktop client on the replica to use now: called for every stream and every call attempt (a load balancer's choice). */
  client(): AgentDesktopServiceClient;
  /** A name for the replica `client()` would answer now (recorded with lost offers). */
  replicaLabel(): string;
  ledger: DesktopLedger;
  /** Ends the agent (its stream and its retries). */
  signal: AbortSignal;
  /** While true, offers are shown but not acted on (they stay pending on the router); checked when each offer arrives and again every 100 ms. */
  holdOffers?: () => boolean;
  /** How long the agent works on an interaction before replying, ms. Default 50-250 ms. */
  handlingMs?: () => number;
  /** Reconnect delay after a stream ends, ms. Default 200. */
  reconnectDelayMs?: number;
  /** Attempts of one call on transient errors before giving up. Default 40 (250 ms apart). */
  maxAttempts?: number;
}

/**
 * One agent desktop as a real one behaves: a Connect stream (reconnected whenever it ends, through
 * `client()`, which may point elsewhere by then), Accept for every offer it is shown, then after
 * `handlingMs` a Reply (one idempotency key per interaction) and Complete. Interactions the router
 * says it holds (a reconnect's snapshot, an assignment event) are worked on too. Every call is
 * retried on transient errors (each attempt through `client()` again): Accept, Reply and Complete
 * are idempotent, so a retry after a lost answer changes nothing.
 *
 * Capacity from the agent's side: an interaction counts as held from the moment the agent learns it
 * holds it (the Accept answer, the snapshot) until it sends Complete — inside the router's own
 * assigned-to-completed interval, so exceeding the capacity here is a real breach, never an artefact
 * of message timing.
 */
export function runSimulatedAgent(options: SimulatedAgentOptions): Promise<void> {
  const { agentId, ledger, signal } = options;
  const maxAttempts = options.maxAttempts ?? 40;
  /** Asked of the router; a loaded one may take a few seconds to set a stream up. */
  const heartbeatSeconds = 10;
  const handlingMs = options.handlingMs ?? (() => 50 + Math.floor(Math.random() * 200));
  /** Offers acted on (an offer repeated by a snapshot is accepted once). */
  const acted = new Set<string>();
  /** Interactions worked on (whichever way the agent learned it holds them). */
  const working = new Set<string>();

  async function call<T>(
    what: string,
    action: (client: AgentDesktopServiceClient, signal: AbortSignal) => Promise<T>,
    options_: { retryPrecondition?: boolean } = {},
  ): Promise<T> {
    let preconditionRetries = options_.retryPrecondition ? 5 : 0;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await action(options.client(), AbortSignal.any([signal, AbortSignal.timeout(20_000)]));
      } catch (error) {
        // Under contention the router answers FAILED_PRECONDITION "keeps changing; try again" (retryable).
        const precondition =
          error instanceof ClientError && error.code === Status.FAILED_PRECONDITION && preconditionRetries-- > 0;
        if (signal.aborted || attempt >= maxAttempts || !(isTransient(error) || precondition)) {
          throw Object.assign(
            new Error(`${agentId} ${what}: ${codeOf(error)} after ${attempt} attempt(s): ${(error as Error).message}`),
            { cause: error },
          );
        }
        await sleep(250);
      }
    }
  }

  function work(interaction: Interaction, source: HoldSource, offerId: string): void {
    const id = interaction.interactionId;
    if (working.has(id)) return;
    working.add(id);
    ledger.startHolding(agentId, options.capacity, id, source, offerId);
    void (async () => {
      await sleep(handlingMs());
      const answer = await call(
        `reply ${id}`,
        (client, callSignal) =>
          client.reply(
            {
              idempotencyKey: `crash-${id}`,
              interactionId: id,
              content: OutgoingMessage.fromPartial({ bodyText: `Thanks for writing about ${interaction.subject}.` }),
              mode: ReplyMode.REPLY_MODE_REPLY,
              replyToGraphMessageId: '',
              completeAfterSend: false,
            },
            { signal: callSignal },
          ),
        { retryPrecondition: true },
      );
      ledger.replied.set(id, answer.sendId);
      ledger.stopHolding(agentId, id);
      await call(
        `complete ${id}`,
        (client, callSignal) => client.complete({ interactionId: id, dispositionCode: 'done', note: '' }, { signal: callSignal }),
        { retryPrecondition: true },
      );
      ledger.completed.add(id);
    })().catch((error: unknown) => {
      if (!signal.aborted) ledger.failures.push(String((error as Error).message));
    });
  }

  async function accept(offer: Offer): Promise<void> {
    const interactionId = offer.interaction?.interactionId ?? '';
    try {
      const answer = await call(`accept ${offer.offerId}`, (client, callSignal) =>
        client.accept({ offerId: offer.offerId }, { signal: callSignal }),
      );
      ledger.accepted.add(offer.offerId);
      if (answer.interaction) work(answer.interaction, 'accept', offer.offerId);
    } catch (error) {
      // A lapsed or revoked offer: the router offers the interaction again (maybe to this agent).
      ledger.count(ledger.refusedAccepts, codeOf((error as Error).cause));
      if (!isTransient((error as Error).cause)) return;
      ledger.failures.push(`${(error as Error).message} (interaction ${interactionId})`);
    }
  }

  /** Acts on an offer shown on `stream`; an offer held back until the stream ended is dropped with it (the desktop forgets it). */
  async function onOffer(offer: Offer, stream: { ended: boolean; replica: string }): Promise<void> {
    ledger.count(ledger.offersShown, offer.offerId);
    ledger.count(ledger.offersPerAgent, agentId);
    if (acted.has(offer.offerId)) return;
    const shown: LostOffer = {
      agentId,
      offerId: offer.offerId,
      interactionId: offer.interaction?.interactionId ?? '',
      replica: stream.replica,
    };
    if (options.holdOffers?.()) {
      ledger.heldBack.set(offer.offerId, shown);
      while (options.holdOffers() && !stream.ended && !signal.aborted) await sleep(100);
      ledger.heldBack.delete(offer.offerId);
    }
    if (acted.has(offer.offerId) || signal.aborted) return;
    if (stream.ended) {
      ledger.lostOffers.push(shown);
      return;
    }
    acted.add(offer.offerId);
    await accept(offer);
  }

  return (async () => {
    while (!signal.aborted) {
      const connection = new AbortController();
      const stop = () => connection.abort();
      signal.addEventListener('abort', stop, { once: true });
      const current = { ended: false, replica: options.replicaLabel() };
      ledger.count(ledger.connects, agentId);
      // A desktop reconnects after three heartbeat intervals of silence (a half-open connection).
      let silence: NodeJS.Timeout | undefined;
      const heard = () => {
        clearTimeout(silence);
        silence = setTimeout(stop, 3 * heartbeatSeconds * 1_000);
      };
      try {
        heard();
        const stream = options.client().connect(
          {
            clientInstanceId: `desk-${agentId}`,
            initialPresence: AgentPresence.AGENT_PRESENCE_AVAILABLE,
            heartbeatInterval: { seconds: heartbeatSeconds, nanos: 0 },
          },
          { signal: connection.signal },
        );
        for await (const message of stream) {
          heard();
          const event = message.event;
          if (event?.$case === 'snapshot') {
            ledger.count(ledger.snapshots, agentId);
            if (!ledger.firstSnapshotAt.has(agentId)) ledger.firstSnapshotAt.set(agentId, Date.now());
            for (const interaction of event.value.assigned) work(interaction, 'snapshot', '');
            for (const offer of event.value.pendingOffers) void onOffer(offer, current);
          } else if (event?.$case === 'offer') void onOffer(event.value, current);
          else if (event?.$case === 'assignment' && event.value.interaction) work(event.value.interaction, 'assignment', '');
        }
      } catch {
        // the replica went away (killed, draining) or the stream was silent: connect again below
      } finally {
        current.ended = true;
        clearTimeout(silence);
        signal.removeEventListener('abort', stop);
      }
      if (!signal.aborted) await sleep(options.reconnectDelayMs ?? 200);
    }
  })();
}
