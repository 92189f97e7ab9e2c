import type { StatementSync } from 'node:sqlite';
import type {
  ChangeRef,
  CommitOptions,
  CommitOutcome,
  InteractionHistoryRecord,
  InteractionRecord,
  InteractionRepository,
  InteractionSearch,
  UnpublishedChange,
} from '../ports/interaction.repository';
import { fromJsonDocument, toJsonDocument, type EmbeddedStore } from './embedded-store';

const offeredState = 4;
const prefixPattern = /^[a-z][a-z0-9_]{0,40}$/;

/**
 * InteractionRepository in the embedded store (SQLite, one process). A commit is one transaction:
 * the history row's primary key `(tenant, interaction, version)` is the claim, exactly as in MongoDB,
 * and the current document is replaced in the same transaction, so it is never behind. The columns
 * the router filters on are real columns with indexes; the rest of the record is JSON.
 */
export class EmbeddedInteractionRepository implements InteractionRepository {
  private readonly table: string;
  private readonly historyTable: string;
  private readonly statements: {
    get: StatementSync;
    insertHistory: StatementSync;
    upsert: StatementSync;
    historyEntry: StatementSync;
    listUnpublished: StatementSync;
    markPublished: StatementSync;
  };

  constructor(
    private readonly store: EmbeddedStore,
    prefix = 'router',
  ) {
    if (!prefixPattern.test(prefix)) throw new Error(`prefix ${JSON.stringify(prefix)} must match ${prefixPattern.source}`);
    this.table = `${prefix}_interactions`;
    this.historyTable = `${prefix}_interaction_history`;
    store.db.exec(`
      CREATE TABLE IF NOT EXISTS ${this.table} (
        tenant_id TEXT NOT NULL, interaction_id TEXT NOT NULL, version INTEGER NOT NULL, state INTEGER NOT NULL,
        queued_at INTEGER, received_at INTEGER NOT NULL, offer_expires_at INTEGER, document TEXT NOT NULL,
        PRIMARY KEY (tenant_id, interaction_id)
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS ${this.table}_state ON ${this.table} (tenant_id, state, queued_at, received_at);
      CREATE INDEX IF NOT EXISTS ${this.table}_offers ON ${this.table} (state, offer_expires_at);
      CREATE TABLE IF NOT EXISTS ${this.historyTable} (
        tenant_id TEXT NOT NULL, interaction_id TEXT NOT NULL, version INTEGER NOT NULL, document TEXT NOT NULL,
        PRIMARY KEY (tenant_id, interaction_id, version)
      ) WITHOUT ROWID;
    `);
    // Stores created before changes carried their outbox entry lack the column.
    const columns = store.db.prepare(`PRAGMA table_info(${this.historyTable})`).all() as { name: string }[];
    if (!columns.some((column) => column.name === 'unpublished_at'))
      store.db.exec(`ALTER TABLE ${this.historyTable} ADD COLUMN unpublished_at INTEGER`);
    store.db.exec(
      `CREATE INDEX IF NOT EXISTS ${this.historyTable}_unpublished ON ${this.historyTable} (unpublished_at) WHERE unpublished_at IS NOT NULL`,
    );
    this.statements = {
      get: store.db.prepare(`SELECT document FROM ${this.table} WHERE tenant_id = ? AND interaction_id = ?`),
      insertHistory: store.db.prepare(
        `INSERT INTO ${this.historyTable} (tenant_id, interaction_id, version, document, unpublished_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      upsert: store.db.prepare(
        `INSERT INTO ${this.table} (tenant_id, interaction_id, version, state, queued_at, received_at, offer_expires_at, document)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (tenant_id, interaction_id) DO UPDATE SET version = excluded.version, state = excluded.state,
           queued_at = excluded.queued_at, received_at = excluded.received_at, offer_expires_at = excluded.offer_expires_at,
           document = excluded.document
         WHERE excluded.version > ${this.table}.version`,
      ),
      historyEntry: store.db.prepare(
        `SELECT document FROM ${this.historyTable} WHERE tenant_id = ? AND interaction_id = ? AND version = ?`,
      ),
      listUnpublished: store.db.prepare(
        `SELECT tenant_id, interaction_id, version, unpublished_at FROM ${this.historyTable}
         WHERE unpublished_at IS NOT NULL AND unpublished_at <= ? LIMIT ?`,
      ),
      markPublished: store.db.prepare(
        `UPDATE ${this.historyTable} SET unpublished_at = NULL WHERE tenant_id = ? AND interaction_id = ? AND version = ?`,
      ),
    };
  }

  async get(tenantId: string, interactionId: string): Promise<InteractionRecord | undefined> {
    const row = this.statements.get.get(tenantId, interactionId) as { document: string } | undefined;
    return row ? fromJsonDocument<InteractionRecord>(row.document) : undefined;
  }

  /** The document is written in the commit's own transaction, so it is always current. */
  async refresh(tenantId: string, interactionId: string): Promise<InteractionRecord | undefined> {
    return this.get(tenantId, interactionId);
  }

  async commit(entry: InteractionHistoryRecord, options: CommitOptions = {}): Promise<CommitOutcome> {
    const db = this.store.db;
    db.exec('BEGIN IMMEDIATE');
    try {
      const claimed =
        this.statements.insertHistory.run(
          entry.tenantId,
          entry.interactionId,
          entry.version,
          toJsonDocument(entry),
          options.unpublishedAt ?? null,
        ).changes === 1;
      if (claimed) {
        const record = entry.interaction;
        this.statements.upsert.run(
          record.tenantId,
          record.interactionId,
          record.version,
          record.state,
          record.queuedAt ?? null,
          record.receivedAt,
          record.offerExpiresAt ?? null,
          toJsonDocument(record),
        );
      }
      db.exec('COMMIT');
      return claimed ? 'committed' : 'conflict';
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }

  async listUnpublished(before: number, limit: number): Promise<UnpublishedChange[]> {
    const rows = this.statements.listUnpublished.all(before, limit) as {
      tenant_id: string;
      interaction_id: string;
      version: number;
      unpublished_at: number;
    }[];
    return rows.map((row) => ({
      tenantId: row.tenant_id,
      interactionId: row.interaction_id,
      version: row.version,
      unpublishedAt: row.unpublished_at,
    }));
  }

  async markPublished(changes: readonly ChangeRef[]): Promise<void> {
    if (changes.length === 0) return;
    const db = this.store.db;
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const change of changes) this.statements.markPublished.run(change.tenantId, change.interactionId, change.version);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }

  async listByState(tenantId: string, states: readonly number[], limit: number): Promise<InteractionRecord[]> {
    if (states.length === 0) return [];
    const rows = this.store.db
      .prepare(
        `SELECT document FROM ${this.table} WHERE tenant_id = ? AND state IN (${states.map(() => '?').join(',')})
         ORDER BY queued_at IS NULL, queued_at, received_at LIMIT ?`,
      )
      .all(tenantId, ...states, limit) as { document: string }[];
    return rows.map((row) => fromJsonDocument<InteractionRecord>(row.document));
  }

  async listExpiredOffers(now: number, limit: number): Promise<InteractionRecord[]> {
    const rows = this.store.db
      .prepare(`SELECT document FROM ${this.table} WHERE state = ? AND offer_expires_at <= ? LIMIT ?`)
      .all(offeredState, now, limit) as { document: string }[];
    return rows.map((row) => fromJsonDocument<InteractionRecord>(row.document));
  }

  async tenantsWith(states: readonly number[]): Promise<string[]> {
    if (states.length === 0) return [];
    const rows = this.store.db
      .prepare(`SELECT DISTINCT tenant_id FROM ${this.table} WHERE state IN (${states.map(() => '?').join(',')})`)
      .all(...states) as { tenant_id: string }[];
    return rows.map((row) => row.tenant_id);
  }

  /** Keyset pages by interaction id; the filter's other fields are checked on the decoded records. */
  async search(
    tenantId: string,
    filter: InteractionSearch,
    afterId: string | undefined,
    limit: number,
  ): Promise<InteractionRecord[]> {
    const found: InteractionRecord[] = [];
    let cursor = afterId ?? '';
    const batch = Math.max(limit, 200);
    for (;;) {
      const rows = this.store.db
        .prepare(
          `SELECT interaction_id, document FROM ${this.table} WHERE tenant_id = ? AND interaction_id > ? ORDER BY interaction_id LIMIT ?`,
        )
        .all(tenantId, cursor, batch) as { interaction_id: string; document: string }[];
      for (const row of rows) {
        const record = fromJsonDocument<InteractionRecord>(row.document);
        if (matches(record, filter)) found.push(record);
        if (found.length === limit) return found;
      }
      if (rows.length < batch) return found;
      cursor = rows[rows.length - 1]?.interaction_id ?? cursor;
    }
  }

  async history(
    tenantId: string,
    interactionId: string,
    afterVersion: number,
    limit: number,
  ): Promise<InteractionHistoryRecord[]> {
    const rows = this.store.db
      .prepare(
        `SELECT document FROM ${this.historyTable} WHERE tenant_id = ? AND interaction_id = ? AND version > ? ORDER BY version LIMIT ?`,
      )
      .all(tenantId, interactionId, afterVersion, limit) as { document: string }[];
    return rows.map((row) => fromJsonDocument<InteractionHistoryRecord>(row.document));
  }

  async historyEntry(tenantId: string, interactionId: string, version: number): Promise<InteractionHistoryRecord | undefined> {
    const row = this.statements.historyEntry.get(tenantId, interactionId, version) as { document: string } | undefined;
    return row ? fromJsonDocument<InteractionHistoryRecord>(row.document) : undefined;
  }
}

/** The same filter MongoInteractionRepository.search expresses as a query. */
function matches(record: InteractionRecord, filter: InteractionSearch): boolean {
  if (filter.states?.length && !filter.states.includes(record.state)) return false;
  if (filter.queueIds?.length && !filter.queueIds.includes(record.queueId ?? '')) return false;
  if (
    filter.agentIds?.length &&
    !filter.agentIds.includes(record.agentId ?? '') &&
    !filter.agentIds.includes(record.offeredAgentId ?? '')
  )
    return false;
  if (filter.mailboxIds?.length && !filter.mailboxIds.includes(record.mailboxId)) return false;
  if (filter.customerAddress && record.customerAddress !== filter.customerAddress.toLowerCase()) return false;
  if (filter.conversationId && record.conversationId !== filter.conversationId) return false;
  if (filter.internetMessageId && record.internetMessageId !== filter.internetMessageId) return false;
  if (filter.tags?.length && !filter.tags.some((tag) => record.tags.includes(tag))) return false;
  if (filter.receivedAfter !== undefined && record.receivedAt < filter.receivedAfter) return false;
  if (filter.receivedBefore !== undefined && record.receivedAt >= filter.receivedBefore) return false;
  return true;
}
