import {
  InboundMessage,
  InteractionState,
  type AttachmentInfo,
  type DownloadAttachmentRequest,
  type DownloadAttachmentResponse,
  type UploadReplyAttachmentRequest,
  type UploadReplyAttachmentResponse,
} from '@mailroute/contracts';
import { FailedPreconditionError, NotFoundError, ValidationError } from '@mailroute/platform';
import { inboundAttachmentBlobKey, receiveAttachmentUpload, type InteractionRecord } from '@mailroute/persistence';
import type { RouterStores } from '../store/router-stores';
import { findVisible, heldBy, type DesktopAgent } from './agent-access';

export interface DesktopAttachmentsDeps {
  stores: Pick<RouterStores, 'interactions' | 'messages' | 'blobs'>;
  clock: () => number;
  /** How long an upload no reply references is kept. Default 24 hours. */
  uploadTtlMs?: number | undefined;
}

/** Chunks of a download: one gRPC message each, 1 MiB at most (agent_desktop.proto). */
const downloadChunkBytes = 1_048_576;

/** Held by the agent now, or completed by it (its own recent work, ListMyInteractions COMPLETED). */
const mayDownload = (record: InteractionRecord, agentId: string): boolean =>
  heldBy(record, agentId) || (record.state === InteractionState.INTERACTION_STATE_COMPLETED && record.agentId === agentId);

/**
 * The agent desktop's attachments: DownloadAttachment streams an inbound attachment's stored content
 * (mailbox-fetch put it in the blob store) to the agent who holds the interaction, and
 * UploadReplyAttachment takes a reply attachment into the blob store for `Reply` to reference.
 * Every lookup is under the caller's tenant: the interaction, its thread and the blob key.
 */
export function createDesktopAttachments(deps: DesktopAttachmentsDeps) {
  const { stores } = deps;

  /** The attachment as listed on the interaction's thread; NOT_FOUND when the thread has no such message or attachment. */
  async function listedAttachment(tenantId: string, interactionId: string, graphMessageId: string, attachmentId: string) {
    const prefix = `${tenantId}/${interactionId}/`;
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

  return {
    async *download(agent: DesktopAgent, request: DownloadAttachmentRequest): AsyncIterable<DownloadAttachmentResponse> {
      // Every id's shape is checked by the gRPC server before the handler runs (request-fields). Another
      // tenant's or agent's interaction is NOT_FOUND whatever else the request says; then what is required.
      const record = await findVisible(stores, agent, request.interactionId);
      if (!mayDownload(record, agent.agentId)) throw new NotFoundError('interaction', request.interactionId);
      if (!request.graphMessageId) throw new ValidationError('graph_message_id', 'is required');
      if (!request.attachmentId) throw new ValidationError('attachment_id', 'is required');
      const listed = await listedAttachment(agent.tenantId, record.interactionId, request.graphMessageId, request.attachmentId);
      const key = inboundAttachmentBlobKey(agent.tenantId, request.graphMessageId, request.attachmentId);
      const stored = listed.contentStored ? await stores.blobs.stat(key) : undefined;
      if (!stored)
        throw new FailedPreconditionError(
          "the attachment's content is not stored (over the mailbox's attachment storage limit, or not a file)",
        );
      const info: AttachmentInfo = { ...listed, sizeBytes: stored.sizeBytes, contentSha256: stored.sha256, contentStored: true };
      yield { part: { $case: 'info', value: info } };
      for await (const chunk of stores.blobs.read(key, { chunkBytes: downloadChunkBytes }))
        yield { part: { $case: 'chunk', value: chunk } };
    },

    async upload(
      agent: DesktopAgent,
      requests: AsyncIterable<UploadReplyAttachmentRequest>,
    ): Promise<UploadReplyAttachmentResponse> {
      const upload = await receiveAttachmentUpload(requests, {
        blobs: stores.blobs,
        tenantId: agent.tenantId,
        clock: () => new Date(deps.clock()),
        ttlMs: deps.uploadTtlMs,
      });
      return { upload };
    },
  };
}
