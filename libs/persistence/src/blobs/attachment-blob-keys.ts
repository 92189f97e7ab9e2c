import { createHash } from 'node:crypto';

const digest = (value: string) => createHash('sha256').update(value).digest('hex');

/**
 * The blob key of an inbound attachment's content: mailbox-fetch stores it there, the router
 * streams it to agents and outbound-send sends it on. Graph ids are hashed (they are long and
 * case-sensitive); the tenant comes first, so one tenant's keys never reach another's.
 */
export function inboundAttachmentBlobKey(tenantId: string, graphMessageId: string, attachmentId: string): string {
  return `${tenantId}/inbound/${digest(graphMessageId)}/${digest(attachmentId)}`;
}

/** The blob key of an uploaded reply attachment (`UploadedAttachment.upload_id`, checked by the caller). */
export function uploadBlobKey(tenantId: string, uploadId: string): string {
  return `${tenantId}/uploads/${uploadId}`;
}
