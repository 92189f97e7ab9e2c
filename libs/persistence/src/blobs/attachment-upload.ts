import { randomUUID } from 'node:crypto';
import type { AttachmentUploadMetadata, UploadedAttachment } from '@mailroute/contracts';
import { attachmentContentTypeProblem, attachmentNameProblem, ValidationError } from '@mailroute/platform';
import type { BlobInfo, BlobStore } from '../ports/blob-store';
import { uploadBlobKey } from './attachment-blob-keys';

/** Outlook's largest message (150 MB as Graph's upload sessions count it: 150 MiB, email.proto). */
const maxUploadBytes = 157_286_400;
/** Largest chunk of an upload stream (email.proto): a gRPC message stays well under the 4 MiB default. */
const maxUploadChunkBytes = 1_048_576;
/** How long an upload no send references is kept by default (email.proto: 24 hours). */
const defaultUploadTtlMs = 24 * 60 * 60_000;

/** One message of an upload stream (UploadReplyAttachmentRequest and UploadAttachmentRequest alike). */
export interface AttachmentUploadPart {
  part?: { $case: 'metadata'; value: AttachmentUploadMetadata } | { $case: 'chunk'; value: Uint8Array } | undefined;
}

export interface AttachmentUploadOptions {
  blobs: BlobStore;
  /** From the caller's verified identity. */
  tenantId: string;
  /** Read when the upload starts and again when its last byte is stored: the expiry counts from then. */
  clock: () => Date;
  /** How long the upload is kept unless a send references it, from when it finished; default 24 hours. */
  ttlMs?: number | undefined;
}

/** Known extensions' MIME types, for uploads that name none (proto: derived from the name's extension). */
const typesByExtension: Readonly<Record<string, string>> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  txt: 'text/plain',
  csv: 'text/csv',
  html: 'text/html',
  zip: 'application/zip',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

function contentTypeFor(metadata: AttachmentUploadMetadata): string {
  if (metadata.contentType) return metadata.contentType;
  const extension = /\.([A-Za-z0-9]{1,8})$/.exec(metadata.name)?.[1]?.toLowerCase();
  return (extension && typesByExtension[extension]) || 'application/octet-stream';
}

function checkMetadata(metadata: AttachmentUploadMetadata): void {
  const name = attachmentNameProblem(metadata.name);
  if (name) throw new ValidationError('metadata.name', name.problem);
  const type = attachmentContentTypeProblem(metadata.contentType);
  if (type) throw new ValidationError('metadata.content_type', type.problem);
  const size = Number(metadata.sizeBytes);
  if (!Number.isSafeInteger(size) || size < 1 || size > maxUploadBytes)
    throw new ValidationError('metadata.size_bytes', `must be 1 to ${maxUploadBytes} bytes (150 MiB, Outlook's message limit)`);
  if (metadata.sha256 && !/^[0-9a-f]{64}$/.test(metadata.sha256))
    throw new ValidationError('metadata.sha256', 'must be 64 lower-case hex digits');
}

/**
 * Receives a client-streamed attachment upload — the metadata first (name, content type, declared
 * size, optional SHA-256), then chunks of 1 byte to 1 MiB — into the blob store under a new upload
 * id, kept `ttlMs` (24 hours) from when its last byte arrived unless a send references it (a slow
 * upload does not eat into the time the agent has to send it; while it is being received, the expiry
 * counts from its start, so an abandoned one is swept all the same). The metadata is checked before any content
 * is read; the content is checked as it arrives (never more than the declared size is stored) and at
 * the end (size and SHA-256 as declared). Every refusal is a ValidationError naming the field, and
 * leaves nothing stored. This is the one implementation of the protocol: the router's
 * UploadReplyAttachment and outbound-send's UploadAttachment both use it.
 */
export async function receiveAttachmentUpload(
  parts: AsyncIterable<AttachmentUploadPart>,
  options: AttachmentUploadOptions,
): Promise<UploadedAttachment> {
  const iterator = parts[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done || first.value.part?.$case !== 'metadata')
    throw new ValidationError('metadata', 'must be the first message of the upload');
  const metadata = first.value.part.value;
  checkMetadata(metadata);
  const declared = Number(metadata.sizeBytes);
  let received = 0;
  async function* chunks(): AsyncIterable<Uint8Array> {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      const part = next.value.part;
      if (part?.$case !== 'chunk') throw new ValidationError('metadata', 'may only be the first message of the upload');
      if (part.value.length < 1 || part.value.length > maxUploadChunkBytes)
        throw new ValidationError('chunk', `must be 1 to ${maxUploadChunkBytes} bytes`);
      received += part.value.length;
      if (received > declared) throw new ValidationError('metadata.size_bytes', `is ${declared}, but the chunks carry more`);
      yield part.value;
    }
  }
  const uploadId = randomUUID();
  const key = uploadBlobKey(options.tenantId, uploadId);
  const ttlMs = options.ttlMs ?? defaultUploadTtlMs;
  const contentType = contentTypeFor(metadata);
  const startedExpiry = new Date(options.clock().getTime() + ttlMs);
  const info = await options.blobs.put(key, chunks(), { name: metadata.name, contentType, expiresAt: startedExpiry });
  const refusal =
    info.sizeBytes !== declared
      ? new ValidationError('metadata.size_bytes', `is ${declared}, but the chunks carry ${info.sizeBytes} bytes`)
      : metadata.sha256 && metadata.sha256 !== info.sha256
        ? new ValidationError('metadata.sha256', 'does not match the content')
        : undefined;
  if (refusal) {
    await options.blobs.delete(key);
    throw refusal;
  }
  const expiresAt = new Date(options.clock().getTime() + ttlMs);
  if (expiresAt.getTime() !== startedExpiry.getTime()) await options.blobs.setExpiry(key, expiresAt);
  return { uploadId, name: metadata.name, contentType, sizeBytes: info.sizeBytes, sha256: info.sha256, expiresAt };
}

/** Upload ids are UUIDs made by {@link receiveAttachmentUpload}; anything else is refused before a lookup. */
export function isUploadId(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value);
}

/**
 * How long an upload a send references is kept at least, from when the send is accepted: the send's
 * retry budget (24 hours) and the outcome check after it, with a margin.
 */
const referencedUploadRetentionMs = 48 * 60 * 60_000;

/**
 * Marks an upload as referenced by a send accepted at `now`: its expiry moves to at least
 * `now + referencedUploadRetentionMs` (never earlier: other sends may reference it too). Undefined
 * when the tenant has no such upload (expired, never completed, another tenant's, or not an upload id).
 */
export async function referenceUpload(
  blobs: BlobStore,
  tenantId: string,
  uploadId: string,
  now: Date,
): Promise<BlobInfo | undefined> {
  if (!isUploadId(uploadId)) return undefined;
  const key = uploadBlobKey(tenantId, uploadId);
  const info = await blobs.stat(key);
  if (!info) return undefined;
  const until = new Date(now.getTime() + referencedUploadRetentionMs);
  if (info.expiresAt && info.expiresAt.getTime() < until.getTime()) {
    await blobs.setExpiry(key, until);
    return { ...info, expiresAt: until };
  }
  return info;
}
