import type { Logger } from '@mailroute/platform';
import { deliver, publishTraced, redeliveryOf } from '../delivery';
import { BusClosedError } from '../errors';
import {
  defaultCloseGraceMs,
  type DeliveredMessage,
  type EventBus,
  type OutgoingMessage,
  type PartitionAssignment,
  type SubscribeOptions,
  type Subscription,
} from '../ports/event-bus.port';
import type { BrokerJournal, JournalMessage } from './broker-journal';

export interface InProcessEventBusOptions {
  /** The broker to connect to; several buses on one broker behave like replicas. Default: a new one. */
  broker?: InProcessBroker;
  logger?: Logger;
}

type StoredMessage = Omit<DeliveredMessage, 'attempt'>;

/** A topic partition: an append-only log plus the loops waiting for its next message. */
class PartitionLog {
  /** The offset of `messages[0]`: above 0 when a journal pruned older messages. */
  base = 0;
  messages: StoredMessage[] = [];
  private waiters: (() => void)[] = [];

  /** The offset the next message gets. */
  get end(): number {
    return this.base + this.messages.length;
  }

  at(offset: number): StoredMessage | undefined {
    return this.messages[offset - this.base];
  }

  append(message: StoredMessage): void {
    this.messages.push(message);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves when a message is appended or the signal aborts. */
  next(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const wake = (): void => {
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.waiters.push(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }
}

/** Consumer-group state: committed offsets and members, with range-free round-robin assignment. */
class Group {
  constructor(readonly id: string) {}
  readonly committed = new Map<string, number>();
  readonly members: InProcessSubscription[] = [];
  /** Rebalances run one at a time. */
  rebalancing: Promise<void> = Promise.resolve();
}

export interface InProcessBrokerOptions {
  /** Partitions of a topic created implicitly (first publish or subscribe). Default 4. */
  defaultPartitions?: number;
  /**
   * Keeps topics, messages and committed offsets across restarts (e.g. a {@link SqliteBrokerJournal}):
   * what was published survives the process, and what no group committed is delivered again.
   * Without one, nothing survives the process.
   */
  journal?: BrokerJournal;
}

/**
 * The in-process "broker": topics as partitioned logs and consumer groups with committed offsets.
 * Several InProcessEventBus instances may share one, like replicas sharing a Kafka cluster.
 */
export class InProcessBroker {
  private readonly topics = new Map<string, PartitionLog[]>();
  private readonly groups = new Map<string, Group>();
  private readonly journal: BrokerJournal | undefined;
  readonly defaultPartitions: number;

  /** @param options the options, or the default partition count of implicitly created topics. */
  constructor(options: number | InProcessBrokerOptions = 4) {
    const settings = typeof options === 'number' ? { defaultPartitions: options } : options;
    this.defaultPartitions = settings.defaultPartitions ?? 4;
    if (!Number.isInteger(this.defaultPartitions) || this.defaultPartitions < 1) {
      throw new TypeError('InProcessBroker: defaultPartitions must be a positive integer');
    }
    this.journal = settings.journal;
    if (this.journal) this.restore(this.journal);
  }

  /** True when published messages and commits are kept in a journal. */
  get durable(): boolean {
    return this.journal !== undefined;
  }

  topic(name: string, partitions = this.defaultPartitions): PartitionLog[] {
    let logs = this.topics.get(name);
    if (!logs) {
      this.journal?.createTopic(name, partitions);
      logs = Array.from({ length: partitions }, () => new PartitionLog());
      this.topics.set(name, logs);
    }
    return logs;
  }

  group(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (!group) {
      group = new Group(groupId);
      this.groups.set(groupId, group);
    }
    return group;
  }

  append(topic: string, message: OutgoingMessage): void {
    this.appendAll(topic, [message]);
  }

  /** Appends messages to their partitions; with a journal they are on disk before anyone sees them. */
  appendAll(topic: string, messages: readonly OutgoingMessage[]): void {
    const partitions = this.topic(topic);
    const next = new Map<number, number>();
    const stored: StoredMessage[] = messages.map((message) => {
      const partition = partitionFor(message.key, partitions.length);
      const log = partitions[partition] as PartitionLog;
      const offset = next.get(partition) ?? log.end;
      next.set(partition, offset + 1);
      return {
        topic,
        partition,
        offset: String(offset),
        key: message.key,
        value: Buffer.from(message.value),
        headers: { ...message.headers },
      };
    });
    this.journal?.append(stored.map((message): JournalMessage => ({ ...message, offset: Number(message.offset) })));
    for (const message of stored) (partitions[message.partition] as PartitionLog).append(message);
  }

  /** Records that a group consumed a partition up to (not including) `offset`. */
  commit(group: Group, topic: string, partition: number, offset: number): void {
    this.journal?.commit(group.id, topic, partition, offset);
    group.committed.set(`${topic}:${partition}`, offset);
  }

  /** Closes the journal. Close the buses on this broker first. */
  close(): void {
    this.journal?.close();
  }

  private restore(journal: BrokerJournal): void {
    const snapshot = journal.load();
    for (const { topic, partitions } of snapshot.topics) {
      this.topics.set(
        topic,
        Array.from({ length: partitions }, () => new PartitionLog()),
      );
    }
    for (const entry of snapshot.partitions) {
      const log = this.topics.get(entry.topic)?.[entry.partition];
      if (!log) continue;
      log.base = entry.base;
      log.messages = entry.messages.map((message) => ({ ...message, offset: String(message.offset) }));
    }
    for (const commit of snapshot.commits)
      this.group(commit.groupId).committed.set(`${commit.topic}:${commit.partition}`, commit.offset);
  }

  /** Stops every member's loops, then hands out the group's partitions round-robin. Serialized per group. */
  rebalance(group: Group): Promise<void> {
    group.rebalancing = group.rebalancing.then(() => this.rebalanceNow(group));
    return group.rebalancing;
  }

  private async rebalanceNow(group: Group): Promise<void> {
    await Promise.all(group.members.map((member) => member.revoke()));
    const live = group.members.filter((member) => !member.isClosing);
    const topics = [...new Set(live.flatMap((member) => member.topics))].sort();
    let next = 0;
    const plan = new Map<InProcessSubscription, PartitionAssignment[]>();
    for (const topic of topics) {
      const consumers = live.filter((member) => member.topics.includes(topic));
      if (consumers.length === 0) continue;
      this.topic(topic).forEach((_, partition) => {
        const owner = consumers[next++ % consumers.length] as InProcessSubscription;
        const list = plan.get(owner) ?? [];
        const entry = list.find((a) => a.topic === topic);
        if (entry) entry.partitions.push(partition);
        else list.push({ topic, partitions: [partition] });
        plan.set(owner, list);
      });
    }
    for (const member of live) member.assign(plan.get(member) ?? []);
  }
}

/**
 * The event bus inside one process, for the embedded default and unit tests. It keeps Kafka's
 * semantics that the services rely on — partitions by key hash, consumer groups that share
 * partitions, commit after the handler succeeds, redelivery of uncommitted messages to the next
 * owner, dead-lettering. Nothing survives the process unless its broker has a journal.
 */
export class InProcessEventBus implements EventBus {
  readonly broker: InProcessBroker;
  private readonly subscriptions = new Set<InProcessSubscription>();
  private closed = false;

  constructor(readonly options: InProcessEventBusOptions = {}) {
    this.broker = options.broker ?? new InProcessBroker();
  }

  async ensureTopics(topics: readonly { topic: string; partitions: number }[]): Promise<void> {
    this.assertOpen('ensureTopics');
    for (const { topic, partitions } of topics) this.broker.topic(topic, partitions);
  }

  async publish(topic: string, messages: OutgoingMessage | readonly OutgoingMessage[]): Promise<void> {
    this.assertOpen('publish');
    const list = Array.isArray(messages) ? (messages as readonly OutgoingMessage[]) : [messages as OutgoingMessage];
    await publishTraced(topic, list, async (traced) => this.broker.appendAll(topic, traced));
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen('subscribe');
    for (const topic of options.topics) this.broker.topic(topic);
    const group = this.broker.group(options.groupId);
    const subscription = new InProcessSubscription(this.broker, group, options, this.options.logger, () =>
      this.subscriptions.delete(subscription),
    );
    this.subscriptions.add(subscription);
    group.members.push(subscription);
    await this.broker.rebalance(group);
    return subscription;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()));
  }

  private assertOpen(what: string): void {
    if (this.closed) throw new BusClosedError(what);
  }
}

class InProcessSubscription implements Subscription {
  private assigned: PartitionAssignment[] = [];
  private loops: Promise<void>[] = [];
  private loopStop = new AbortController();
  private readonly abortHandlers = new AbortController();
  private closing: Promise<void> | undefined;
  readonly topics: readonly string[];
  readonly joinedAt: Map<string, number>;

  constructor(
    private readonly broker: InProcessBroker,
    private readonly group: Group,
    private readonly options: SubscribeOptions,
    private readonly logger: Logger | undefined,
    private readonly onClosed: () => void,
  ) {
    this.topics = [...options.topics];
    // A group without commits starts at the end of the log when fromBeginning is false.
    this.joinedAt = new Map();
    for (const topic of this.topics) {
      broker.topic(topic).forEach((log, partition) => this.joinedAt.set(`${topic}:${partition}`, log.end));
    }
  }

  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  assignments(): PartitionAssignment[] {
    return this.assigned.map((a) => ({ topic: a.topic, partitions: [...a.partitions] }));
  }

  /** Stops the partition loops; the message in flight finishes (or is aborted when closing). */
  async revoke(): Promise<void> {
    this.loopStop.abort();
    await Promise.all(this.loops);
    this.loops = [];
    this.assigned = [];
  }

  assign(assignment: PartitionAssignment[]): void {
    this.assigned = assignment;
    this.loopStop = new AbortController();
    for (const { topic, partitions } of assignment) {
      for (const partition of partitions) this.loops.push(this.consume(topic, partition, this.loopStop.signal));
    }
  }

  close(options: { graceMs?: number } = {}): Promise<void> {
    this.closing ??= (async () => {
      const grace = setTimeout(() => this.abortHandlers.abort(), options.graceMs ?? defaultCloseGraceMs);
      try {
        const index = this.group.members.indexOf(this);
        if (index >= 0) this.group.members.splice(index, 1);
        await this.revoke();
      } finally {
        clearTimeout(grace);
        this.onClosed();
      }
      await this.broker.rebalance(this.group);
    })();
    return this.closing;
  }

  private async consume(topic: string, partition: number, stop: AbortSignal): Promise<void> {
    const key = `${topic}:${partition}`;
    const log = this.broker.topic(topic)[partition] as PartitionLog;
    while (!stop.aborted) {
      const wanted = this.group.committed.get(key) ?? (this.options.fromBeginning === false ? (this.joinedAt.get(key) ?? 0) : 0);
      // Offsets a journal pruned are gone: start at the oldest message kept.
      const offset = Math.max(wanted, log.base);
      const message = log.at(offset);
      if (!message) {
        await log.next(stop);
        continue;
      }
      const outcome = await deliver(message, {
        handler: this.options.handler,
        ...redeliveryOf(this.options),
        signal: this.abortHandlers.signal,
        deadLetter: async (deadTopic, deadMessage) => this.broker.append(deadTopic, deadMessage),
        logger: this.logger,
      });
      if (outcome === 'aborted') return;
      this.broker.commit(this.group, topic, partition, offset + 1);
    }
  }
}

/** FNV-1a over the key's UTF-8 bytes: stable across runs, spreads keys evenly. */
export function partitionFor(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
