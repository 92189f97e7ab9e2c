import {
  TemplateKind,
  type AttachmentUploadMetadata,
  type MessageTemplate,
  type OutgoingAttachment,
  type TemplateAttachment,
  type UploadedAttachment,
} from '@mailroute/contracts';
import { ValidationError } from '@mailroute/platform';
import {
  isUploadId,
  receiveAttachmentUpload,
  uploadBlobKey,
  type AttachmentUploadPart,
  type BlobStore,
} from '@mailroute/persistence';
import { templateKindOf } from '@mailroute/routing-engine';

/** Largest template attachment (interaction_router.proto): 10 MiB. */
const maxTemplateAttachmentBytes = 10_485_760;
/** Most attachments one template lists (templates.proto). */
const maxTemplateAttachments = 10;

const zip = [0x50, 0x4b, 0x03, 0x04];
/**
 * The types a template may attach, each with the bytes its content must start with (none for
 * text). A handful of well-known file signatures: a content-sniffing library would bring hundreds
 * of formats this allow-list refuses anyway.
 */
const allowedTypes: Readonly<Record<string, readonly number[] | 'text'>> = {
  'application/pdf': [0x25, 0x50, 0x44, 0x46, 0x2d],
  'image/png': [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  'image/jpeg': [0xff, 0xd8, 0xff],
  'image/gif': [0x47, 0x49, 0x46, 0x38],
  'text/plain': 'text',
  'text/csv': 'text',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': zip,
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': zip,
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': zip,
};
const extensionTypes: Readonly<Record<string, string>> = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  txt: 'text/plain',
  csv: 'text/csv',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
};

/** The declared type (or the name's extension's), lower-cased without parameters. */
function declaredType(metadata: AttachmentUploadMetadata): string {
  const declared = metadata.contentType.split(';')[0]?.trim().toLowerCase();
  if (declared) return declared;
  const extension = /\.([A-Za-z0-9]{1,8})$/.exec(metadata.name)?.[1]?.toLowerCase();
  return (extension && extensionTypes[extension]) || 'application/octet-stream';
}

/** True when `head` (the content's first bytes) fits `type`'s signature; text has no NUL byte. */
function contentFits(type: string, head: Uint8Array): boolean {
  const signature = allowedTypes[type];
  if (signature === 'text') return !head.includes(0);
  return !!signature && signature.every((byte, index) => head[index] === byte);
}

async function firstBytes(blobs: BlobStore, key: string, count: number): Promise<Uint8Array> {
  for await (const chunk of blobs.read(key, { chunkBytes: count })) return chunk.subarray(0, count);
  return new Uint8Array();
}

/**
 * Receives a template attachment: the upload protocol of reply attachments (metadata, then chunks),
 * at most 10 MiB, of an allowed type whose content starts as that type's does. The caller records
 * it as a template file (template-files.ts); until then it expires like any upload.
 */
export async function receiveTemplateAttachment(
  parts: AsyncIterable<AttachmentUploadPart>,
  options: { blobs: BlobStore; tenantId: string; clock: () => Date },
): Promise<UploadedAttachment> {
  const iterator = parts[Symbol.asyncIterator]();
  const first = await iterator.next();
  const metadata = first.done || first.value.part?.$case !== 'metadata' ? undefined : first.value.part.value;
  if (metadata) {
    if (Number(metadata.sizeBytes) > maxTemplateAttachmentBytes)
      throw new ValidationError(
        'metadata.size_bytes',
        `must be at most ${maxTemplateAttachmentBytes} bytes (10 MiB) for a template attachment`,
      );
    if (!(declaredType(metadata) in allowedTypes))
      throw new ValidationError('metadata.content_type', 'must be PDF, PNG, JPEG, GIF, plain text, CSV, docx, xlsx or pptx');
  }
  async function* replay(): AsyncIterable<AttachmentUploadPart> {
    if (!first.done) yield first.value;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  const upload = await receiveAttachmentUpload(replay(), options);
  const key = uploadBlobKey(options.tenantId, upload.uploadId);
  if (!contentFits(metadata ? declaredType(metadata) : '', await firstBytes(options.blobs, key, 4096))) {
    await options.blobs.delete(key);
    throw new ValidationError(
      'metadata.content_type',
      `does not match the content (it does not start as ${upload.contentType} does)`,
    );
  }
  return upload;
}

/**
 * A template's attachments as stored: each upload_id must be a template attachment of the tenant
 * (UploadTemplateAttachment, `isTemplateFile`); name, type and size are taken from the stored file.
 * Signatures take none; at most 10.
 */
export async function resolveTemplateAttachments(
  deps: { blobs: BlobStore; isTemplateFile: (tenantId: string, uploadId: string) => Promise<boolean> },
  tenantId: string,
  template: MessageTemplate,
): Promise<TemplateAttachment[]> {
  const listed = template.attachments ?? [];
  if (listed.length === 0) return [];
  if (templateKindOf(template) === TemplateKind.TEMPLATE_KIND_SIGNATURE)
    throw new ValidationError('template.attachments', 'a signature template cannot have attachments');
  if (listed.length > maxTemplateAttachments)
    throw new ValidationError('template.attachments', `must have at most ${maxTemplateAttachments} entries`);
  const out: TemplateAttachment[] = [];
  for (const [index, attachment] of listed.entries()) {
    const info = isUploadId(attachment.uploadId)
      ? await deps.blobs.stat(uploadBlobKey(tenantId, attachment.uploadId))
      : undefined;
    if (!info || !(await deps.isTemplateFile(tenantId, attachment.uploadId)))
      throw new ValidationError(
        `template.attachments[${index}].upload_id`,
        'is not a template attachment of this tenant (UploadTemplateAttachment)',
      );
    out.push({ uploadId: attachment.uploadId, name: info.name, contentType: info.contentType, sizeBytes: info.sizeBytes });
  }
  return out;
}

/** A template's attachments as a reply's or an acknowledgement's content attachments (by upload id). */
export function templateOutgoingAttachments(template: Pick<MessageTemplate, 'attachments'>): OutgoingAttachment[] {
  return (template.attachments ?? []).map((attachment) => ({
    name: attachment.name,
    contentType: attachment.contentType,
    isInline: false,
    contentId: '',
    source: { $case: 'uploadId', value: attachment.uploadId },
  }));
}
