import { randomBytes } from 'node:crypto';
import {
  InitialSyncMode,
  MailboxAccessMode,
  MailboxKind,
  PostProcessingAction,
  type FolderRef,
  type Mailbox,
} from '@mailroute/contracts';
import { ValidationError, idRules, readResourceId } from '@mailroute/platform';
import type { FolderRecord, MailboxRecord } from '../store/mailbox-fetch.records';
import { isRefusedWellKnownName } from './move-target';

const idPattern = idRules.resource.pattern;
const addressPattern = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const defaultAttachmentLimit = 26_214_400;
const maxAttachmentLimit = 157_286_400;

/** A new mailbox id of the resource-id shape. */
export function generateMailboxId(): string {
  return `mbx-${randomBytes(6).toString('hex')}`;
}

export function readMailboxId(value: string, field = 'mailbox_id'): string {
  return readResourceId(value, field);
}

function readFolder(ref: FolderRef | undefined, field: string): FolderRecord | undefined {
  const folder = ref?.folder;
  if (!folder) return undefined;
  switch (folder.$case) {
    case 'wellKnownName':
      if (!/^[a-z]{1,64}$/i.test(folder.value))
        throw new ValidationError(`${field}.well_known_name`, 'must be a Graph well-known folder name such as "inbox"');
      return { wellKnownName: folder.value.toLowerCase() };
    case 'path': {
      const segments = folder.value.split('/');
      if (segments.length < 1 || segments.length > 10 || segments.some((s) => s.length < 1 || s.length > 255)) {
        throw new ValidationError(`${field}.path`, 'must be 1-10 segments of 1-255 characters separated by "/"');
      }
      return { path: folder.value };
    }
    case 'folderId':
      if (!folder.value || folder.value.length > 512) throw new ValidationError(`${field}.folder_id`, 'must be 1-512 characters');
      return { folderId: folder.value };
  }
}

function sameFolder(a: FolderRecord | undefined, b: FolderRecord | undefined): boolean {
  const name = (f: FolderRecord | undefined) => (f?.wellKnownName ?? f?.path ?? f?.folderId ?? 'inbox').toLowerCase();
  return name(a) === name(b);
}

/**
 * The Mailbox fields UpdateMailbox may change (proto names). `mailbox_id`, `kind`, `sync_status`,
 * the timestamps and `etag` are output only; `address` is immutable.
 */
export const writableMailboxPaths = [
  'display_name',
  'access_mode',
  'credentials_id',
  'folder',
  'post_processing',
  'initial_sync',
  'poll_interval',
  'enabled',
  'default_queue_id',
  'attachment_storage_limit_bytes',
] as const;

/** Writable fields of a Mailbox, validated, as they would be stored (update masks pick from it). */
export function readMailboxFields(
  mailbox: Mailbox | undefined,
  prefix = 'mailbox',
): Omit<
  MailboxRecord,
  'tenantId' | 'mailboxId' | 'kind' | 'folderGeneration' | 'syncFromAt' | 'createdAt' | 'updatedAt' | 'etag'
> {
  if (!mailbox) throw new ValidationError(prefix, 'is required');
  const address = mailbox.address.trim();
  if (!address) throw new ValidationError(`${prefix}.address`, 'is required');
  if (address.length > 320 || !addressPattern.test(address))
    throw new ValidationError(`${prefix}.address`, 'must be an e-mail address or user principal name, at most 320 characters');
  if (mailbox.displayName.length > 200) throw new ValidationError(`${prefix}.display_name`, 'must be at most 200 characters');
  if (mailbox.credentialsId && !idPattern.test(mailbox.credentialsId))
    throw new ValidationError(`${prefix}.credentials_id`, 'must be a resource id');
  const accessMode =
    mailbox.accessMode === MailboxAccessMode.MAILBOX_ACCESS_MODE_UNSPECIFIED
      ? MailboxAccessMode.MAILBOX_ACCESS_MODE_APP_ONLY
      : mailbox.accessMode;
  if (!(accessMode in MailboxAccessMode) || accessMode < 0)
    throw new ValidationError(`${prefix}.access_mode`, 'is not a known access mode');
  const folder = readFolder(mailbox.folder, `${prefix}.folder`) ?? { wellKnownName: 'inbox' };

  const rawAction = mailbox.postProcessing?.action ?? PostProcessingAction.POST_PROCESSING_ACTION_UNSPECIFIED;
  if (!(rawAction in PostProcessingAction) || rawAction < 0)
    throw new ValidationError(`${prefix}.post_processing.action`, 'is not a known action');
  const action =
    rawAction === PostProcessingAction.POST_PROCESSING_ACTION_UNSPECIFIED
      ? PostProcessingAction.POST_PROCESSING_ACTION_MARK_READ
      : rawAction;
  const moves =
    action === PostProcessingAction.POST_PROCESSING_ACTION_MOVE ||
    action === PostProcessingAction.POST_PROCESSING_ACTION_MARK_READ_AND_MOVE;
  const moveTo = readFolder(mailbox.postProcessing?.moveTo, `${prefix}.post_processing.move_to`);
  if (moves && !moveTo)
    throw new ValidationError(`${prefix}.post_processing.move_to`, 'is required for MOVE and MARK_READ_AND_MOVE');
  if (!moves && moveTo) throw new ValidationError(`${prefix}.post_processing.move_to`, 'must be unset unless the action moves');
  // Only the names; the core resolves ids and paths through Graph (move-target.ts).
  if (moveTo?.wellKnownName && isRefusedWellKnownName(moveTo.wellKnownName)) {
    throw new ValidationError(
      `${prefix}.post_processing.move_to`,
      `cannot be "${moveTo.wellKnownName}" (mailroute never causes a deletion or sends)`,
    );
  }
  if (moveTo && sameFolder(moveTo, folder))
    throw new ValidationError(`${prefix}.post_processing.move_to`, 'must differ from the folder being read');

  const rawMode = mailbox.initialSync?.mode ?? InitialSyncMode.INITIAL_SYNC_MODE_UNSPECIFIED;
  if (!(rawMode in InitialSyncMode) || rawMode < 0)
    throw new ValidationError(`${prefix}.initial_sync.mode`, 'is not a known mode');
  const mode = rawMode === InitialSyncMode.INITIAL_SYNC_MODE_UNSPECIFIED ? InitialSyncMode.INITIAL_SYNC_MODE_FROM_NOW : rawMode;
  const days = mailbox.initialSync?.backfillDays ?? 0;
  if (mode === InitialSyncMode.INITIAL_SYNC_MODE_BACKFILL && (days < 1 || days > 90))
    throw new ValidationError(`${prefix}.initial_sync.backfill_days`, 'must be 1-90 for BACKFILL');
  if (mode !== InitialSyncMode.INITIAL_SYNC_MODE_BACKFILL && days !== 0)
    throw new ValidationError(`${prefix}.initial_sync.backfill_days`, 'must be 0 unless the mode is BACKFILL');

  let pollIntervalMs = 60_000;
  if (mailbox.pollInterval) {
    pollIntervalMs = mailbox.pollInterval.seconds * 1000 + Math.round(mailbox.pollInterval.nanos / 1e6);
    if (pollIntervalMs < 10_000 || pollIntervalMs > 3_600_000)
      throw new ValidationError(`${prefix}.poll_interval`, 'must be between 10s and 1h');
  }
  if (mailbox.defaultQueueId && !idPattern.test(mailbox.defaultQueueId))
    throw new ValidationError(`${prefix}.default_queue_id`, 'must be a resource id');
  const limit = Number(mailbox.attachmentStorageLimitBytes || 0);
  if (limit < 0 || limit > maxAttachmentLimit)
    throw new ValidationError(`${prefix}.attachment_storage_limit_bytes`, `must be between 0 and ${maxAttachmentLimit}`);

  return {
    address,
    displayName: mailbox.displayName,
    accessMode,
    credentialsId: mailbox.credentialsId || 'default',
    folder,
    postProcessingAction: action,
    moveTo,
    initialSyncMode: mode,
    backfillDays: days,
    pollIntervalMs,
    enabled: mailbox.enabled ?? true,
    defaultQueueId: mailbox.defaultQueueId,
    attachmentStorageLimitBytes: limit || defaultAttachmentLimit,
  };
}

function toFolderRef(folder: FolderRecord | undefined): FolderRef | undefined {
  if (!folder) return undefined;
  if (folder.folderId) return { folder: { $case: 'folderId', value: folder.folderId } };
  if (folder.path) return { folder: { $case: 'path', value: folder.path } };
  return { folder: { $case: 'wellKnownName', value: folder.wellKnownName ?? 'inbox' } };
}

/** The stored mailbox as the API returns it (without sync status). */
export function toMailbox(record: MailboxRecord): Mailbox {
  return {
    mailboxId: record.mailboxId,
    address: record.address,
    displayName: record.displayName,
    kind: record.kind || MailboxKind.MAILBOX_KIND_UNSPECIFIED,
    accessMode: record.accessMode,
    credentialsId: record.credentialsId,
    folder: toFolderRef(record.folder),
    postProcessing: { action: record.postProcessingAction, moveTo: toFolderRef(record.moveTo) },
    initialSync: { mode: record.initialSyncMode, backfillDays: record.backfillDays },
    pollInterval: { seconds: Math.floor(record.pollIntervalMs / 1000), nanos: (record.pollIntervalMs % 1000) * 1e6 },
    enabled: record.enabled,
    defaultQueueId: record.defaultQueueId,
    attachmentStorageLimitBytes: record.attachmentStorageLimitBytes,
    syncStatus: undefined,
    createdAt: new Date(record.createdAt),
    updatedAt: new Date(record.updatedAt),
    etag: record.etag,
  };
}
