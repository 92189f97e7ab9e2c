import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { ensurePrivateSqliteFile } from '@mailroute/platform';

/** A message as the in-process broker keeps it. */
export interface JournalMessage {
  topic: string;
  partition: number;
  /** The message's offset in its partition (0, 1, 2 … with no gaps). */
  offset: number;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** What a journal held when it was opened. */
export interface JournalSnapshot {
  topics: { topic: string; partitions: number }[];
  /** Per topic partition: the first offset still kept (earlier ones were pruned) and the messages from it, in order. */
  partitions: { topic: string; partition: number; base: number; messages: JournalMessage[] }[];
  commits: { groupId: string; topic: string; partition: number; offset: number }[];
}

/**
 * Where an in-process broker keeps its topics, messages and committed offsets so they survive a
 * restart. Writes are synchronous and durable when they return: a message the bus accepted is on
 * disk, and a commit is never ahead of the handler's own writes.
 */
export interface BrokerJournal {
  load(): JournalSnapshot;
  createTopic(topic: string, partitions: number): void;
  append(messages: readonly JournalMessage[]): void;
  commit(groupId: string, topic: string, partition: number, offset: number): void;
  close(): void;
}

export interface SqliteBrokerJournalOptions {
  /** The database file (its directory is created). `:memory:` keeps nothing, for tests. */
  path: string;
  /**
   * Messages older than this that every consumer group known to the journal has committed past are
   * deleted when the journal opens. Default 7 days.
   */
  retentionMs?: number;
  clock?: () => number;
}

/**
 * A {@link BrokerJournal} in a SQLite file through Node's built-in `node:sqlite` (WAL mode): the
 * embedded default's bus keeps Kafka's promise that an accepted message is not lost and an
 * uncommitted one is delivered again after a crash.
 */
export class SqliteBrokerJournal implements BrokerJournal {
  private readonly db: DatabaseSync;
  private readonly insertMessage: StatementSync;
  private readonly upsertCommit: StatementSync;
  private readonly insertTopic: StatementSync;
  private readonly retentionMs: number;
  private readonly clock: () => number;

  constructor(options: SqliteBrokerJournalOptions) {
    ensurePrivateSqliteFile(options.path);
    this.db = new DatabaseSync(options.path);
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS topics (topic TEXT PRIMARY KEY, partitions INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS messages (
        topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
        key TEXT NOT NULL, value BLOB NOT NULL, headers TEXT NOT NULL, appended_at INTEGER NOT NULL,
        PRIMARY KEY (topic, partition, offset)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS commits (
        group_id TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
        PRIMARY KEY (group_id, topic, partition)
      ) WITHOUT ROWID;
    `);
    this.insertMessage = this.db.prepare(
      'INSERT INTO messages (topic, partition, offset, key, value, headers, appended_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.upsertCommit = this.db.prepare(
      'INSERT INTO commits (group_id, topic, partition, offset) VALUES (?, ?, ?, ?) ON CONFLICT (group_id, topic, partition) DO UPDATE SET offset = excluded.offset',
    );
    this.insertTopic = this.db.prepare('INSERT OR IGNORE INTO topics (topic, partitions) VALUES (?, ?)');
    this.retentionMs = options.retentionMs ?? 7 * 24 * 3600_000;
    this.clock = options.clock ?? Date.now;
  }

  load(): JournalSnapshot {
    this.prune();
    const topics = (
      this.db.prepare('SELECT topic, partitions FROM topics ORDER BY topic').all() as { topic: string; partitions: number }[]
    ).map((row) => ({
      topic: row.topic,
      partitions: Number(row.partitions),
    }));
    const rows = this.db
      .prepare('SELECT topic, partition, offset, key, value, headers FROM messages ORDER BY topic, partition, offset')
      .all() as {
      topic: string;
      partition: number;
      offset: number;
      key: string;
      value: Uint8Array;
      headers: string;
    }[];
    const byPartition = new Map<string, { topic: string; partition: number; base: number; messages: JournalMessage[] }>();
    for (const row of rows) {
      const id = `${row.topic}\u0000${row.partition}`;
      let entry = byPartition.get(id);
      if (!entry) {
        entry = { topic: row.topic, partition: Number(row.partition), base: Number(row.offset), messages: [] };
        byPartition.set(id, entry);
      }
      entry.messages.push({
        topic: row.topic,
        partition: Number(row.partition),
        offset: Number(row.offset),
        key: row.key,
        value: Buffer.from(row.value),
        headers: JSON.parse(row.headers) as Record<string, string>,
      });
    }
    const commits = (
      this.db.prepare('SELECT group_id, topic, partition, offset FROM commits').all() as {
        group_id: string;
        topic: string;
        partition: number;
        offset: number;
      }[]
    ).map((row) => ({ groupId: row.group_id, topic: row.topic, partition: Number(row.partition), offset: Number(row.offset) }));
    return { topics, partitions: [...byPartition.values()], commits };
  }

  createTopic(topic: string, partitions: number): void {
    this.insertTopic.run(topic, partitions);
  }

  append(messages: readonly JournalMessage[]): void {
    if (messages.length === 0) return;
    const now = this.clock();
    this.db.exec('BEGIN IMMEDIATE');
    try {
      for (const message of messages) {
        this.insertMessage.run(
          message.topic,
          message.partition,
          message.offset,
          message.key,
          message.value,
          JSON.stringify(message.headers),
          now,
        );
      }
      this.db.exec('COMMIT');
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  commit(groupId: string, topic: string, partition: number, offset: number): void {
    this.upsertCommit.run(groupId, topic, partition, offset);
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /**
   * Deletes messages past retention that every group with commits on their topic has consumed.
   * Groups that never committed on a topic don't hold its messages back (Kafka's retention doesn't
   * wait for them either), but nothing younger than the retention is ever removed, and a
   * partition's last message stays so that its next offset is known.
   */
  private prune(): void {
    const cutoff = this.clock() - this.retentionMs;
    this.db
      .prepare(
        `DELETE FROM messages WHERE appended_at < ? AND offset < (
           SELECT MIN(c.offset) FROM commits c WHERE c.topic = messages.topic AND c.partition = messages.partition
         ) AND offset < (
           SELECT MAX(m.offset) FROM messages m WHERE m.topic = messages.topic AND m.partition = messages.partition
         ) AND NOT EXISTS (
           SELECT 1 FROM commits g WHERE g.topic = messages.topic
             AND NOT EXISTS (SELECT 1 FROM commits p WHERE p.group_id = g.group_id AND p.topic = messages.topic AND p.partition = messages.partition)
         )`,
      )
      .run(cutoff);
  }
}
