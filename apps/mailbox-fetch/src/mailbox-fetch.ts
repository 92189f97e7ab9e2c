import { randomBytes } from 'node:crypto';
import { MailboxKind, MailboxSyncState, type Mailbox, type MailboxSyncStatus } from '@mailroute/contracts';
import type { GraphMailClient } from '@mailroute/graph-mail';
import type { EventBus } from '@mailroute/messaging';
import {
  AlreadyExistsError,
  ConflictError,
  FailedPreconditionError,
  isRetryable,
  NotFoundError,
  UnavailableError,
  ValidationError,
  type Logger,
} from '@mailroute/platform';
import { generateMailboxId, readMailboxFields, readMailboxId, toMailbox } from './mailboxes/mailbox-config';
import { mailboxKey, type MailboxRecord, type MailboxStatusRecord } from './store/mailbox-fetch.records';
import { listAll, type MailboxFetchStores } from './store/mailbox-fetch.stores';
import { MailboxLeases, type LeaseDocument } from './sync/mailbox-lease';
import { checkMoveTarget } from './mailboxes/move-target';
import { createMailboxSync, targetOf, type MailboxSyncDeps } from './sync/mailbox-sync';
import { toMailboxIntake } from './push/intake-mode';
import { describeSyncFailure } from './sync/sync-failure';
import { createMailboxWakeUps } from './sync/mailbox-wake-ups';
import { SyncCursorStore } from './sync/sync-cursor.store';
import { createSyncRuntime, defaultSyncRuntimeOptions, initialStatus, type SyncRuntimeOptions } from './sync/sync-runtime';

export interface MailboxFetchCoreDeps {
  stores: MailboxFetchStores;
  graph: GraphMailClient;
  bus: EventBus;
  logger: Logger;
  clock?: () => number;
  /** Unique per process, e.g. `<hostname>-<pid>-<random>`. */
  replicaId: string;
  options?: Partial<SyncRuntimeOptions> & { maxPagesPerTurn?: number };
  onIngested?: MailboxSyncDeps['onIngested'];
}

/**
 * Delta pages one mailbox turn reads before it yields: 4 pages of 50 keep a turn to a few seconds, so
 * a mailbox with a backlog never holds a turn slot long while others wait.
 */
const defaultMaxPagesPerTurn = 4;

const etagOf = () => randomBytes(8).toString('hex');

/**
 * Up to `limit` of `candidates` (in order) loaded by `load` and accepted by `keep`; `more` when a
 * further accepted one exists. Loads in parallel chunks of 25 and stops once the page is full.
 */
async function pageOf<T, R>(
  candidates: readonly T[],
  limit: number,
  load: (candidate: T) => Promise<R>,
  keep: (item: R) => boolean,
): Promise<{ items: R[]; more: boolean }> {
  const items: R[] = [];
  for (let start = 0; start < candidates.length; start += 25) {
    for (const item of await Promise.all(candidates.slice(start, start + 25).map(load))) {
      if (!keep(item)) continue;
      if (items.length === limit) return { items, more: true };
      items.push(item);
    }
  }
  return { items, more: false };
}
const date = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));

/** mailbox-fetch's domain: mailbox configuration, the sync runtime, status. Handlers are thin over it. */
export function createMailboxFetchCore(deps: MailboxFetchCoreDeps) {
  const clock = deps.clock ?? Date.now;
  const { stores } = deps;
  const cursors = new SyncCursorStore(stores.cursors);
  const leases = new MailboxLeases(stores.leases);
  const runtimeOptions = defaultSyncRuntimeOptions(deps.options);
  const sync = createMailboxSync({
    stores,
    cursors,
    graph: deps.graph,
    bus: deps.bus,
    logger: deps.logger,
    clock,
    replicaId: deps.replicaId,
    maxPagesPerTurn: deps.options?.maxPagesPerTurn ?? defaultMaxPagesPerTurn,
    postProcessingBackoff: { initialDelayMs: runtimeOptions.errorBackoffBaseMs, maxDelayMs: runtimeOptions.errorBackoffMaxMs },
    ...(deps.onIngested ? { onIngested: deps.onIngested } : {}),
  });
  const runtime = createSyncRuntime({
    stores,
    sync,
    logger: deps.logger,
    clock,
    replicaId: deps.replicaId,
    options: runtimeOptions,
  });
  const wakeUps = createMailboxWakeUps({
    runtime,
    stores,
    bus: deps.bus,
    replicaId: deps.replicaId,
    logger: deps.logger,
    clock,
  });

  async function load(tenantId: string, mailboxId: string): Promise<MailboxRecord> {
    const record = await stores.mailboxes.get(mailboxKey(tenantId, readMailboxId(mailboxId)));
    if (!record) throw new NotFoundError('mailbox', mailboxId);
    return record;
  }

  /**
   * `heads`: lease heads from one listing, for list calls — a lease head is a prefix listing, which
   * FerretDB v1 answers by scanning, so one per mailbox would make a 200-mailbox page take seconds.
   */
  async function statusOf(record: MailboxRecord, heads?: ReadonlyMap<string, LeaseDocument>): Promise<MailboxSyncStatus> {
    return (await statusAndKindOf(record, heads)).syncStatus;
  }

  /** The sync status, and the mailbox kind its syncing replica detected (kept in the status record). */
  async function statusAndKindOf(
    record: MailboxRecord,
    heads?: ReadonlyMap<string, LeaseDocument>,
  ): Promise<{ syncStatus: MailboxSyncStatus; kind: number | undefined }> {
    const key = mailboxKey(record.tenantId, record.mailboxId);
    const [stored, head] = await Promise.all([
      runtime.statusOf(key) ?? stores.statuses.get(key),
      heads ? heads.get(key) : leases.head(key),
    ]);
    return { syncStatus: toSyncStatus(record, stored ?? initialStatus(record), head), kind: stored?.kind };
  }

  function toSyncStatus(record: MailboxRecord, status: MailboxStatusRecord, head: LeaseDocument | undefined): MailboxSyncStatus {
    const now = clock();
    const leaseLive = head && !head.released && head.expiresAt > now;
    return {
      mailboxId: record.mailboxId,
      state: record.enabled ? status.state : MailboxSyncState.MAILBOX_SYNC_STATE_DISABLED,
      lastError: status.lastError ? { ...status.lastError, outcome: 3 } : undefined,
      lastErrorAt: date(status.lastErrorAt),
      consecutiveFailures: status.consecutiveFailures,
      lastSyncStartedAt: date(status.lastSyncStartedAt),
      lastSuccessfulSyncAt: date(status.lastSuccessfulSyncAt),
      nextSyncAt: record.enabled ? date(status.nextSyncAt) : undefined,
      throttledUntil: status.throttledUntil && status.throttledUntil > now ? date(status.throttledUntil) : undefined,
      lag:
        status.lastSuccessfulSyncAt === undefined
          ? undefined
          : {
              seconds: Math.floor((now - status.lastSuccessfulSyncAt) / 1000),
              nanos: ((now - status.lastSuccessfulSyncAt) % 1000) * 1e6,
            },
      backlogMessages: status.backlogMessages,
      messagesIngestedTotal: status.messagesIngestedTotal,
      lastIngestedAt: date(status.lastIngestedAt),
      lastFullResyncAt: date(status.lastFullResyncAt),
      leaseOwner: leaseLive ? head.owner : '',
      leaseExpiresAt: leaseLive ? new Date(head.expiresAt) : undefined,
      intake: record.enabled ? toMailboxIntake(status.intake) : undefined,
    };
  }

  /**
   * Refuses a move target that resolves (in the mailbox, through Graph) to where mail is deleted or
   * sent. A target that cannot be checked is refused too: UNAVAILABLE when Graph or the token
   * service is down for now, else FAILED_PRECONDITION saying why (no credentials, no access, …).
   */
  async function checkMoveTo(
    tenantId: string,
    fields: Pick<MailboxRecord, 'address' | 'accessMode' | 'credentialsId' | 'moveTo'>,
  ): Promise<void> {
    if (!fields.moveTo) return;
    try {
      await checkMoveTarget(deps.graph.mailbox(targetOf({ ...fields, tenantId } as MailboxRecord)), fields.moveTo);
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      const failure = describeSyncFailure(error, fields.address);
      const message = `post_processing.move_to cannot be checked in the mailbox: ${failure.finding.message}`;
      if (failure.transient || isRetryable(error))
        throw new UnavailableError(message, {
          cause: error,
          ...(failure.retryAfterMs ? { retryAfterMs: failure.retryAfterMs } : {}),
        });
      throw new FailedPreconditionError(message, { cause: error });
    }
  }

  async function withStatus(record: MailboxRecord, heads?: ReadonlyMap<string, LeaseDocument>): Promise<Mailbox> {
    const { syncStatus, kind } = await statusAndKindOf(record, heads);
    return { ...toMailbox(record), kind: kind || record.kind || MailboxKind.MAILBOX_KIND_UNSPECIFIED, syncStatus };
  }

  return {
    runtime,
    /** Wake-ups that reach a mailbox's owner wherever they land (start it beside the runtime). */
    wakeUps,
    stores,
    graph: deps.graph,

    async createMailbox(tenantId: string, requestedId: string, mailbox: Mailbox | undefined): Promise<Mailbox> {
      const mailboxId = requestedId ? readMailboxId(requestedId) : generateMailboxId();
      const fields = readMailboxFields(mailbox);
      await checkMoveTo(tenantId, fields);
      const existing = await listAll(stores.mailboxes, `${tenantId}/`);
      if (
        existing.some(
          (entry) =>
            entry.document.address.toLowerCase() === fields.address.toLowerCase() && entry.document.mailboxId !== mailboxId,
        )
      ) {
        throw new AlreadyExistsError('mailbox with address', fields.address);
      }
      const now = clock();
      const record: MailboxRecord = {
        ...fields,
        tenantId,
        mailboxId,
        kind: 0,
        folderGeneration: 1,
        syncFromAt: now,
        createdAt: now,
        updatedAt: now,
        etag: etagOf(),
      };
      if (!(await stores.mailboxes.insert(mailboxKey(tenantId, mailboxId), record)))
        throw new AlreadyExistsError('mailbox', mailboxId);
      return withStatus(record);
    },

    async getMailbox(tenantId: string, mailboxId: string): Promise<Mailbox> {
      return withStatus(await load(tenantId, mailboxId));
    },

    async listMailboxes(
      tenantId: string,
      filter: { addressContains: string; state: number; after?: string | undefined; limit: number },
    ): Promise<{ mailboxes: Mailbox[]; next: string }> {
      const [all, heads] = await Promise.all([listAll(stores.mailboxes, `${tenantId}/`), leases.heads(`${tenantId}/`)]);
      const candidates = all
        .map((entry) => entry.document)
        .filter((document) => !(filter.after && document.mailboxId <= filter.after))
        .filter(
          (document) => !filter.addressContains || document.address.toLowerCase().includes(filter.addressContains.toLowerCase()),
        );
      const page = await pageOf(
        candidates,
        filter.limit,
        (document) => withStatus(document, heads),
        (mailbox) => !filter.state || mailbox.syncStatus?.state === filter.state,
      );
      return { mailboxes: page.items, next: page.more ? (page.items.at(-1)?.mailboxId ?? '') : '' };
    },

    async updateMailbox(
      tenantId: string,
      mailboxId: string,
      mailbox: Mailbox | undefined,
      mask: readonly string[],
      etag: string,
    ): Promise<Mailbox> {
      const current = await load(tenantId, mailboxId);
      if (etag && etag !== current.etag)
        throw new ConflictError(`mailbox ${mailboxId} changed since etag ${etag}`, { retryable: false });
      const fields = readMailboxFields({ ...toMailbox(current), ...mailbox, address: current.address } as Mailbox);
      const next: MailboxRecord = { ...current };
      const all = mask.includes('*');
      const pick = <K extends keyof typeof fields>(name: string, key: K) => {
        if (all || mask.includes(name)) (next as unknown as Record<string, unknown>)[key] = fields[key];
      };
      if (mask.includes('address') && mailbox?.address && mailbox.address !== current.address)
        throw new FailedPreconditionError('address is immutable');
      pick('display_name', 'displayName');
      pick('access_mode', 'accessMode');
      pick('credentials_id', 'credentialsId');
      pick('folder', 'folder');
      if (all || mask.includes('post_processing')) {
        next.postProcessingAction = fields.postProcessingAction;
        next.moveTo = fields.moveTo;
        await checkMoveTo(tenantId, next);
      }
      if (all || mask.includes('initial_sync')) {
        next.initialSyncMode = fields.initialSyncMode;
        next.backfillDays = fields.backfillDays;
      }
      pick('poll_interval', 'pollIntervalMs');
      pick('enabled', 'enabled');
      pick('default_queue_id', 'defaultQueueId');
      pick('attachment_storage_limit_bytes', 'attachmentStorageLimitBytes');
      const now = clock();
      if (JSON.stringify(next.folder) !== JSON.stringify(current.folder)) {
        next.folderGeneration = current.folderGeneration + 1;
        next.syncFromAt = now;
      }
      next.updatedAt = now;
      next.etag = etagOf();
      await stores.mailboxes.put(mailboxKey(tenantId, current.mailboxId), next);
      return withStatus(next);
    },

    async deleteMailbox(tenantId: string, mailboxId: string, etag: string): Promise<void> {
      const current = await load(tenantId, mailboxId);
      if (etag && etag !== current.etag)
        throw new ConflictError(`mailbox ${mailboxId} changed since etag ${etag}`, { retryable: false });
      const key = mailboxKey(tenantId, current.mailboxId);
      await stores.mailboxes.delete(key);
      await Promise.all([stores.statuses.delete(key), stores.syncRequests.delete(key), cursors.forget(key)]);
    },

    async syncNow(tenantId: string, mailboxId: string, fullResync: boolean): Promise<MailboxSyncStatus> {
      const record = await load(tenantId, mailboxId);
      if (!record.enabled) throw new FailedPreconditionError(`mailbox ${mailboxId} is disabled`);
      const now = clock();
      await wakeUps.request(mailboxKey(tenantId, record.mailboxId), fullResync);
      return { ...(await statusOf(record)), nextSyncAt: new Date(now) };
    },

    async getSyncStatus(tenantId: string, mailboxId: string): Promise<MailboxSyncStatus> {
      return statusOf(await load(tenantId, mailboxId));
    },

    async listSyncStatuses(
      tenantId: string,
      state: number,
      after: string | undefined,
      limit: number,
    ): Promise<{ statuses: MailboxSyncStatus[]; next: string }> {
      const [all, heads] = await Promise.all([listAll(stores.mailboxes, `${tenantId}/`), leases.heads(`${tenantId}/`)]);
      const candidates = all.map((entry) => entry.document).filter((document) => !(after && document.mailboxId <= after));
      const page = await pageOf(
        candidates,
        limit,
        (document) => statusOf(document, heads),
        (status) => !state || status.state === state,
      );
      return { statuses: page.items, next: page.more ? (page.items.at(-1)?.mailboxId ?? '') : '' };
    },
  };
}

export type MailboxFetchCore = ReturnType<typeof createMailboxFetchCore>;
