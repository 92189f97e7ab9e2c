import type { Meter, ObservableResult } from '@opentelemetry/api';
import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from '@mailroute/platform';

/** A consumer group of this process and what it reads. */
interface LaggingGroup {
  groupId: string;
  topics: readonly string[];
  /** Where a group without a committed offset starts: the partition's start (default) or its end. */
  fromBeginning?: boolean | undefined;
}

/** Where the bus exports consumer lag. */
export interface ConsumerLagSettings {
  meter: Meter;
  /** How often the offsets are read from the brokers. Default 15 s. */
  intervalMs?: number;
}

interface ConsumerLagOptions extends ConsumerLagSettings {
  kafka: Kafka;
  /** The groups to measure, asked on every refresh (subscriptions come and go). */
  groups: () => readonly LaggingGroup[];
  logger?: Logger | undefined;
}

export interface ConsumerLagMonitor {
  /** Reads the offsets now (the timer calls it every `intervalMs`). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

type LagPoint = { consumer_group: string; topic: string; partition: string; lag: number };

/**
 * `mailroute_kafka_consumer_lag{consumer_group, topic, partition}`: messages in a partition that the
 * group has not committed yet (high watermark − committed offset), for the groups this process
 * consumes with. Every replica of a service exports the lag of all partitions of its groups (not
 * only the ones assigned to it), so a partition nobody consumes still shows; aggregate with
 * `max by (consumer_group, topic, partition)`. Read from the brokers' offsets every `intervalMs`
 * with one admin connection, never at scrape time (a scrape during a Kafka outage must not hang);
 * a failed read keeps the last figures and logs a warning.
 */
export function startConsumerLagMonitor(options: ConsumerLagOptions): ConsumerLagMonitor {
  let points: LagPoint[] = [];
  let admin: Admin | undefined;
  let refreshing: Promise<void> | undefined;
  let closed = false;
  const gauge = options.meter.createObservableGauge('mailroute_kafka_consumer_lag', {
    description: 'Messages not yet committed by the consumer group, per topic partition (high watermark − committed offset)',
  });
  const observe = (result: ObservableResult) => {
    for (const { lag, ...attributes } of points) result.observe(lag, attributes);
  };
  gauge.addCallback(observe);

  const readOnce = async (): Promise<void> => {
    if (!admin) {
      const connecting = options.kafka.admin();
      await connecting.connect();
      if (closed) {
        await connecting.disconnect();
        return;
      }
      admin = connecting;
    }
    const groups = uniqueGroups(options.groups());
    const topics = [...new Set(groups.flatMap((group) => group.topics))];
    const ends = new Map<string, { partition: number; high: number; low: number }[]>();
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic);
      ends.set(
        topic,
        offsets.map((o) => ({ partition: o.partition, high: Number(o.high), low: Number(o.low) })),
      );
    }
    const next: LagPoint[] = [];
    for (const group of groups) {
      const committed = await admin.fetchOffsets({ groupId: group.groupId, topics: [...group.topics] });
      for (const { topic, partitions } of committed) {
        const byPartition = new Map(partitions.map((p) => [p.partition, Number(p.offset)]));
        for (const end of ends.get(topic) ?? []) {
          const offset = byPartition.get(end.partition) ?? -1;
          const start = offset >= 0 ? offset : group.fromBeginning === false ? end.high : end.low;
          next.push({
            consumer_group: group.groupId,
            topic,
            partition: String(end.partition),
            lag: Math.max(0, end.high - start),
          });
        }
      }
    }
    points = next;
  };

  const refresh = (): Promise<void> => {
    refreshing ??= readOnce()
      .catch(async (error: unknown) => {
        options.logger?.warn({ err: error }, 'kafka: could not read consumer lag; keeping the last figures');
        const broken = admin;
        admin = undefined;
        await broken?.disconnect().catch(() => undefined);
      })
      .finally(() => {
        refreshing = undefined;
      });
    return refreshing;
  };

  const timer = setInterval(() => {
    if (!closed) void refresh();
  }, options.intervalMs ?? 15_000);
  timer.unref();

  return {
    refresh,
    async close() {
      closed = true;
      clearInterval(timer);
      gauge.removeCallback(observe);
      await refreshing;
      await admin?.disconnect().catch(() => undefined);
      admin = undefined;
    },
  };
}

function uniqueGroups(groups: readonly LaggingGroup[]): LaggingGroup[] {
  const byId = new Map<string, LaggingGroup>();
  for (const group of groups) {
    const seen = byId.get(group.groupId);
    byId.set(
      group.groupId,
      seen ? { ...seen, topics: [...new Set([...seen.topics, ...group.topics])] } : { ...group, topics: [...group.topics] },
    );
  }
  return [...byId.values()];
}
