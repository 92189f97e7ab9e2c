// One consumer-group subscription of the Kafka event bus: joins, consumes batches through the shared
// delivery rules (redelivery, dead letters), heartbeats while a handler waits, and closes with a grace.
import type { Consumer } from 'kafkajs';
import { deliver, redeliveryOf } from '../delivery';
import { BusClosedError } from '../errors';
import { toStringHeaders } from './kafka-headers';
import type { KafkaEventBus } from './kafka-event-bus';
import { defaultCloseGraceMs, type PartitionAssignment, type SubscribeOptions, type Subscription } from '../ports/event-bus.port';

export class KafkaSubscription implements Subscription {
  private readonly stopping = new AbortController();
  private readonly abortHandlers = new AbortController();
  private assigned: PartitionAssignment[] = [];
  private closing: Promise<void> | undefined;

  constructor(
    private readonly consumer: Consumer,
    readonly options: SubscribeOptions,
    private readonly bus: KafkaEventBus,
    private readonly onClosed: () => void,
  ) {}

  async start(partitionsConsumedConcurrently: number): Promise<void> {
    const { consumer, options } = this;
    // Reported from the first fetch after a join, not the join itself: kafkajs fixes a new group's
    // starting offsets (the latest, without fromBeginning) in that fetch, so a message published before
    // it would be skipped although assignments() already showed the partition. Partitions taken away
    // are dropped at once.
    let joined: PartitionAssignment[] | undefined;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assignment = Object.entries(event.payload.memberAssignment).map(([topic, partitions]) => ({
        topic,
        partitions: [...partitions].sort((a, b) => a - b),
      }));
      joined = assignment;
      this.assigned = this.assigned.flatMap(({ topic, partitions }) => {
        const kept = partitions.filter((p) => assignment.some((a) => a.topic === topic && a.partitions.includes(p)));
        return kept.length ? [{ topic, partitions: kept }] : [];
      });
    });
    consumer.on(consumer.events.FETCH, () => {
      if (!joined) return;
      this.assigned = joined;
      joined = undefined;
    });
    consumer.on(consumer.events.CRASH, (event) => {
      joined = undefined;
      this.assigned = [];
      this.bus.logger?.error({ err: event.payload.error, groupId: options.groupId }, 'kafka: consumer crashed');
    });
    await this.bus.untilAvailable(
      `subscription of ${options.groupId}`,
      async () => {
        await consumer.connect();
        await consumer.subscribe({ topics: [...options.topics], fromBeginning: options.fromBeginning ?? true });
      },
      this.stopping.signal,
    );
    if (this.stopping.signal.aborted) throw new BusClosedError('subscribe');
    await consumer.run({
      autoCommit: true,
      autoCommitInterval: 500,
      autoCommitThreshold: 100,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
        for (const message of batch.messages) {
          if (!isRunning() || isStale() || this.stopping.signal.aborted) return;
          // kafkajs heartbeats only between messages; a handler that waits on a dependency (a store
          // outage, retried in place) must not cost the member its partitions.
          const beating = setInterval(() => void heartbeat().catch(() => undefined), this.bus.heartbeatIntervalMs);
          const outcome = await deliver(
            {
              topic: batch.topic,
              partition: batch.partition,
              offset: message.offset,
              key: message.key?.toString() ?? '',
              value: message.value ?? Buffer.alloc(0),
              headers: toStringHeaders(message.headers),
            },
            {
              handler: options.handler,
              ...redeliveryOf(options),
              signal: this.abortHandlers.signal,
              deadLetter: (topic, deadLetter) => this.bus.publishInternal(topic, deadLetter),
              logger: this.bus.logger,
            },
          ).finally(() => clearInterval(beating));
          if (outcome === 'aborted') return;
          resolveOffset(message.offset);
          await commitOffsetsIfNecessary();
          await heartbeat();
        }
      },
    });
  }

  assignments(): PartitionAssignment[] {
    return this.assigned.map((a) => ({ topic: a.topic, partitions: [...a.partitions] }));
  }

  close(options: { graceMs?: number } = {}): Promise<void> {
    this.closing ??= (async () => {
      this.stopping.abort();
      const grace = setTimeout(() => this.abortHandlers.abort(), options.graceMs ?? defaultCloseGraceMs);
      try {
        await this.consumer.disconnect();
        if (this.options.ephemeralGroup) await this.bus.deleteGroup(this.options.groupId);
      } finally {
        clearTimeout(grace);
        this.assigned = [];
        this.onClosed();
      }
    })();
    return this.closing;
  }
}
