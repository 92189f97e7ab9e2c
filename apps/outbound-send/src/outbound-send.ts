import { AutomationFlags, SendOrigin, ActorKind } from '@mailroute/contracts';
import {
  createGraphMailClient,
  createGraphSendClient,
  createMailboxLimiter,
  type GraphThrottleObserver,
  type GraphTokenProvider,
  type MailboxLimiter,
} from '@mailroute/graph-mail';
import { events, eventTopics, fromEventMessage, type EventBus, type Subscription } from '@mailroute/messaging';
import { createBlobSweeper, ReplicaLiveness } from '@mailroute/persistence';
import type { Logger } from '@mailroute/platform';
import { createOutboundSendHandlers } from './handlers/outbound-send.handler';
import type { MailboxDirectory } from './mailboxes/mailbox-directory';
import {
  createSendEngine,
  isFinalState,
  type SendEngine,
  type SendEngineEvents,
  type SendEngineOptions,
} from './send/send-engine';
import { createSendRateLimiter } from './send/send-rate-limiter';
import type { OutboundSendStores } from './store/outbound-send.stores';
import { defaultOutboundSendOptions } from './outbound-send-defaults';

/** Tunables of the service; every field has a default. */
export interface OutboundSendOptions {
  engine?: Partial<SendEngineOptions>;
  /** Consumer group of the outbound-request consumers. Default "outbound-send". */
  groupId?: string;
  /** Concurrent Graph requests per mailbox for sending (mailbox-fetch uses 3 of Outlook's 4). Default 1. */
  graphConcurrencyPerMailbox?: number;
  graphConcurrencyGlobal?: number;
  /** Messages per mailbox per `sendRateWindowMs`. Default 30 per 60 s (Exchange Online's limit). */
  sendRatePerWindow?: number;
  sendRateWindowMs?: number;
  /** How often parked sends are checked. Default 1 s. */
  dueIntervalMs?: number;
  /** Graph request timeout. Default 30 s. */
  graphRequestTimeoutMs?: number;
  /** Attachments above this go through an upload session. Default 3,000,000 bytes. */
  inlineAttachmentMaxBytes?: number;
  /** Where a consumer group without committed offsets starts. Default true (nothing published earlier is lost). */
  fromBeginning?: boolean;
  /** A replica without a heartbeat this long is gone: its stranded attempts are resolved at once. Default 30 s. */
  replicaDeadAfterMs?: number;
  /** How long an UploadAttachment upload no send references is kept. Default 24 hours. */
  uploadTtlMs?: number;
  /** How often expired uploads are deleted. Default 5 minutes. */
  uploadSweepIntervalMs?: number;
}

/** The adapters outbound-send runs on: a host (its own main.ts, or an all-in-one process) builds them. */
export interface OutboundSendAdapters {
  stores: OutboundSendStores;
  bus: EventBus;
  tokens: GraphTokenProvider;
  mailboxes: MailboxDirectory;
  logger: Logger;
  replicaId: string;
  /** Shared Graph limiter of the process (an all-in-one host passes one per app + mailbox budget). */
  limiter?: MailboxLimiter;
  events?: SendEngineEvents;
  /** Sees Graph's throttling answers (429, 503 with Retry-After) to sends and Sent Items reads: metrics. */
  onThrottled?: GraphThrottleObserver;
  clock?: () => number;
  options?: OutboundSendOptions;
}

export interface OutboundSend {
  engine: SendEngine;
  handlers: ReturnType<typeof createOutboundSendHandlers>;
  /** Creates missing topics, starts the consumers and the due-send timer. */
  start(): Promise<void>;
  /** True once both consumers own partitions (tests wait for it before publishing). */
  assigned(): boolean;
  /** Stops consumers (the message in flight gets its grace) and the timer. */
  stop(): Promise<void>;
}

/**
 * The outbound-send service under the gRPC server (`compose.ts` puts the two together): Graph clients,
 * send engine, handlers, the consumers of outbound requests and of the interaction view, the due-send
 * timer, heartbeats, the upload sweeper. Adapters in, a startable service out; no I/O until start().
 */
export function createOutboundSend(adapters: OutboundSendAdapters): OutboundSend {
  const options = adapters.options ?? {};
  const { logger, bus, stores } = adapters;
  const limiter =
    adapters.limiter ??
    createMailboxLimiter({
      perMailbox: options.graphConcurrencyPerMailbox ?? defaultOutboundSendOptions.graphConcurrencyPerMailbox,
      global: options.graphConcurrencyGlobal ?? defaultOutboundSendOptions.graphConcurrencyGlobal,
    });
  const graph = createGraphSendClient({
    tokens: adapters.tokens,
    limiter,
    logger,
    ...(options.graphRequestTimeoutMs ? { requestTimeoutMs: options.graphRequestTimeoutMs } : {}),
    ...(options.inlineAttachmentMaxBytes ? { inlineAttachmentMaxBytes: options.inlineAttachmentMaxBytes } : {}),
    ...(adapters.onThrottled ? { onThrottled: adapters.onThrottled } : {}),
  });
  const mail = createGraphMailClient({
    tokens: adapters.tokens,
    limiter,
    logger,
    maxAttempts: 2,
    ...(options.graphRequestTimeoutMs ? { requestTimeoutMs: options.graphRequestTimeoutMs } : {}),
    ...(adapters.onThrottled ? { onThrottled: adapters.onThrottled } : {}),
  });
  // Heartbeats in os_replicas (ReplicaLiveness, libs/persistence): attempt markers name this process's
  // incarnation, so another replica resolves them at once when this process is gone.
  const liveness = new ReplicaLiveness(
    stores.replicas,
    adapters.replicaId,
    options.replicaDeadAfterMs ?? defaultOutboundSendOptions.replicaDeadAfterMs,
    adapters.clock ?? Date.now,
  );
  const heartbeatMs = Math.max(200, Math.floor(liveness.ttlMs / 6));
  const engine = createSendEngine({
    stores,
    bus,
    graph,
    mail,
    mailboxes: adapters.mailboxes,
    rate: createSendRateLimiter({
      perWindow: options.sendRatePerWindow ?? defaultOutboundSendOptions.sendRatePerWindow,
      windowMs: options.sendRateWindowMs ?? defaultOutboundSendOptions.sendRateWindowMs,
    }),
    logger,
    replicaId: adapters.replicaId,
    liveness,
    ...(options.engine ? { options: options.engine } : {}),
    ...(adapters.clock ? { clock: adapters.clock } : {}),
    ...(adapters.events ? { events: adapters.events } : {}),
  });
  const handlers = createOutboundSendHandlers({
    stores,
    engine,
    bus,
    mailboxes: adapters.mailboxes,
    ...(options.uploadTtlMs ? { uploadTtlMs: options.uploadTtlMs } : {}),
    ...(adapters.clock ? { clock: adapters.clock } : {}),
  });
  const sweeper = createBlobSweeper({
    blobs: stores.blobs,
    logger,
    intervalMs: options.uploadSweepIntervalMs ?? defaultOutboundSendOptions.uploadSweepIntervalMs,
    ...(adapters.clock ? { clock: adapters.clock } : {}),
  });
  const subscriptions: Subscription[] = [];
  let timer: NodeJS.Timeout | undefined;
  let dueRunning: Promise<unknown> | undefined;

  return {
    engine,
    handlers,
    async start() {
      // Before any drive: attempt markers of this process name an instance the other replicas can check.
      await liveness.beat();
      liveness.keepBeating(heartbeatMs, {
        onBeat: ({ lapsed, lapsedIncarnation }) => {
          if (lapsed)
            logger.warn(
              { lapsedIncarnation, incarnation: liveness.incarnation },
              'outbound-send: replica heartbeat lapsed; continuing as a new incarnation',
            );
          // Superseded while beating: a later process runs under the same replica id.
          void liveness
            .isGone(liveness.replicaId, liveness.incarnation)
            .then(
              (gone) =>
                gone &&
                logger.error(
                  { replicaId: liveness.replicaId },
                  'outbound-send: another live process uses this replica id (OUTBOUND_SEND_REPLICA_ID must be unique per process)',
                ),
            )
            .catch(() => undefined);
        },
        onError: (error) => logger.warn({ err: error }, 'outbound-send: replica heartbeat failed'),
      });
      await bus.ensureTopics(eventTopics('outboundRequest', 'outboundResult', 'inboundEmail', 'interactionStateChanged'));
      const groupId = options.groupId ?? defaultOutboundSendOptions.groupId;
      subscriptions.push(
        await bus.subscribe({
          groupId: `${groupId}-interactions`,
          fromBeginning: options.fromBeginning ?? defaultOutboundSendOptions.fromBeginning,
          // The router's state changes too: who holds an interaction (SendReply's supervisor_override check).
          topics: [events.inboundEmail.topic, events.interactionStateChanged.topic],
          handler: async (message) => {
            if (message.topic === events.interactionStateChanged.topic) {
              const change = fromEventMessage('interactionStateChanged', message);
              const key = `${change.tenantId}/${change.interactionId}`;
              const known = await stores.holders.get(key);
              if (known && known.version >= change.version) return;
              await stores.holders.put(key, {
                version: change.version,
                state: change.state,
                agentId: change.interaction?.agentId ?? '',
                offeredAgentId: change.interaction?.offeredAgentId ?? '',
              });
              return;
            }
            const inbound = fromEventMessage('inboundEmail', message);
            const receivedAt = inbound.message?.receivedAt?.getTime() ?? 0;
            const key = `${inbound.tenantId}/${inbound.interactionId}`;
            const known = await stores.interactions.get(key);
            if (known && known.latestReceivedAt > receivedAt) return;
            await stores.interactions.put(key, {
              mailboxId: inbound.mailboxId,
              mailboxAddress: inbound.mailboxAddress,
              latestGraphMessageId: inbound.message?.graphMessageId ?? '',
              latestReceivedAt: receivedAt,
              automation: AutomationFlags.toJSON(inbound.message?.automation ?? AutomationFlags.fromPartial({})),
            });
          },
        }),
      );
      subscriptions.push(
        await bus.subscribe({
          groupId,
          fromBeginning: options.fromBeginning ?? defaultOutboundSendOptions.fromBeginning,
          topics: [events.outboundRequest.topic],
          handler: async (message, signal) => {
            const request = fromEventMessage('outboundRequest', message);
            const origin =
              request.requestedBy?.kind === ActorKind.ACTOR_KIND_AGENT
                ? SendOrigin.SEND_ORIGIN_AGENT
                : SendOrigin.SEND_ORIGIN_API;
            const record = await engine.intake(request, origin);
            if (isFinalState(record.state)) await engine.drive(record.tenantId, record.sendId, signal);
            else await engine.enqueue(record.tenantId, record.sendId);
          },
        }),
      );
      timer = setInterval(() => {
        dueRunning ??= engine
          .pump()
          .catch((error: unknown) => logger.warn({ err: error }, 'outbound-send: due sends scan failed'))
          .finally(() => {
            dueRunning = undefined;
          });
      }, options.dueIntervalMs ?? defaultOutboundSendOptions.dueIntervalMs);
      timer.unref();
      sweeper.start();
    },
    assigned() {
      return (
        subscriptions.length === 2 &&
        subscriptions.every((subscription) => subscription.assignments().some((assignment) => assignment.partitions.length > 0))
      );
    },
    async stop() {
      if (timer) clearInterval(timer);
      await sweeper.stop();
      await Promise.all(subscriptions.splice(0).map((subscription) => subscription.close()));
      await dueRunning;
      await engine.close();
      await liveness
        .stop()
        .catch((error: unknown) => logger.warn({ err: error }, 'outbound-send: could not record the clean stop'));
    },
  };
}
