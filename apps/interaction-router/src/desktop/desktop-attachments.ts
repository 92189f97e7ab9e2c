import {
  InteractionState,
  type DownloadAttachmentRequest,
  type DownloadAttachmentResponse,
  type UploadReplyAttachmentRequest,
  type UploadReplyAttachmentResponse,
} from '@mailroute/contracts';
import { NotFoundError } from '@mailroute/platform';
import { receiveAttachmentUpload, type InteractionRecord } from '@mailroute/persistence';
import { streamThreadAttachment } from '../handlers/thread-attachments';
import type { RouterStores } from '../store/router-stores';
import { findVisible, heldBy, type DesktopAgent } from './agent-access';

export interface DesktopAttachmentsDeps {
  stores: Pick<RouterStores, 'interactions' | 'messages' | 'blobs'>;
  clock: () => number;
  /** How long an upload no reply references is kept. Default 24 hours. */
  uploadTtlMs?: number | undefined;
}

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
  return {
    async *download(agent: DesktopAgent, request: DownloadAttachmentRequest): AsyncIterable<DownloadAttachmentResponse> {
      // Every id's shape is checked by the gRPC server before the handler runs (request-fields). Another
      // tenant's or agent's interaction is NOT_FOUND whatever else the request says; then what is required.
      const record = await findVisible(stores, agent, request.interactionId, (r) => mayDownload(r, agent.agentId));
      if (!mayDownload(record, agent.agentId)) throw new NotFoundError('interaction', request.interactionId);
      yield* streamThreadAttachment(stores, agent.tenantId, record.interactionId, request);
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
