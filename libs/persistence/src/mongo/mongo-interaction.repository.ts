import type { Collection, Db, Filter } from 'mongodb';
import { isDuplicateKeyError, toStoreError } from '../errors';
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
import type { IndexPlan } from './mongo-store';

interface InteractionRow extends InteractionRecord {
  _id: string;
}

interface HistoryRow extends InteractionHistoryRecord {
  _id: string;
  /** Set while the change's event is unpublished (CommitOptions.unpublishedAt). */
  unpublishedAt?: number;
}

const offeredState = 4;

/** Collections and indexes of MongoInteractionRepository, for `MongoStore.ensureIndexes`. */
export function interactionIndexes(prefix = 'router'): IndexPlan {
  return {
    [`${prefix}_interactions`]: [
      { key: { tenantId: 1, state: 1, queuedAt: 1 }, name: 'tenant_state_queued' },
      { key: { state: 1, offerExpiresAt: 1 }, name: 'state_offer_expiry' },
      { key: { tenantId: 1, interactionId: 1 }, name: 'tenant_interaction' },
      { key: { tenantId: 1, conversationId: 1 }, name: 'tenant_conversation' },
      { key: { tenantId: 1, agentId: 1 }, name: 'tenant_agent' },
    ],
    [`${prefix}_interaction_history`]: [
      { key: { tenantId: 1, interactionId: 1, version: 1 }, name: 'tenant_interaction_version' },
      // Few entries have the field at any time (the relay's listUnpublished); a scan on FerretDB v1.
      { key: { unpublishedAt: 1 }, name: 'unpublished' },
    ],
  };
}

const historyKey = (tenantId: string, interactionId: string, version: number): string =>
  `${tenantId}/${interactionId}/${String(version).padStart(10, '0')}`;

/**
 * InteractionRepository on MongoDB (FerretDB included). The history `_id` is the claim: inserting
 * `tenant/interaction/version` succeeds for exactly one writer; only the winner then replaces the
 * current document. A crash between the two leaves the document one version behind; `get` and a
 * losing `commit` roll it forward from the history.
 */
export class MongoInteractionRepository implements InteractionRepository {
  private readonly interactions: Collection<InteractionRow>;
  private readonly historyRows: Collection<HistoryRow>;

  constructor(store: { db: Db }, prefix = 'router') {
    this.interactions = store.db.collection<InteractionRow>(`${prefix}_interactions`);
    this.historyRows = store.db.collection<HistoryRow>(`${prefix}_interaction_history`);
  }

  async get(tenantId: string, interactionId: string): Promise<InteractionRecord | undefined> {
    // No look-ahead into the history here: on FerretDB v1 a lookup that finds nothing scans the
    // whole collection, and the history is the largest one. A document left one version behind by
    // a crashed writer is rolled forward by the next commit (its version conflicts) or by `refresh`.
    const row = await this.run(() => this.interactions.findOne({ _id: `${tenantId}/${interactionId}` }));
    return row ? strip(row) : undefined;
  }

  async refresh(tenantId: string, interactionId: string): Promise<InteractionRecord | undefined> {
    const row = await this.run(() => this.interactions.findOne({ _id: `${tenantId}/${interactionId}` }));
    // Only `_id` lookups: FerretDB v1 scans the whole collection for any other filter.
    let latest: InteractionRecord | undefined;
    for (let version = (row?.version ?? 0) + 1; ; version += 1) {
      const next = await this.run(() => this.historyRows.findOne({ _id: historyKey(tenantId, interactionId, version) }));
      if (!next) break;
      latest = next.interaction;
    }
    if (latest) {
      await this.replace(latest);
      return latest;
    }
    return row ? strip(row) : undefined;
  }

  async commit(entry: InteractionHistoryRecord, options: CommitOptions = {}): Promise<CommitOutcome> {
    const row: HistoryRow = {
      ...entry,
      _id: historyKey(entry.tenantId, entry.interactionId, entry.version),
      ...(options.unpublishedAt !== undefined ? { unpublishedAt: options.unpublishedAt } : {}),
    };
    try {
      await this.historyRows.insertOne(row, { ignoreUndefined: true });
    } catch (error) {
      if (isDuplicateKeyError(error)) {
        await this.refresh(entry.tenantId, entry.interactionId);
        return 'conflict';
      }
      throw this.wrap(error);
    }
    await this.replace(entry.interaction);
    return 'committed';
  }

  async listUnpublished(before: number, limit: number): Promise<UnpublishedChange[]> {
    const rows = await this.run(() =>
      this.historyRows
        .find(
          { unpublishedAt: { $lte: before } },
          { projection: { tenantId: 1, interactionId: 1, version: 1, unpublishedAt: 1 } },
        )
        .limit(limit)
        .toArray(),
    );
    return rows.map((row) => ({
      tenantId: row.tenantId,
      interactionId: row.interactionId,
      version: row.version,
      unpublishedAt: row.unpublishedAt ?? 0,
    }));
  }

  async markPublished(changes: readonly ChangeRef[]): Promise<void> {
    if (changes.length === 0) return;
    // By `_id` only (FerretDB v1 scans for anything else); nothing else writes a history entry after its insert.
    await this.run(() =>
      this.historyRows.bulkWrite(
        changes.map((change) => ({
          updateOne: {
            filter: { _id: historyKey(change.tenantId, change.interactionId, change.version) },
            update: { $unset: { unpublishedAt: '' } },
          },
        })),
        { ordered: false },
      ),
    );
  }

  async listByState(tenantId: string, states: readonly number[], limit: number): Promise<InteractionRecord[]> {
    const rows = await this.run(() =>
      this.interactions
        .find({ tenantId, state: { $in: [...states] } })
        .sort({ queuedAt: 1, receivedAt: 1 })
        .limit(limit)
        .toArray(),
    );
    return rows.map(strip);
  }

  async listExpiredOffers(now: number, limit: number): Promise<InteractionRecord[]> {
    const rows = await this.run(() =>
      this.interactions
        .find({ state: offeredState, offerExpiresAt: { $lte: now } })
        .limit(limit)
        .toArray(),
    );
    return rows.map(strip);
  }

  async tenantsWith(states: readonly number[]): Promise<string[]> {
    const values = await this.run(() => this.interactions.distinct('tenantId', { state: { $in: [...states] } }));
    return values.map(String);
  }

  async search(
    tenantId: string,
    filter: InteractionSearch,
    afterId: string | undefined,
    limit: number,
  ): Promise<InteractionRecord[]> {
    const query: Filter<InteractionRow> = { tenantId };
    if (afterId !== undefined) query.interactionId = { $gt: afterId };
    if (filter.states?.length) query.state = { $in: [...filter.states] };
    if (filter.queueIds?.length) query.queueId = { $in: [...filter.queueIds] };
    if (filter.agentIds?.length)
      query.$or = [{ agentId: { $in: [...filter.agentIds] } }, { offeredAgentId: { $in: [...filter.agentIds] } }];
    if (filter.mailboxIds?.length) query.mailboxId = { $in: [...filter.mailboxIds] };
    if (filter.customerAddress) query.customerAddress = filter.customerAddress.toLowerCase();
    if (filter.conversationId) query.conversationId = filter.conversationId;
    if (filter.internetMessageId) query.internetMessageId = filter.internetMessageId;
    if (filter.tags?.length) query.tags = { $in: [...filter.tags] };
    if (filter.receivedAfter !== undefined || filter.receivedBefore !== undefined) {
      query.receivedAt = {
        ...(filter.receivedAfter !== undefined ? { $gte: filter.receivedAfter } : {}),
        ...(filter.receivedBefore !== undefined ? { $lt: filter.receivedBefore } : {}),
      };
    }
    const rows = await this.run(() => this.interactions.find(query).sort({ interactionId: 1 }).limit(limit).toArray());
    return rows.map(strip);
  }

  async history(
    tenantId: string,
    interactionId: string,
    afterVersion: number,
    limit: number,
  ): Promise<InteractionHistoryRecord[]> {
    const rows = await this.run(() =>
      this.historyRows
        .find({ tenantId, interactionId, version: { $gt: afterVersion } })
        .sort({ version: 1 })
        .limit(limit)
        .toArray(),
    );
    return rows.map(stripHistory);
  }

  async historyEntry(tenantId: string, interactionId: string, version: number): Promise<InteractionHistoryRecord | undefined> {
    const row = await this.run(() => this.historyRows.findOne({ _id: historyKey(tenantId, interactionId, version) }));
    return row ? stripHistory(row) : undefined;
  }

  /**
   * Writes the document of a committed version. A slow writer of version n may land after the
   * writer of n+1 (FerretDB v1 applies no conditional write atomically, and it scans the whole
   * collection for a filter on anything but `_id`, so the write is by `_id` alone). The look at the
   * history after every write settles it: the writer of n+1 stored its history entry before its
   * write, so either the writer of n sees n+1 and rolls the document forward, or n+1's write comes
   * after n's.
   */
  private async replace(record: InteractionRecord): Promise<void> {
    const _id = `${record.tenantId}/${record.interactionId}`;
    let current: InteractionRecord | undefined = record;
    while (current) {
      const row = { ...current } as InteractionRow;
      try {
        await this.interactions.replaceOne({ _id }, row, { upsert: true, ignoreUndefined: true });
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw this.wrap(error);
        // Two upserts of a new document and the other inserted first: it exists now, so this replaces it.
        await this.run(() => this.interactions.replaceOne({ _id }, row, { upsert: true, ignoreUndefined: true }));
      }
      const written: number = current.version;
      const newer = await this.run(() =>
        this.historyRows.findOne({ _id: historyKey(record.tenantId, record.interactionId, written + 1) }),
      );
      current = newer ? stripHistory(newer).interaction : undefined;
    }
  }

  private async run<R>(operation: () => Promise<R>): Promise<R> {
    try {
      return await operation();
    } catch (error) {
      throw this.wrap(error);
    }
  }

  private wrap(error: unknown): unknown {
    return toStoreError('interaction', error);
  }
}

function strip(row: InteractionRow): InteractionRecord {
  const { _id: _ignored, ...record } = row;
  return record;
}

function stripHistory(row: HistoryRow): InteractionHistoryRecord {
  const { _id: _a, unpublishedAt: _b, ...record } = row;
  return record;
}
