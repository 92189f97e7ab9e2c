import { Kafka, logLevel as KafkaLogLevel, type Admin, type KafkaConfig, type Producer, Partitioners } from 'kafkajs';
import { ConfigError, withRetry, type Logger } from '@mailroute/platform';
import { publishTraced } from '../delivery';
import { BusClosedError, BusUnavailableError } from '../errors';
import { startConsumerLagMonitor, type ConsumerLagMonitor, type ConsumerLagSettings } from './kafka-consumer-lag';
import { KafkaSubscription } from './kafka-subscription';
import { toKafkaConfigError, type KafkaSecurity } from './kafka-security';
import { fixKafkajsRequestQueue } from './kafkajs-request-queue';
import type { EventBus, OutgoingMessage, SubscribeOptions, Subscription } from '../ports/event-bus.port';

export interface KafkaEventBusOptions {
  /** `host:port` of one or more brokers. */
  brokers: readonly string[];
  /** Client id reported to the brokers, e.g. the service name. */
  clientId: string;
  logger?: Logger;
  /** Partitions consumed in parallel by one subscription (order still holds within each). Default 1. */
  partitionsConsumedConcurrently?: number;
  /**
   * How long a fetch waits on an idle partition. Bounds the delay before a new message is seen.
   * Default 500 ms (kafkajs' own default of 5 s would add seconds to every routing decision).
   */
  maxWaitTimeMs?: number;
  /**
   * A consumer that misses heartbeats this long is presumed dead and its partitions move; it is also
   * how long a restarted replica's group waits for the crashed member it replaces. Heartbeats go
   * every tenth of it, also while a handler runs. Default 10 s.
   */
  sessionTimeoutMs?: number;
  /** How often a member heartbeats (also while a handler runs); under a third of the session timeout. Default a tenth of it, at least 500 ms. */
  heartbeatIntervalMs?: number | undefined;
  /**
   * Backoff of the client's retries (connecting, fetching, joining, restarting a crashed consumer):
   * exponential from `initialDelayMs`, never longer than `maxDelayMs`, so the client tries a broker
   * that came back within `maxDelayMs` (kafkajs' own cap of 30 s kept consumers away for up to
   * that long). Defaults 250 ms and 2 s.
   */
  retry?: { initialDelayMs?: number; maxDelayMs?: number };
  /**
   * TLS and SASL (kafkaSecurityFromConfig). A broker that rejects them — credentials refused, its certificate not trusted —
   * fails start-up with a ConfigError naming the variable to fix, not retried like a broker that is away. Default: plaintext.
   */
  security?: KafkaSecurity;
  /** Exports `mailroute_kafka_consumer_lag` of this bus's consumer groups (kafka-consumer-lag.ts). */
  consumerLag?: ConsumerLagSettings;
  /** Extra kafkajs settings (timeouts). */
  kafka?: Omit<KafkaConfig, 'brokers' | 'clientId' | 'logCreator' | 'ssl' | 'sasl'>;
}

// Before any connection exists: kafkajs 2.2.4 would poll every idle connection's request queue each millisecond.
fixKafkajsRequestQueue();

const plaintext: KafkaSecurity = {
  summary: { tls: false },
  variables: { credentials: 'KAFKA_SASL_MECHANISM', trust: 'KAFKA_TLS_CA_FILE' },
};

const defaultOptions = {
  partitionsConsumedConcurrently: 1,
  maxWaitTimeMs: 500,
  sessionTimeoutMs: 10_000,
  retry: { initialDelayMs: 250, maxDelayMs: 2_000 },
} satisfies Partial<KafkaEventBusOptions>;

/**
 * The event bus on Apache Kafka (kafkajs). Producer: idempotent, acks from all in-sync replicas,
 * murmur2 key partitioning (same as the Java client). Consumers: one kafkajs consumer per
 * subscription; offsets are resolved only after the handler succeeds and committed at least every
 * 500 ms or 100 messages, and on close — so a crash redelivers at most the uncommitted tail.
 */
export class KafkaEventBus implements EventBus {
  private readonly kafka: Kafka;
  private readonly options: KafkaEventBusOptions &
    typeof defaultOptions & { retry: Required<NonNullable<KafkaEventBusOptions['retry']>> };
  private producer: Producer | undefined;
  private producerReady: Promise<Producer> | undefined;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private closed = false;
  /** Aborted by close(): ends the waits for a broker that is away. */
  private readonly closing = new AbortController();
  private readonly security: KafkaSecurity;
  private lag: ConsumerLagMonitor | undefined;

  constructor(options: KafkaEventBusOptions) {
    if (options.brokers.length === 0) throw new TypeError('KafkaEventBus: brokers must name at least one broker');
    this.options = { ...defaultOptions, ...options, retry: { ...defaultOptions.retry, ...options.retry } };
    const logger = options.logger;
    this.security = options.security ?? plaintext;
    this.kafka = new Kafka({
      ...options.kafka,
      ...(this.security.ssl ? { ssl: this.security.ssl } : {}),
      ...(this.security.sasl ? { sasl: this.security.sasl } : {}),
      retry: { ...this.kafkaRetry(5), ...options.kafka?.retry },
      brokers: [...options.brokers],
      clientId: options.clientId,
      logLevel: KafkaLogLevel.WARN,
      logCreator: () => (entry) => {
        if (!logger) return;
        const { message, ...extra } = entry.log;
        const level = entry.level <= KafkaLogLevel.ERROR ? 'error' : 'warn';
        logger[level]({ kafka: { namespace: entry.namespace, ...extra } }, `kafka: ${message}`);
      },
    });
  }

  /**
   * Creates the topics that are missing and waits until every partition has a leader. While no
   * broker answers it keeps trying (at most `retry.maxDelayMs` apart) until the bus is closed: a
   * service that starts, or restarts, during a broker outage starts its consumers once it is back.
   */
  async ensureTopics(topics: readonly { topic: string; partitions: number }[]): Promise<void> {
    this.assertOpen('ensureTopics');
    await this.untilAvailable('ensure topics', async () => {
      const admin: Admin = this.kafka.admin();
      await admin.connect();
      try {
        await this.ensureTopicsOnce(admin, topics);
      } finally {
        await admin.disconnect();
      }
    });
  }

  private async ensureTopicsOnce(admin: Admin, topics: readonly { topic: string; partitions: number }[]): Promise<void> {
    // A new topic's metadata reaches every broker a moment after CreateTopics returns; under
    // load kafkajs' own leader wait can surface UNKNOWN_TOPIC_OR_PARTITION. So: create what is
    // missing, then wait until every partition has a leader, retrying retriable errors.
    await withRetry(
      async () => {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t.topic));
        if (missing.length > 0) {
          await admin.createTopics({
            waitForLeaders: false,
            topics: missing.map((t) => ({ topic: t.topic, numPartitions: t.partitions })),
          });
        }
        const { topics: metadata } = await admin.fetchTopicMetadata({ topics: topics.map((t) => t.topic) });
        const leaderless = metadata.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
        if (leaderless.length > 0) {
          throw new BusUnavailableError(`kafka: no leader yet for ${leaderless.map((t) => t.name).join(', ')}`);
        }
      },
      { maxAttempts: 30, initialDelayMs: 100, maxDelayMs: 1_000 },
    );
  }

  /**
   * @internal Runs `operation` until it succeeds or the bus is closed, every failure counting as
   * the broker being away (kafkajs gives up on a missing broker with a non-retriable error after
   * its own retries), waiting with the project's backoff at most `retry.maxDelayMs`; `signal` (or
   * closing the bus) ends it with the attempts' errors.
   */
  async untilAvailable<T>(what: string, operation: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const { initialDelayMs, maxDelayMs } = this.options.retry;
    return withRetry(
      async () => {
        try {
          return await operation();
        } catch (error) {
          if (error instanceof ConfigError) throw error;
          throw (
            toKafkaConfigError(error, this.security) ??
            (error instanceof BusUnavailableError ? error : new BusUnavailableError(`kafka: ${what} failed`, error))
          );
        }
      },
      {
        maxAttempts: Number.POSITIVE_INFINITY,
        initialDelayMs,
        maxDelayMs,
        signal: signal ? AbortSignal.any([this.closing.signal, signal]) : this.closing.signal,
        onRetry: (error, attempt, delayMs) =>
          this.options.logger?.warn({ err: error, attempt, delayMs: Math.round(delayMs) }, `kafka: ${what} failed; trying again`),
      },
    );
  }

  /**
   * Connects the producer, waiting for a broker that is away like ensureTopics does; rejects at once
   * with a ConfigError when the brokers refuse the TLS or SASL settings. A service that only
   * publishes calls it at start, so a wrong password stops it instead of surfacing at the first event.
   */
  async connect(): Promise<void> {
    this.assertOpen('connect');
    await this.untilAvailable('connect', () => this.getProducer());
  }

  async publish(topic: string, messages: OutgoingMessage | readonly OutgoingMessage[]): Promise<void> {
    this.assertOpen('publish');
    const list = Array.isArray(messages) ? (messages as readonly OutgoingMessage[]) : [messages as OutgoingMessage];
    if (list.length === 0) return;
    const producer = await this.getProducer();
    await publishTraced(topic, list, async (traced) => {
      try {
        await producer.send({
          topic,
          acks: -1,
          messages: traced.map((message) => ({
            key: message.key,
            value: Buffer.from(message.value),
            headers: message.headers ?? {},
          })),
        });
      } catch (error) {
        throw toKafkaConfigError(error, this.security) ?? new BusUnavailableError(`kafka: publish to ${topic} failed`, error);
      }
    });
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen('subscribe');
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: this.options.maxWaitTimeMs,
      sessionTimeout: this.options.sessionTimeoutMs,
      heartbeatInterval: this.heartbeatIntervalMs,
      // After the retries a consumer crashes and kafkajs restarts it after the last delay (≤ maxDelayMs), for as long as the error is retriable.
      retry: this.kafkaRetry(10),
    });
    const subscription = new KafkaSubscription(consumer, options, this, () => this.subscriptions.delete(subscription));
    this.subscriptions.add(subscription);
    if (this.options.consumerLag && !this.lag) {
      const groups = () => [...this.subscriptions].map((s) => s.options);
      this.lag = startConsumerLagMonitor({ ...this.options.consumerLag, kafka: this.kafka, logger: this.logger, groups });
    }
    await subscription.start(this.options.partitionsConsumedConcurrently);
    return subscription;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    await this.lag?.close();
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
    if (this.producerReady) {
      await this.producerReady.catch(() => undefined);
      await this.producer?.disconnect();
    }
  }

  /** @internal used by subscriptions to dead-letter; bypasses the closed check during draining. */
  async publishInternal(topic: string, message: OutgoingMessage): Promise<void> {
    const producer = await this.getProducer();
    await producer.send({
      topic,
      acks: -1,
      messages: [{ key: message.key, value: Buffer.from(message.value), headers: message.headers ?? {} }],
    });
  }

  /** @internal Deletes an ephemeral subscription's group after its consumer left; one attempt (else Kafka expires it). */
  async deleteGroup(groupId: string): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([groupId]);
    } catch (error) {
      this.options.logger?.warn(
        { err: error, groupId },
        'kafka: could not delete the ephemeral consumer group; Kafka expires it',
      );
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  get logger(): Logger | undefined {
    return this.options.logger;
  }

  /** @internal how often a member heartbeats, also while a handler runs. */
  get heartbeatIntervalMs(): number {
    return this.options.heartbeatIntervalMs ?? Math.max(500, Math.floor(this.options.sessionTimeoutMs / 10));
  }

  private kafkaRetry(retries: number): { initialRetryTime: number; maxRetryTime: number; retries: number } {
    const { initialDelayMs, maxDelayMs } = this.options.retry;
    return { initialRetryTime: initialDelayMs, maxRetryTime: maxDelayMs, retries };
  }

  private getProducer(): Promise<Producer> {
    this.producerReady ??= (async () => {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: true,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      this.producer = producer;
      return producer;
    })().catch((error: unknown) => {
      this.producerReady = undefined;
      throw toKafkaConfigError(error, this.security) ?? new BusUnavailableError('kafka: producer could not connect', error);
    });
    return this.producerReady;
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new BusClosedError(what);
  }
}
