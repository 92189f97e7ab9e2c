/** A message to publish. The key decides the partition, so messages with one key stay in order. */
export interface OutgoingMessage {
  key: string;
  value: Uint8Array;
  /** Application headers (string values). Trace context is added by the bus. */
  headers?: Record<string, string>;
}

/** A message handed to a handler. */
export interface DeliveredMessage {
  topic: string;
  partition: number;
  /** Offset within the partition, as a decimal string (Kafka offsets are 64-bit). */
  offset: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  /** 1 on first delivery to this consumer, then 2, 3… while the handler keeps failing. */
  attempt: number;
}

/**
 * Handles one message. Resolve to commit it; throw to have it redelivered (a retryable error is
 * retried until it succeeds, any other error `maxAttempts` times and then dead-lettered). The
 * signal aborts when the subscription closes and its grace period runs out: stop work, don't commit.
 */
export type MessageHandler = (message: DeliveredMessage, signal: AbortSignal) => Promise<void>;

export interface SubscribeOptions {
  /** Consumers with one group id share the topic's partitions; each message goes to one of them. */
  groupId: string;
  topics: readonly string[];
  handler: MessageHandler;
  /** Where a group with no committed offset starts. Default true: nothing published earlier is lost. */
  fromBeginning?: boolean;
  /** Attempts for a message failing with a non-retryable error before dead-lettering. Default 3 (`defaultRedelivery`). */
  maxAttempts?: number;
  /** First redelivery delay (the project's backoff: doubles, equal jitter, up to 30 s). Default 200 ms (`defaultRedelivery`). */
  retryBackoffMs?: number;
  /**
   * The group belongs to this subscription alone (a per-replica group, e.g. named after the pod):
   * closing the subscription deletes the group and its offsets, so a drained pod leaves nothing
   * behind for Kafka to expire. Default false.
   */
  ephemeralGroup?: boolean;
}

export interface PartitionAssignment {
  topic: string;
  partitions: number[];
}

/** How long a closing subscription's handler in flight may take before its signal aborts (every adapter). */
export const defaultCloseGraceMs = 10_000;

export interface Subscription {
  /** Partitions this consumer currently owns. */
  assignments(): PartitionAssignment[];
  /**
   * Stops consuming: the handler in flight gets `graceMs` (default {@link defaultCloseGraceMs}) to finish and be committed;
   * after that its signal aborts and the message is left uncommitted for the next owner.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/**
 * The event-bus port: publish with key and headers; consume as a consumer group; commit after the
 * handler succeeds; at-least-once delivery. Handlers must be idempotent.
 */
export interface EventBus {
  /** Creates topics that don't exist yet with the given partition count. */
  ensureTopics(topics: readonly { topic: string; partitions: number }[]): Promise<void>;
  /** Resolves once every message is durably accepted (all in-sync replicas for Kafka). */
  publish(topic: string, messages: OutgoingMessage | readonly OutgoingMessage[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Closes every subscription (with its default grace) and the producer. */
  close(): Promise<void>;
}

/** The topic a message goes to after failing `maxAttempts` times with a non-retryable error. */
export function deadLetterTopic(topic: string): string {
  return `${topic}.dead-letter`;
}

/** Headers the bus itself sets on a dead-lettered message. */
export const deadLetterHeaders = {
  error: 'x-mailroute-error',
  attempts: 'x-mailroute-attempts',
  originalTopic: 'x-mailroute-original-topic',
  originalPartition: 'x-mailroute-original-partition',
  originalOffset: 'x-mailroute-original-offset',
} as const;
