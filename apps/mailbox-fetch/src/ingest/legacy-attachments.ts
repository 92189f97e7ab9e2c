import { inboundAttachmentBlobKey } from '@mailroute/persistence';
import type { Logger } from '@mailroute/platform';
import { listAll, type MailboxFetchStores } from '../store/mailbox-fetch.stores';

/**
 * Moves attachment content that earlier versions stored base64 in `mf_attachment_contents`
 * documents (keyed by interaction, at most 10 MB each) into the blob store under
 * inboundAttachmentBlobKey, so it can be downloaded like new content; each document is deleted once
 * its blob is stored. The Graph message id comes from the interaction's inbound record; content
 * whose record is gone is left in place and logged. Idempotent: every replica may run it at start.
 */
export async function moveLegacyAttachmentContent(
  stores: Pick<MailboxFetchStores, 'attachments' | 'inbound' | 'blobs'>,
  logger: Logger,
): Promise<number> {
  const legacy = await listAll(stores.attachments, '');
  if (legacy.length === 0) return 0;
  const messageIds = new Map<string, string>();
  for (const tenantId of new Set(legacy.map((entry) => entry.document.tenantId))) {
    for (const { key, document } of await listAll(stores.inbound, `${tenantId}/`))
      if (!key.includes('#')) messageIds.set(`${tenantId}/${document.interactionId}`, document.graphMessageId);
  }
  let moved = 0;
  for (const { key, document } of legacy) {
    const graphMessageId = messageIds.get(`${document.tenantId}/${document.interactionId}`);
    if (!graphMessageId) {
      logger.warn({ key }, 'mailbox-fetch: stored attachment content without its inbound record left in place');
      continue;
    }
    await stores.blobs.put(
      inboundAttachmentBlobKey(document.tenantId, graphMessageId, document.attachmentId),
      Buffer.from(document.contentBase64, 'base64'),
      { name: document.name, contentType: document.contentType },
    );
    await stores.attachments.delete(key);
    moved += 1;
  }
  logger.info({ moved }, 'mailbox-fetch: attachment content moved from documents to the blob store');
  return moved;
}
