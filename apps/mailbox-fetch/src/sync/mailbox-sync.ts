/**
 * One mailbox's delta turn: pages, ingest in the documented order, cursor, post-processing, described
 * at createMailboxSync. The ordering is the invariant ("nothing lost, nothing doubled"), so it stays
 * in one file, hence its size (over 400 lines).
 */
import { randomUUID } from 'node:crypto';
import { context, trace, type Context, type Span } from '@opentelemetry/api';
import { InitialSyncMode, MailboxAccessMode, type InboundEmail } from '@mailroute/contracts';
import {
  isGraphMailError,
  type DeltaPage,
  type FolderSelector,
  type GraphAttachment,
  type GraphMailClient,
  type GraphMessage,
  type MailboxGraph,
  type MailboxTarget,
} from '@mailroute/graph-mail';
import { eventKey, events, toEventMessage, withTraceHeaders, type EventBus } from '@mailroute/messaging';
import { inboundAttachmentBlobKey } from '@mailroute/persistence';
import { endingSpans, ValidationError, type BackoffOptions, type Logger } from '@mailroute/platform';
import { toInboundMessage, type StoredAttachment } from '../ingest/inbound-mapping';
import { checkMoveTarget } from '../mailboxes/move-target';
import {
  hashKey,
  interactionIdFor,
  mailboxKey,
  messageIdentity,
  type FolderRecord,
  type InboundMessageRecord,
  type MailboxRecord,
  type SyncCursorRecord,
} from '../store/mailbox-fetch.records';
import type { MailboxFetchStores } from '../store/mailbox-fetch.stores';
import { LostMailboxError, ReplicaStoppingError } from './lost-mailbox.error';
import { detectMailboxKind } from './mailbox-kind';
import { createPostProcessing } from './post-processing';
import type { TurnTiming } from './round-timing';
import type { SyncCursorStore } from './sync-cursor.store';

/** What ingesting one delta page did. */
interface IngestedPage {
  toPostProcess: { record: InboundMessageRecord; recordKey: string; isRead: boolean }[];
  ingested: number;
  /** When the messages were read (records looked up, Graph asked), the records stored, the batch published. */
  fetchedAt?: number | undefined;
  storedAt?: number | undefined;
  publishedAt?: number | undefined;
  interactionIds: string[];
}

/** A quiet mailbox's delta link is re-stored at least this often, so it never ages out of Graph's sync state. */
const quietLinkRefreshMs = 10 * 60_000;
/** A checked move target is checked again after this long (someone may have moved the folder). */
const moveTargetRecheckMs = 10 * 60_000;
/** Slack before "from now on": mail delivered while the mailbox was being created is still read. */
const fromNowSlackMs = 60_000;

const tracer = trace.getTracer('mailbox-fetch');

export interface MailboxSyncDeps {
  stores: MailboxFetchStores;
  cursors: SyncCursorStore;
  graph: GraphMailClient;
  bus: EventBus;
  logger: Logger;
  clock: () => number;
  replicaId: string;
  /** Pages read per turn before the mailbox yields to others (fairness). */
  maxPagesPerTurn: number;
  onIngested?: (count: number, mailbox: MailboxRecord, freshnessMs: readonly number[]) => void;
  /** Backoff between post-processing attempts of one e-mail (the sync runtime's error backoff). */
  postProcessingBackoff: BackoffOptions;
}

export interface TurnResult {
  /** The round reached Graph's deltaLink. */
  complete: boolean;
  /** The round started in this turn (so lastSyncStartedAt moves). */
  startedRound: boolean;
  /** The round is a first sync (no earlier cursor) or a re-read of the folder. */
  phase: 'initial' | 'resync' | 'incremental';
  ingested: number;
  /** Messages seen in this turn not yet ingested when it ended (lower bound of the backlog). */
  backlog: number;
  /** When the mailbox's next failed post-processing is due for a retry (none pending: undefined). */
  postProcessingDueAt?: number | undefined;
  /** proto MailboxKind, when the turn was asked to detect it and Graph told. */
  kind?: number | undefined;
  /** When the first delta page came and the first batch was published (for a woken round's timing log). */
  timing?: TurnTiming;
}

export function targetOf(mailbox: MailboxRecord): MailboxTarget {
  return {
    tenantId: mailbox.tenantId,
    address: mailbox.address,
    principal:
      mailbox.accessMode === MailboxAccessMode.MAILBOX_ACCESS_MODE_DELEGATED
        ? { kind: 'delegated', mailboxAddress: mailbox.address }
        : { kind: 'app-only', credentialsId: mailbox.credentialsId || 'default' },
  };
}

export function folderSelector(folder: FolderRecord | undefined): FolderSelector {
  if (folder?.folderId) return { folderId: folder.folderId };
  if (folder?.path) return { path: folder.path };
  return { wellKnownName: folder?.wellKnownName || 'inbox' };
}

/** Where a fresh round's window starts: mail "from now on", or the backfill days. */
function windowStartOf(mailbox: MailboxRecord, now: number): number {
  if (mailbox.initialSyncMode === InitialSyncMode.INITIAL_SYNC_MODE_BACKFILL) return now - mailbox.backfillDays * 86_400_000;
  return mailbox.syncFromAt - fromNowSlackMs;
}

/**
 * One turn of a mailbox's sync: up to `maxPagesPerTurn` delta pages from the stored link. Each
 * page is ingested in the documented order: post-processing work and unique inbound record (the
 * interaction key) → event published → cursor advanced → post-processing applied. A crash anywhere
 * re-reads the page; the unique record makes that harmless and an unpublished record is published
 * again; post-processing left undone is stored work, retried until done (see post-processing.ts).
 */
export function createMailboxSync(deps: MailboxSyncDeps) {
  const { stores, cursors, graph, bus, clock, logger } = deps;
  const moveTargets = new Map<string, { id: string; checkedAt: number }>();
  const postProcessing = createPostProcessing({
    stores,
    logger,
    clock,
    moveTargetId,
    backoff: deps.postProcessingBackoff,
  });

  async function resolveFolderId(api: MailboxGraph, folder: FolderRecord | undefined): Promise<string> {
    const selector = folderSelector(folder);
    if ('wellKnownName' in selector) return selector.wellKnownName.toLowerCase();
    if ('folderId' in selector) return selector.folderId;
    return (await api.getFolder(selector)).id;
  }

  /**
   * The move target's folder id, resolved and checked against the never-delete guard (Deleted Items,
   * Recoverable Items and folders inside them, however named); checked again every
   * `moveTargetRecheckMs`, since a person may move the folder. A path not there yet is created.
   */
  async function moveTargetId(api: MailboxGraph, mailbox: MailboxRecord): Promise<string> {
    const cacheKey = `${mailboxKey(mailbox.tenantId, mailbox.mailboxId)}|${JSON.stringify(mailbox.moveTo)}`;
    const cached = moveTargets.get(cacheKey);
    if (cached && clock() - cached.checkedAt < moveTargetRecheckMs) return cached.id;
    if (!mailbox.moveTo)
      throw new ValidationError('mailbox.post_processing.move_to', 'is required for MOVE and MARK_READ_AND_MOVE');
    const folder =
      (await checkMoveTarget(api, mailbox.moveTo)) ??
      (mailbox.moveTo.path ? await api.resolveFolderPath(mailbox.moveTo.path, true) : undefined);
    if (!folder) throw new Error('move target folder could not be created');
    moveTargets.set(cacheKey, { id: folder.id, checkedAt: clock() });
    return folder.id;
  }

  /**
   * Stores the content of the message's file attachments (inline `cid:` parts included) in the blob
   * store, read raw through `$value`, while they fit the mailbox's per-message storage limit (at
   * most 150 MB). Content already stored (a page read again after a crash) is not fetched again.
   */
  async function storeAttachments(api: MailboxGraph, mailbox: MailboxRecord, message: GraphMessage) {
    if (!message.hasAttachments) return { stored: [] as StoredAttachment[], overLimit: false };
    const listed: GraphAttachment[] = await api.listAttachments(message.id);
    const limit = mailbox.attachmentStorageLimitBytes;
    let used = 0;
    let overLimit = false;
    const stored: StoredAttachment[] = [];
    for (const attachment of listed) {
      const size = attachment.size ?? 0;
      const isFile = !attachment['@odata.type'] || attachment['@odata.type'].endsWith('fileAttachment');
      if (!isFile) {
        stored.push({ attachment });
        continue;
      }
      if (used + size > limit || stored.length >= 100) {
        overLimit = true;
        stored.push({ attachment });
        continue;
      }
      const key = inboundAttachmentBlobKey(mailbox.tenantId, message.id, attachment.id);
      const existing = await stores.blobs.stat(key);
      const info =
        existing ??
        // Streamed from Graph into the blob store (GridFS chunks, or a file): never held whole in memory.
        (await api.streamAttachmentContent(message.id, attachment.id, (content) =>
          stores.blobs.put(key, content, {
            name: attachment.name ?? '',
            contentType: attachment.contentType ?? 'application/octet-stream',
          }),
        ));
      used += size;
      stored.push({ attachment: { ...attachment, size: info.sizeBytes }, sha256: info.sha256 });
    }
    return { stored, overLimit };
  }

  /**
   * The inbound record with its markers. Markers (`#published`, `#post`) are separate unique
   * inserts rather than updates of the record: inserts are what FerretDB applies reliably under
   * contention, and a lost marker would mean a duplicate event.
   */
  async function readInbound(recordKey: string): Promise<InboundMessageRecord | undefined> {
    // Point reads by key: FerretDB v1 pushes `_id` equality down, not `_id` ranges.
    const [record, published, post] = await Promise.all([
      stores.inbound.get(recordKey),
      stores.inbound.get(`${recordKey}#published`),
      stores.inbound.get(`${recordKey}#post`),
    ]);
    if (!record) return undefined;
    return { ...record, publishedAt: published?.publishedAt, postProcessedAt: post?.postProcessedAt };
  }

  async function markPublished(recordKey: string, record: InboundMessageRecord): Promise<InboundMessageRecord> {
    const marked = { ...record, publishedAt: clock() };
    await stores.inbound.insert(`${recordKey}#published`, marked);
    return marked;
  }

  /** Ingests one page; returns records to post-process. */
  async function ingestPage(
    api: MailboxGraph,
    mailbox: MailboxRecord,
    page: DeltaPage,
    backfill: boolean,
  ): Promise<IngestedPage> {
    const key = mailboxKey(mailbox.tenantId, mailbox.mailboxId);
    const items = await Promise.all(
      page.messages.map(async (item) => {
        const identity = messageIdentity(item.internetMessageId, item.id);
        const recordKey = `${key}/${hashKey(identity)}`;
        const existing = await readInbound(recordKey);
        return { item, identity, recordKey, existing };
      }),
    );
    // One trace per e-mail: its span (a root; linked to a call that asked for the sync, if any) holds
    // the Graph reads of the message, its record and the publish, whose headers carry it to the router.
    const spans: Span[] = [];
    const emailSpan = (interactionId: string): Span => {
      const caller = trace.getSpanContext(context.active());
      const span = tracer.startSpan('mailbox-fetch.email', {
        root: true,
        links: caller ? [{ context: caller }] : [],
        attributes: {
          'mailroute.tenant_id': mailbox.tenantId,
          'mailroute.mailbox_id': mailbox.mailboxId,
          'mailroute.interaction_id': interactionId,
        },
      });
      spans.push(span);
      return span;
    };
    return endingSpans(spans, () => ingestTracedPage(api, mailbox, items, backfill, emailSpan));
  }

  async function ingestTracedPage(
    api: MailboxGraph,
    mailbox: MailboxRecord,
    items: {
      item: DeltaPage['messages'][number];
      identity: string;
      recordKey: string;
      existing: InboundMessageRecord | undefined;
    }[],
    backfill: boolean,
    emailSpan: (interactionId: string) => Span,
  ): Promise<IngestedPage> {
    // Fetch what the delta page lacks (body, headers, attachments) for everything not yet published;
    // the limiter keeps this to the mailbox's share of concurrent requests.
    const fetched = await Promise.all(
      items.map(async (entry) => {
        if (entry.existing?.publishedAt) return undefined;
        const interactionId =
          entry.existing?.interactionId ?? interactionIdFor(mailbox.tenantId, mailbox.mailboxId, entry.identity);
        const traced = trace.setSpan(context.active(), emailSpan(interactionId));
        return context.with(traced, async () => {
          const message = await api.getMessage(entry.item.id);
          const attachments = await storeAttachments(api, mailbox, message);
          return { interactionId, message, attachments, traced };
        });
      }),
    );

    const now = clock();
    const fetchedAt = now;
    const toPublish: { record: InboundMessageRecord; recordKey: string; event: InboundEmail; traced: Context }[] = [];
    const toPostProcess: { record: InboundMessageRecord; recordKey: string; isRead: boolean }[] = [];
    for (const [index, entry] of items.entries()) {
      const details = fetched[index];
      let record = entry.existing;
      if (!details) {
        if (record && !record.postProcessedAt)
          toPostProcess.push({ record, recordKey: entry.recordKey, isRead: entry.item.isRead ?? false });
        continue;
      }
      const receivedAt = details.message.receivedDateTime ? Date.parse(details.message.receivedDateTime) : now;
      if (!record) {
        const candidate: InboundMessageRecord = {
          tenantId: mailbox.tenantId,
          mailboxId: mailbox.mailboxId,
          interactionId: details.interactionId,
          internetMessageId: details.message.internetMessageId ?? '',
          graphMessageId: details.message.id,
          receivedAt,
          ingestedAt: now,
        };
        // The post-processing work is stored first: an inbound record never exists without it.
        await postProcessing.enqueue(entry.recordKey, candidate);
        record = (await context.with(details.traced, () => stores.inbound.insert(entry.recordKey, candidate)))
          ? candidate
          : await readInbound(entry.recordKey);
        if (!record) throw new Error(`inbound record ${entry.recordKey} vanished`);
        if (record.publishedAt) continue;
      }
      const event: InboundEmail = {
        eventId: randomUUID(),
        tenantId: mailbox.tenantId,
        occurredAt: new Date(now),
        interactionId: record.interactionId,
        mailboxId: mailbox.mailboxId,
        mailboxAddress: mailbox.address,
        message: toInboundMessage(details.message, details.attachments.stored, details.attachments.overLimit),
        defaultQueueId: mailbox.defaultQueueId,
        backfill,
      };
      toPublish.push({ record, recordKey: entry.recordKey, event, traced: details.traced });
    }

    let publishedAt: number | undefined;
    const storedAt = clock();
    if (toPublish.length > 0) {
      const eventKeyValue = eventKey(mailbox.tenantId, mailbox.mailboxId);
      await bus.publish(
        events.inboundEmail.topic,
        toPublish.map(({ event, traced }) => withTraceHeaders(toEventMessage('inboundEmail', eventKeyValue, event), traced)),
      );
      publishedAt = clock();
      const marked = await Promise.all(toPublish.map((entry) => markPublished(entry.recordKey, entry.record)));
      for (const [index, entry] of toPublish.entries())
        toPostProcess.push({ record: marked[index] ?? entry.record, recordKey: entry.recordKey, isRead: false });
      deps.onIngested?.(
        toPublish.length,
        mailbox,
        toPublish.map(({ record }) => (publishedAt ?? 0) - record.receivedAt),
      );
    }
    return {
      toPostProcess,
      ingested: toPublish.length,
      ...(publishedAt === undefined ? {} : { fetchedAt, storedAt, publishedAt }),
      interactionIds: toPublish.map(({ record }) => record.interactionId),
    };
  }

  /**
   * One turn: the delta pages, then the retries of post-processing that failed earlier (after a
   * takeover or restart, the first turn reads them from the store). A failed retry never fails the
   * turn; it is due again after its backoff, which the result reports so the turn is scheduled then.
   */
  async function turn(
    mailbox: MailboxRecord,
    options: { fullResync: boolean; isOwner: () => boolean; detectKind?: boolean; signal?: AbortSignal },
  ): Promise<TurnResult> {
    const key = mailboxKey(mailbox.tenantId, mailbox.mailboxId);
    // No Graph request for the mailbox once this replica no longer owns it (by its own clock), not
    // even within the page it was on — a replica that stalled sends nothing for a mailbox another now reads.
    const api = graph.mailbox(targetOf(mailbox), {
      beforeRequest: () => {
        if (!options.isOwner()) throw new LostMailboxError(key);
      },
      // A stopping replica aborts the turn's Graph calls, in flight or waiting for a slot.
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const kind = options.detectKind ? await detectMailboxKind(api, mailbox, logger) : undefined;
    const result = await readDelta(api, mailbox, options);
    options.signal?.throwIfAborted();
    if (!options.isOwner()) throw new LostMailboxError(key);
    await postProcessing.runDue(api, mailbox);
    return { ...result, postProcessingDueAt: postProcessing.nextDueAt(key), kind };
  }

  /** The delta part of a turn; `fullResync` drops the stored link first. */
  async function readDelta(
    api: MailboxGraph,
    mailbox: MailboxRecord,
    options: { fullResync: boolean; isOwner: () => boolean; signal?: AbortSignal },
  ): Promise<TurnResult> {
    const key = mailboxKey(mailbox.tenantId, mailbox.mailboxId);
    let cursor: SyncCursorRecord | undefined = await cursors.latest(key, mailbox.createdAt);
    const usable =
      cursor && cursor.folderGeneration === mailbox.folderGeneration && cursor.link && !options.fullResync ? cursor : undefined;
    const now = clock();
    let phase: TurnResult['phase'] =
      !cursor || cursor.folderGeneration !== mailbox.folderGeneration
        ? 'initial'
        : usable?.resyncing || options.fullResync
          ? 'resync'
          : 'incremental';
    let windowStart = options.fullResync || !usable ? windowStartOf(mailbox, now) : usable.windowStart;
    let startedRound = !usable || usable.linkKind === 'delta';

    const start = async (): Promise<DeltaPage> =>
      api.deltaStart({ folderId: await resolveFolderId(api, mailbox.folder), receivedSince: new Date(windowStart) });
    let page: DeltaPage;
    if (!usable?.link) {
      page = await start();
    } else {
      try {
        page = await api.deltaPage(usable.link);
      } catch (error) {
        if (!isGraphMailError(error, 'resync-required')) throw error;
        // Graph dropped the sync state (410): re-read the folder over the same window; the unique
        // inbound records recognise what was already ingested.
        logger.info(
          { tenantId: mailbox.tenantId, mailboxId: mailbox.mailboxId, graphCode: error.graphCode },
          'mailbox-fetch: delta state gone, resyncing',
        );
        phase = 'resync';
        windowStart = usable.windowStart;
        startedRound = true;
        page = await start();
      }
    }

    let ingested = 0;
    let backlog = 0;
    const timing: TurnTiming = { firstPageAt: clock(), interactionIds: [] };
    for (let pages = 1; ; pages += 1) {
      // The safe points of a stop: before a page is ingested (the cursor only ever moves past published pages).
      options.signal?.throwIfAborted();
      if (!options.isOwner()) throw new LostMailboxError(key);
      const result = await ingestPage(
        api,
        mailbox,
        page,
        phase !== 'incremental' && mailbox.initialSyncMode === InitialSyncMode.INITIAL_SYNC_MODE_BACKFILL,
      );
      ingested += result.ingested;
      if (timing.publishedAt === undefined && result.publishedAt !== undefined)
        Object.assign(timing, { fetchedAt: result.fetchedAt, storedAt: result.storedAt, publishedAt: result.publishedAt });
      timing.interactionIds.push(...result.interactionIds.slice(0, 100 - timing.interactionIds.length));
      if (
        pages === 1 &&
        page.deltaLink &&
        page.messages.length === 0 &&
        page.removedIds.length === 0 &&
        phase === 'incremental' &&
        usable?.linkKind === 'delta' &&
        clock() - usable.at < quietLinkRefreshMs
      ) {
        // A quiet poll: the stored delta link still reads everything after it, so keep it rather
        // than write a cursor per poll per mailbox (the store's busiest write at thousands of mailboxes).
        return { complete: true, startedRound, phase, ingested, backlog: 0, timing };
      }
      const link = page.deltaLink ?? page.nextLink;
      cursor = await cursors.advance(key, mailbox.createdAt, cursor, {
        folderGeneration: mailbox.folderGeneration,
        link,
        linkKind: page.deltaLink ? 'delta' : 'next',
        windowStart,
        resyncing: phase === 'resync' && !page.deltaLink ? true : undefined,
        owner: deps.replicaId,
        at: clock(),
      });
      await postProcessing.runNow(api, mailbox, result.toPostProcess);
      if (page.deltaLink) return { complete: true, startedRound, phase, ingested, backlog: 0, timing };
      if (pages >= deps.maxPagesPerTurn) {
        backlog = 1;
        return { complete: false, startedRound, phase, ingested, backlog, timing };
      }
      page = await api.deltaPage(page.nextLink ?? '');
    }
  }

  return {
    turn,
    /** The mailbox left this replica (its pending post-processing is re-read if it comes back). */
    release: (key: string) => {
      postProcessing.forget(key);
      cursors.release(key);
    },
    /** Post-processing items of an owned mailbox not yet applied. */
    pendingPostProcessing: (key: string) => postProcessing.pendingCount(key),
  };
}

export type MailboxSync = ReturnType<typeof createMailboxSync>;

export { LostMailboxError, ReplicaStoppingError };
