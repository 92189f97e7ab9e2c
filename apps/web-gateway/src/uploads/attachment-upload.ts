import type { IncomingMessage, ServerResponse } from 'node:http';
import { Metadata, status as Status, type ServiceError } from '@grpc/grpc-js';
import { UploadReplyAttachmentRequest, UploadReplyAttachmentResponse } from '@mailroute/contracts';
import type { Logger } from '@mailroute/platform';
import type { WebGatewayMetrics } from '../metrics/web-gateway.metrics';
import { passThrough, type UpstreamRoutes } from '../grpc-web/upstream-routes';

/** The path of the reply-attachment upload endpoint (the console's default `uploadUrl`). */
const replyAttachmentUploadPath = '/uploads/reply-attachments';
/** The path of the template-attachment upload endpoint (supervisors; the console's Replies tab). */
const templateAttachmentUploadPath = '/uploads/template-attachments';
/**
 * Each upload endpoint and the client-streaming method it stands in for. Both methods take the same
 * messages on the wire (`metadata = 1`, `chunk = 2`; the answer's `upload = 1`), so the reply
 * attachment's message types encode and decode both.
 */
const uploadMethodPaths: Readonly<Record<string, string>> = {
  [replyAttachmentUploadPath]: '/mailroute.v1.AgentDesktopService/UploadReplyAttachment',
  [templateAttachmentUploadPath]: '/mailroute.v1.InteractionRouterService/UploadTemplateAttachment',
};

/** True for the path of an upload endpoint. */
export const isUploadPath = (pathname: string): boolean => Object.hasOwn(uploadMethodPaths, pathname);
/** The router's largest chunk (UploadReplyAttachmentRequest.chunk: at most 1 MiB). */
const chunkBytes = 1_048_576;

export interface AttachmentUploadOptions {
  routes: UpstreamRoutes;
  logger: Logger;
  metrics: WebGatewayMetrics;
  /** Largest attachment accepted; a larger Content-Length is refused (413) before any byte is read. */
  maxBytes: number;
  /** Uploads at once; past it 503. */
  maxConcurrent: number;
  /**
   * The body timeout: an upload whose body brings fewer than `minBytesPerSecond × bodyTimeoutMs` bytes
   * in any window of `bodyTimeoutMs` (a stalled or slow-loris upload) is cut with HTTP 408. Time the
   * gateway itself holds the body back while the router catches up does not count.
   */
  bodyTimeoutMs: number;
  minBytesPerSecond: number;
}

/**
 * The upload endpoints that stand in for the client-streaming UploadReplyAttachment and
 * UploadTemplateAttachment, which a browser cannot call: `POST /uploads/reply-attachments` (agents) or
 * `POST /uploads/template-attachments` (supervisors; the router allows 10 MiB and checks the type)
 * `?name=<file name>[&sha256=<hex>]` with `Authorization: Bearer <the user's token>`, the file's type as Content-Type and its bytes as the
 * body, with a Content-Length (required: it is the upload's declared size). The body is streamed
 * into the client stream — metadata first, then chunks of up to 1 MiB — with backpressure both
 * ways, never held whole. The answer is the router's `UploadReplyAttachmentResponse` as JSON
 * (`{"upload":{"uploadId":…}}`); a failure is `{"code":"INVALID_ARGUMENT","message":…}` with the
 * HTTP status that matches the gRPC one (400, 401, 403, 404, 412, 413, 429, 501, 503, 504, 500).
 * A body that stalls or trickles (see `bodyTimeoutMs`) is cut: 408 with `{"code":"DEADLINE_EXCEEDED"}`,
 * the router's call cancelled (the partial upload is dropped) and the connection closed.
 */
export function createAttachmentUpload(options: AttachmentUploadOptions) {
  const { logger, metrics } = options;
  let active = 0;

  return async function upload(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (request.method !== 'POST') {
      response.setHeader('allow', 'POST');
      return answerError(response, 405, 'METHOD_NOT_ALLOWED', 'use POST');
    }
    const route = options.routes.get(uploadMethodPaths[url.pathname] ?? '');
    if (!route) return answerError(response, 404, 'NOT_FOUND', 'uploads are not available on this gateway');
    const lengthHeader = request.headers['content-length'];
    if (lengthHeader === undefined || !/^\d{1,12}$/.test(lengthHeader)) {
      metrics.onUpload('refused', 0);
      return refuse(request, response, 411, 'LENGTH_REQUIRED', 'Content-Length is required (the size of the file)');
    }
    const size = Number(lengthHeader);
    if (size > options.maxBytes) {
      metrics.onUpload('refused', 0);
      return refuse(request, response, 413, 'INVALID_ARGUMENT', `metadata.size_bytes: at most ${options.maxBytes} bytes`);
    }
    if (active >= options.maxConcurrent) {
      metrics.onUpload('refused', 0);
      return refuse(request, response, 503, 'RESOURCE_EXHAUSTED', 'too many uploads on this gateway; retry later');
    }
    const name = url.searchParams.get('name') ?? '';
    const sha256 = url.searchParams.get('sha256') ?? '';
    const contentType = (request.headers['content-type'] ?? '').slice(0, 256);
    // The router checks the name and type (INVALID_ARGUMENT naming the field); this only bounds what is forwarded.
    if (name.length > 1_024 || sha256.length > 128) {
      metrics.onUpload('refused', 0);
      return refuse(request, response, 400, 'INVALID_ARGUMENT', 'metadata.name: at most 255 characters');
    }
    const metadata = new Metadata();
    const authorization = request.headers['authorization'];
    if (typeof authorization === 'string') metadata.set('authorization', authorization);

    active += 1;
    let forwarded = 0;
    let settled = false;
    const body = watchBodyProgress(request, options);
    try {
      const result = await new Promise<{ ok: true; body: Buffer } | { ok: false; error: ServiceError }>((resolve) => {
        const call = route.upstream.makeClientStreamRequest(
          route.path,
          passThrough.serialize,
          passThrough.deserialize,
          metadata,
          {},
          (error: ServiceError | null, body?: Buffer) => {
            settled = true;
            resolve(error ? { ok: false, error } : { ok: true, body: body ?? Buffer.alloc(0) });
          },
        );
        const write = (message: UploadReplyAttachmentRequest) =>
          call.write(Buffer.from(UploadReplyAttachmentRequest.encode(message).finish()));
        write({ part: { $case: 'metadata', value: { name, contentType, sizeBytes: size, sha256 } } });
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        const flush = (): boolean => {
          if (pendingBytes === 0) return true;
          const chunk = Buffer.concat(pending, pendingBytes);
          pending = [];
          pendingBytes = 0;
          forwarded += chunk.length;
          return write({ part: { $case: 'chunk', value: chunk } });
        };
        body.onStall(() => {
          if (!settled) call.cancel();
        });
        request.on('data', (data: Buffer) => {
          let offset = 0;
          let flowing = true;
          while (offset < data.length) {
            const take = Math.min(chunkBytes - pendingBytes, data.length - offset);
            pending.push(data.subarray(offset, offset + take));
            pendingBytes += take;
            offset += take;
            if (pendingBytes === chunkBytes) flowing = flush() && flowing;
          }
          if (!flowing) {
            body.hold();
            call.once('drain', () => body.release());
          }
        });
        request.once('end', () => {
          flush();
          call.end();
        });
        // The browser went away mid-upload: the router drops the partial upload when its call is cancelled.
        response.once('close', () => {
          if (!settled) call.cancel();
        });
      });
      if (result.ok) {
        metrics.onUpload('ok', forwarded);
        const decoded = UploadReplyAttachmentResponse.decode(result.body);
        response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        response.end(JSON.stringify(UploadReplyAttachmentResponse.toJSON(decoded)));
        return;
      }
      const { code, details } = result.error;
      if (body.stalled()) {
        metrics.onUpload('timed_out', forwarded);
        const seconds = Math.round(options.bodyTimeoutMs / 1000);
        return refuse(
          request,
          response,
          408,
          'DEADLINE_EXCEEDED',
          `the upload's body stalled (under ${options.minBytesPerSecond} bytes a second for ${seconds} s); it was not stored`,
        );
      }
      if (code === Status.CANCELLED && response.destroyed) {
        metrics.onUpload('cancelled', forwarded);
        return;
      }
      metrics.onUpload(code === Status.INVALID_ARGUMENT ? 'refused' : 'failed', forwarded);
      logger.debug({ code }, 'web-gateway: an upload failed upstream');
      if (!request.complete) response.setHeader('connection', 'close');
      answerError(response, httpStatusFor(code), Status[code] ?? 'UNKNOWN', details);
    } finally {
      body.stop();
      active -= 1;
    }
  };
}

/**
 * Watches an upload's body arrive: `onStall` fires once when a window of `bodyTimeoutMs` brought fewer
 * than `minBytesPerSecond × bodyTimeoutMs / 1000` bytes (at least 1) while the body was neither complete
 * nor held back by the gateway (`hold`/`release` pause and resume the request for backpressure).
 */
function watchBodyProgress(
  request: IncomingMessage,
  options: Pick<AttachmentUploadOptions, 'bodyTimeoutMs' | 'minBytesPerSecond'>,
) {
  const minBytes = Math.max(1, Math.floor((options.minBytesPerSecond * options.bodyTimeoutMs) / 1000));
  let windowBytes = 0;
  let held = false;
  let stalled = false;
  let onStall: (() => void) | undefined;
  const count = (data: Buffer) => {
    windowBytes += data.length;
  };
  request.on('data', count);
  const timer = setInterval(() => {
    if (held || request.complete) windowBytes = 0;
    if (windowBytes >= minBytes || held || request.complete) {
      windowBytes = 0;
      return;
    }
    stalled = true;
    clearInterval(timer);
    onStall?.();
  }, options.bodyTimeoutMs);
  return {
    onStall(handler: () => void) {
      onStall = handler;
    },
    hold() {
      held = true;
      request.pause();
    },
    release() {
      held = false;
      windowBytes = 0;
      request.resume();
    },
    stalled: () => stalled,
    stop() {
      clearInterval(timer);
      request.off('data', count);
    },
  };
}

/** Answers without reading the body, and closes the connection so that the unread body goes nowhere. */
function refuse(request: IncomingMessage, response: ServerResponse, httpStatus: number, code: string, message: string): void {
  response.setHeader('connection', 'close');
  answerError(response, httpStatus, code, message);
  request.resume();
}

function answerError(response: ServerResponse, httpStatus: number, code: string, message: string): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(httpStatus, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify({ code, message }));
}

/** The HTTP status a gRPC status answers an upload with. */
function httpStatusFor(code: Status): number {
  switch (code) {
    case Status.INVALID_ARGUMENT:
    case Status.OUT_OF_RANGE:
      return 400;
    case Status.UNAUTHENTICATED:
      return 401;
    case Status.PERMISSION_DENIED:
      return 403;
    case Status.NOT_FOUND:
      return 404;
    case Status.ALREADY_EXISTS:
    case Status.ABORTED:
      return 409;
    case Status.FAILED_PRECONDITION:
      return 412;
    case Status.RESOURCE_EXHAUSTED:
      return 429;
    case Status.UNIMPLEMENTED:
      return 501;
    case Status.UNAVAILABLE:
      return 503;
    case Status.DEADLINE_EXCEEDED:
      return 504;
    default:
      return 500;
  }
}
