import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  EmbeddedDocumentTable,
  EmbeddedStore,
  FileBlobStore,
  MongoBlobStore,
  MongoDocumentTable,
  MongoStore,
  type BlobStore,
  type DocumentTable,
  type AlertRow,
  type LivenessDocument,
} from '@mailroute/persistence';
import type { AlertPayload } from '@mailroute/messaging';
import type { Logger } from '@mailroute/platform';
import type {
  AttachmentContentRecord,
  InboundMessageRecord,
  MailboxRecord,
  MailboxStatusRecord,
  PostProcessingWorkRecord,
  SyncCursorRecord,
  SyncRequestRecord,
} from './mailbox-fetch.records';
import type { LeaseDocument } from '../sync/mailbox-lease';
import type { GraphSubscriptionIndexRecord, GraphSubscriptionRecord } from '../push/subscription.records';

/** Every table mailbox-fetch keeps. Only unique inserts are relied on for atomicity (FerretDB v1). */
export interface MailboxFetchStores {
  mailboxes: DocumentTable<MailboxRecord>;
  statuses: DocumentTable<MailboxStatusRecord>;
  cursors: DocumentTable<SyncCursorRecord>;
  inbound: DocumentTable<InboundMessageRecord>;
  /** Post-processing not yet applied, under the inbound record's key (see sync/post-processing.ts). */
  postProcessing: DocumentTable<PostProcessingWorkRecord>;
  /**
   * Attachment content written by versions that kept it base64 in documents; moved into `blobs` at
   * start-up (see ingest/legacy-attachments.ts) and empty after that.
   */
  attachments: DocumentTable<AttachmentContentRecord>;
  /** Inbound attachment content (key: inboundAttachmentBlobKey), shared with the router and outbound-send. */
  blobs: BlobStore;
  syncRequests: DocumentTable<SyncRequestRecord>;
  leases: DocumentTable<LeaseDocument>;
  /** Replica heartbeats (owner liveness, ReplicaLiveness in libs/persistence). */
  liveness: DocumentTable<LivenessDocument>;
  /** Graph subscriptions by mailbox key, and their index by subscription id (push/subscription-manager.ts). */
  subscriptions: DocumentTable<GraphSubscriptionRecord>;
  subscriptionIndex: DocumentTable<GraphSubscriptionIndexRecord>;
  /** Mailbox-stopped-syncing alert claims and their markers (alerts/mailbox-sync-alerts.ts). */
  alerts: DocumentTable<AlertRow<AlertPayload>>;
  close(): Promise<void>;
}

const names = {
  mailboxes: 'mf_mailboxes',
  statuses: 'mf_sync_statuses',
  cursors: 'mf_sync_cursors',
  inbound: 'mf_inbound_messages',
  postProcessing: 'mf_post_processing',
  attachments: 'mf_attachment_contents',
  syncRequests: 'mf_sync_requests',
  leases: 'mf_mailbox_leases',
  liveness: 'mf_replica_liveness',
  subscriptions: 'mf_graph_subscriptions',
  subscriptionIndex: 'mf_graph_subscription_index',
  alerts: 'mf_alerts',
} as const;

/** Every table of mailbox-fetch, each made by `table` (one adapter's constructor). */
function tables(table: <T extends object>(name: string) => DocumentTable<T>): Omit<MailboxFetchStores, 'close' | 'blobs'> {
  return {
    mailboxes: table(names.mailboxes),
    statuses: table(names.statuses),
    cursors: table(names.cursors),
    inbound: table(names.inbound),
    postProcessing: table(names.postProcessing),
    attachments: table(names.attachments),
    syncRequests: table(names.syncRequests),
    leases: table(names.leases),
    liveness: table(names.liveness),
    subscriptions: table(names.subscriptions),
    subscriptionIndex: table(names.subscriptionIndex),
    alerts: table(names.alerts),
  };
}

/** Tables in MongoDB (or FerretDB); nothing beyond `_id` is indexed. */
export async function openMongoStores(options: { url: string; database: string; logger?: Logger }): Promise<MailboxFetchStores> {
  const store = await MongoStore.connect({
    url: options.url,
    database: options.database,
    appName: 'mailbox-fetch',
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return {
    ...tables(<T extends object>(name: string) => new MongoDocumentTable<T>(store, name)),
    blobs: new MongoBlobStore(store, attachmentBucket),
    close: () => store.close(),
  };
}

/** The GridFS bucket of attachment content, in the database the services share. */
const attachmentBucket = 'attachments';

/**
 * Tables in the embedded store (single process); attachment content as private files in
 * `blobDirectory` (shared with the router and outbound-send). Without one: `blobs` beside the
 * database file, or a fresh temporary directory for `:memory:` (tests).
 */
export function openEmbeddedStores(options: { path: string; blobDirectory?: string | undefined }): MailboxFetchStores {
  const store = new EmbeddedStore({ path: options.path });
  const blobDirectory =
    options.blobDirectory ??
    (options.path === ':memory:'
      ? mkdtempSync(path.join(os.tmpdir(), 'mailbox-fetch-blobs-'))
      : path.join(path.dirname(options.path), 'blobs'));
  return {
    ...tables(<T extends object>(name: string) => new EmbeddedDocumentTable<T>(store, name)),
    blobs: new FileBlobStore({ directory: blobDirectory }),
    close: async () => store.close(),
  };
}

/** Every entry under `prefix`, page by page. */
export async function listAll<T extends object>(
  table: DocumentTable<T>,
  prefix: string,
  pageSize = 500,
): Promise<{ key: string; document: T }[]> {
  const all: { key: string; document: T }[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await table.list({ prefix, after, limit: pageSize });
    all.push(...page);
    if (page.length < pageSize) return all;
    after = page[page.length - 1]?.key;
  }
}
