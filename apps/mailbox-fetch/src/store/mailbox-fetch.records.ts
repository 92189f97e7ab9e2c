import { createHash } from 'node:crypto';

/** Folder selection as stored (exactly one field set). */
export interface FolderRecord {
  wellKnownName?: string | undefined;
  path?: string | undefined;
  folderId?: string | undefined;
}

/** A routed mailbox's configuration. Epoch milliseconds everywhere. */
export interface MailboxRecord {
  tenantId: string;
  mailboxId: string;
  address: string;
  displayName: string;
  /** proto MailboxKind. */
  kind: number;
  /** proto MailboxAccessMode (never UNSPECIFIED once stored). */
  accessMode: number;
  credentialsId: string;
  folder: FolderRecord;
  /** proto PostProcessingAction (never UNSPECIFIED once stored). */
  postProcessingAction: number;
  moveTo?: FolderRecord | undefined;
  /** proto InitialSyncMode (never UNSPECIFIED once stored). */
  initialSyncMode: number;
  backfillDays: number;
  pollIntervalMs: number;
  enabled: boolean;
  defaultQueueId: string;
  attachmentStorageLimitBytes: number;
  /** Bumped when the folder changes: a cursor of an older generation is discarded. */
  folderGeneration: number;
  /** When mail "from now on" starts: creation, or the last folder change. */
  syncFromAt: number;
  createdAt: number;
  updatedAt: number;
  etag: string;
}

/** One stored position of a mailbox's delta sync (append-only, see SyncCursorStore). */
export interface SyncCursorRecord {
  seq: number;
  folderGeneration: number;
  /** The Graph nextLink (mid-round) or deltaLink (between rounds); absent = start over. */
  link?: string | undefined;
  linkKind?: 'next' | 'delta' | undefined;
  /** Lower bound of receivedDateTime of the round that produced the link (re-used by resyncs). */
  windowStart: number;
  /** Set while the link belongs to a full re-read of the folder. */
  resyncing?: boolean | undefined;
  owner: string;
  at: number;
}

/** A finding in the shape of proto DiagnosticFinding (enums as numbers). */
export interface FindingRecord {
  check: number;
  code: number;
  message: string;
  remedy: string;
  setupStep: number;
  details: Record<string, string>;
}

/** Sync status of a mailbox, written by its owner. */
export interface MailboxStatusRecord {
  /** proto MailboxSyncState. */
  state: number;
  lastError?: FindingRecord | undefined;
  lastErrorAt?: number | undefined;
  consecutiveFailures: number;
  lastSyncStartedAt?: number | undefined;
  lastSuccessfulSyncAt?: number | undefined;
  nextSyncAt?: number | undefined;
  throttledUntil?: number | undefined;
  backlogMessages: number;
  messagesIngestedTotal: number;
  lastIngestedAt?: number | undefined;
  lastFullResyncAt?: number | undefined;
  kind?: number | undefined;
  /** How new mail is noticed: a live Graph subscription (push) or polling alone, and why (push/intake-mode.ts). */
  intake?: IntakeRecord | undefined;
}

/** The intake mode of a mailbox, shown in its sync status. */
export interface IntakeRecord {
  mode: 'push' | 'polling';
  /** Why polling (proto MailboxPollingReason); unset in push mode. */
  pollingReason?: 'no-public-url' | 'subscription-refused' | 'permission' | 'lifecycle' | 'delegated-access' | undefined;
  /** Why polling, in operator language (Graph's error, the lifecycle event); empty in push mode. */
  reason: string;
  /** When the live subscription expires (push mode). */
  subscriptionExpiresAt?: number | undefined;
}

/** The unique record of one ingested e-mail: tenant + mailbox + internetMessageId (or Graph id). */
export interface InboundMessageRecord {
  tenantId: string;
  mailboxId: string;
  interactionId: string;
  internetMessageId: string;
  graphMessageId: string;
  receivedAt: number;
  ingestedAt: number;
  /** Set once the InboundEmail event was accepted by the bus. */
  publishedAt?: number | undefined;
  /** Set once post-processing (mark read / move) was applied. */
  postProcessedAt?: number | undefined;
}

/**
 * Post-processing still to apply to an ingested e-mail (stored under its inbound record's key,
 * removed once done): the record, plus the attempts so far and when the next one is due.
 */
export interface PostProcessingWorkRecord extends InboundMessageRecord {
  queuedAt: number;
  attempts: number;
  /** Epoch ms; 0 = at once. */
  nextAttemptAt: number;
  /** The last attempt's error (truncated), for operators reading the store. */
  lastError?: string | undefined;
}

/** A SyncNow request, picked up by the owning replica. */
export interface SyncRequestRecord {
  requestedAt: number;
  fullResync: boolean;
}

/** Stored content of one inbound attachment. */
export interface AttachmentContentRecord {
  tenantId: string;
  interactionId: string;
  attachmentId: string;
  name: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  contentBase64: string;
}

/** `<tenant>/<mailbox>`: the key of a mailbox's configuration, status, requests and lease. */
export function mailboxKey(tenantId: string, mailboxId: string): string {
  return `${tenantId}/${mailboxId}`;
}

/** A zero-padded sequence number so keys sort numerically. */
export function seqKey(seq: number): string {
  return String(seq).padStart(12, '0');
}

/** The dedupe identity of an e-mail in a mailbox: internetMessageId, or the Graph id when missing. */
export function messageIdentity(internetMessageId: string | null | undefined, graphMessageId: string): string {
  return internetMessageId ? `imid:${internetMessageId}` : `gid:${graphMessageId}`;
}

/** Deterministic interaction id of an e-mail: the same e-mail always gets the same id. */
export function interactionIdFor(tenantId: string, mailboxId: string, identity: string): string {
  return `ixn-${createHash('sha256').update(`${tenantId}\n${mailboxId}\n${identity}`).digest('hex').slice(0, 40)}`;
}

/** ASCII key part for an arbitrary string (Message-IDs may hold any character). */
export function hashKey(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
