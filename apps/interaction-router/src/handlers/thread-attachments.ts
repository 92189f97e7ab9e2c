import { InboundMessage, type AttachmentInfo, type DownloadAttachmentResponse } from '@mailroute/contracts';
import { FailedPreconditionError, NotFoundError, ValidationError } from '@mailroute/platform';
import { inboundAttachmentBlobKey } from '@mailroute/persistence';
import type { RouterStores } from '../store/router-stores';
import { threadPrefix } from '../store/router-keys';

/** Chunks of a download: one gRPC message each, 1 MiB at most (agent_desktop.proto, interaction_router.proto). */
const downloadChunkBytes = 1_048_576;

/** Which attachment of an interaction's thread: DownloadAttachmentRequest and GetInteractionAttachmentRequest alike. */
export interface ThreadAttachmentRequest {
  graphMessageId: string;
  attachmentId: string;
}

/**
 * Streams an inbound attachment of an interaction's thread from the blob store: the attachment as
 * listed on the thread with its stored size and SHA-256 first, then its content in chunks of at most
 * 1 MiB, read as they are sent (never held whole). The caller has checked that the interaction is
 * its tenant's (and, for an agent, its own); the thread's keys are under `<tenant>/<interaction>/`
 * and the blob's under the tenant, so nothing else is reachable. NOT_FOUND when the thread has no
 * such message or attachment, FAILED_PRECONDITION when its content was not stored. This is the one
 * download of the agent desktop's DownloadAttachment and the supervisors' GetInteractionAttachment
 * (whose response has the same shape).
 */
export async function* streamThreadAttachment(
  stores: Pick<RouterStores, 'messages' | 'blobs'>,
  tenantId: string,
  interactionId: string,
  request: ThreadAttachmentRequest,
): AsyncIterable<DownloadAttachmentResponse> {
  if (!request.graphMessageId) throw new ValidationError('graph_message_id', 'is required');
  if (!request.attachmentId) throw new ValidationError('attachment_id', 'is required');
  const listed = await listedAttachment(stores, tenantId, interactionId, request);
  const key = inboundAttachmentBlobKey(tenantId, request.graphMessageId, request.attachmentId);
  const stored = listed.contentStored ? await stores.blobs.stat(key) : undefined;
  if (!stored)
    throw new FailedPreconditionError(
      "the attachment's content is not stored (over the mailbox's attachment storage limit, or not a file)",
    );
  const info: AttachmentInfo = { ...listed, sizeBytes: stored.sizeBytes, contentSha256: stored.sha256, contentStored: true };
  yield { part: { $case: 'info', value: info } };
  for await (const chunk of stores.blobs.read(key, { chunkBytes: downloadChunkBytes }))
    yield { part: { $case: 'chunk', value: chunk } };
}

/** The attachment as listed on the interaction's thread; NOT_FOUND when the thread has no such message or attachment. */
async function listedAttachment(
  stores: Pick<RouterStores, 'messages'>,
  tenantId: string,
  interactionId: string,
  { graphMessageId, attachmentId }: ThreadAttachmentRequest,
): Promise<AttachmentInfo> {
  const prefix = threadPrefix(tenantId, interactionId);
  let after: string | undefined;
  for (;;) {
    const rows = await stores.messages.list({ prefix, after, limit: 100 });
    for (const row of rows) {
      if (row.document.kind !== 'inbound') continue;
      const message = InboundMessage.fromJSON(row.document.json);
      if (message.graphMessageId !== graphMessageId) continue;
      const info = message.attachments.find((attachment) => attachment.attachmentId === attachmentId);
      if (info) return info;
    }
    if (rows.length < 100) throw new NotFoundError('attachment', attachmentId);
    after = rows[rows.length - 1]?.key;
  }
}
