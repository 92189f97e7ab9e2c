// Attachments through the gateway: downloads stream over gRPC-web (DownloadAttachment for agents,
// GetInteractionAttachment for supervisors), uploads are one HTTP POST (browsers cannot client-stream;
// the gateway streams the body into UploadReplyAttachment or UploadTemplateAttachment).
import {
  UploadReplyAttachmentResponse,
  type AgentDesktopServiceClient,
  type AttachmentInfo,
  type InteractionRouterServiceClient,
  type UploadedAttachment,
} from '@mailroute/contracts';

/** Which stored attachment: the interaction, its inbound message, the attachment's id. */
export interface AttachmentRef {
  interactionId: string;
  graphMessageId: string;
  attachmentId: string;
}

/** A downloaded attachment: what the server said about it and its bytes. */
export interface DownloadedAttachment {
  info: AttachmentInfo | undefined;
  blob: Blob;
}

/** Downloads one stored attachment into a Blob: the agent's or the supervisor's way (see below). */
export type AttachmentDownloader = (ref: AttachmentRef, signal?: AbortSignal) => Promise<DownloadedAttachment>;

/** One message of a download stream (DownloadAttachmentResponse and GetInteractionAttachmentResponse alike). */
interface DownloadPart {
  part?: { $case: 'info'; value: AttachmentInfo } | { $case: 'chunk'; value: Uint8Array } | undefined;
}

/** Collects a download stream into a Blob (typed as the server said, never sniffed into a page). */
async function collect(parts: AsyncIterable<DownloadPart>): Promise<DownloadedAttachment> {
  let info: AttachmentInfo | undefined;
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  for await (const part of parts) {
    if (part.part?.$case === 'info') info = part.part.value;
    else if (part.part?.$case === 'chunk') chunks.push(new Uint8Array(part.part.value));
  }
  return { info, blob: new Blob(chunks, { type: info?.contentType || 'application/octet-stream' }) };
}

/** The agent's downloads: AgentDesktopService.DownloadAttachment (interactions the agent holds or completed). */
export function desktopAttachmentDownloader(client: AgentDesktopServiceClient): AttachmentDownloader {
  return (ref, signal) => collect(client.downloadAttachment(ref, signal ? { signal } : {}));
}

/** A supervisor's downloads: InteractionRouterService.GetInteractionAttachment (any interaction of the tenant). */
export function supervisorAttachmentDownloader(client: InteractionRouterServiceClient): AttachmentDownloader {
  return (ref, signal) => collect(client.getInteractionAttachment(ref, signal ? { signal } : {}));
}

/** Reads a downloaded image as a data: URL, for cid: images in a message frame. */
export function toDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('could not read the image'));
    reader.readAsDataURL(blob);
  });
}

/** Saves a Blob as a file through the browser's download (an <a download> click). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name || 'attachment';
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** Raised when the gateway refuses an upload; the message is the gateway's. */
class UploadError extends Error {
  override readonly name = 'UploadError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * Uploads a file: `POST <uploadUrl>?name=<file name>` with the file as the body. The gateway streams it
 * into UploadReplyAttachment (`/uploads/reply-attachments`: the upload a Reply references) or
 * UploadTemplateAttachment (`/uploads/template-attachments`: a file templates attach); both answer
 * the same JSON. Resolves to the upload.
 */
export async function uploadAttachment(
  uploadUrl: string,
  idToken: string,
  file: File,
  onProgress?: (sentBytes: number) => void,
): Promise<UploadedAttachment> {
  const url = new URL(uploadUrl, document.baseURI);
  url.searchParams.set('name', file.name);
  // XMLHttpRequest, not fetch: fetch reports no upload progress, and a 150 MB file needs a bar.
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', url.href);
    request.setRequestHeader('authorization', `Bearer ${idToken}`);
    request.setRequestHeader('content-type', file.type || 'application/octet-stream');
    request.upload.onprogress = (event) => onProgress?.(event.loaded);
    request.onerror = () => reject(new UploadError('the upload could not reach mailroute', 0));
    request.onload = () => {
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(request.responseText) as Record<string, unknown>;
      } catch {
        // A proxy's HTML error page: the status says enough.
      }
      if (request.status < 200 || request.status >= 300) {
        const message = typeof body['message'] === 'string' ? body['message'] : `the upload failed (HTTP ${request.status})`;
        reject(new UploadError(message, request.status));
        return;
      }
      const upload = UploadReplyAttachmentResponse.fromJSON(body).upload;
      if (!upload?.uploadId) return reject(new UploadError('the gateway answered without an upload id', request.status));
      resolve(upload);
    };
    request.send(file);
  });
}
