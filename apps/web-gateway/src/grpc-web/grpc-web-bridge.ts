import type { IncomingMessage, ServerResponse } from 'node:http';
import { Metadata, status as Status, type ClientReadableStream, type StatusObject } from '@grpc/grpc-js';
import type { Logger } from '@mailroute/platform';
import type { WebGatewayMetrics } from '../metrics/web-gateway.metrics';
import { readBoundedBody, RequestTooLargeError } from '../http/read-bounded-body';
import {
  encodeGrpcMessage,
  GrpcWebFramingError,
  grpcWebContentType,
  metadataEntries,
  parseGrpcTimeout,
  readSingleMessage,
  toDataFrame,
  toTrailerFrame,
} from './grpc-web-framing';
import { passThrough, type UpstreamRoute, type UpstreamRoutes } from './upstream-routes';

export interface GrpcWebBridgeOptions {
  routes: UpstreamRoutes;
  logger: Logger;
  metrics: WebGatewayMetrics;
  /** Largest request body (one framed message). */
  maxRequestBytes: number;
  /** Open server streams at once; past it new ones get RESOURCE_EXHAUSTED. */
  maxStreams: number;
}

/** Request headers forwarded to the upstream as metadata; nothing else a browser sends reaches a service. */
const forwardedHeaders = ['authorization', 'traceparent', 'tracestate'] as const;

export interface GrpcWebBridge {
  /** True for a gRPC-web request (POST with a gRPC-web content type). */
  accepts(request: IncomingMessage): boolean;
  handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<void>;
  /** Open server streams. */
  openStreams(): number;
  /** Ends every open call with UNAVAILABLE (the desktop reconnects, to another replica in a cluster). */
  endAll(reason: string): void;
}

/**
 * Bridges gRPC-web (binary) requests to the services' gRPC APIs: the browser's one request message
 * is forwarded undecoded on a raw-bytes call, every response message goes back as a data frame as
 * it arrives, and the upstream's status and trailing metadata become the closing trailer frame.
 * Flow control: while the browser's connection does not take more, the upstream call is paused
 * (grpc-js then stops reading its HTTP/2 stream, so the service's own flow control holds it);
 * the browser closing the request (abort, tab closed, network gone) cancels the upstream call.
 * Client-streaming methods cannot be called from a browser (fetch cannot stream a request body):
 * they answer UNIMPLEMENTED; the upload endpoints stand in for UploadReplyAttachment and UploadTemplateAttachment.
 */
export function createGrpcWebBridge(options: GrpcWebBridgeOptions): GrpcWebBridge {
  const { routes, logger, metrics } = options;
  const open = new Set<{ end(code: Status, message: string): void }>();

  async function handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const route = routes.get(path);
    const started = performance.now();
    const labels = { service: route?.service ?? 'unknown', method: route?.method ?? 'unknown' };
    const finish = (code: Status) => metrics.onCall({ ...labels, code }, (performance.now() - started) / 1000);
    if (!route) {
      finish(Status.UNIMPLEMENTED);
      return trailersOnly(response, Status.UNIMPLEMENTED, 'no such method on this gateway');
    }
    if (!isBinaryGrpcWeb(request.headers['content-type'])) {
      finish(Status.UNIMPLEMENTED);
      return trailersOnly(response, Status.UNIMPLEMENTED, `only ${grpcWebContentType} is supported (not grpc-web-text)`);
    }
    if (route.kind === 'client-stream' || route.kind === 'bidi-stream') {
      finish(Status.UNIMPLEMENTED);
      return trailersOnly(
        response,
        Status.UNIMPLEMENTED,
        'browsers cannot stream a request: upload attachments with POST /uploads/reply-attachments or /uploads/template-attachments',
      );
    }
    if (route.kind === 'server-stream' && open.size >= options.maxStreams) {
      finish(Status.RESOURCE_EXHAUSTED);
      return trailersOnly(response, Status.RESOURCE_EXHAUSTED, 'too many open streams on this gateway; retry later');
    }
    let message: Buffer;
    try {
      message = readSingleMessage(await readBoundedBody(request, options.maxRequestBytes));
    } catch (error) {
      if (error instanceof RequestTooLargeError) {
        finish(Status.RESOURCE_EXHAUSTED);
        response.setHeader('connection', 'close');
        return trailersOnly(response, Status.RESOURCE_EXHAUSTED, `request larger than ${options.maxRequestBytes} bytes`);
      }
      if (error instanceof GrpcWebFramingError) {
        finish(Status.INVALID_ARGUMENT);
        return trailersOnly(response, Status.INVALID_ARGUMENT, error.message);
      }
      // The browser went away while sending.
      finish(Status.CANCELLED);
      return;
    }
    await forward(route, request, response, message, finish);
  }

  function forward(
    route: UpstreamRoute,
    request: IncomingMessage,
    response: ServerResponse,
    message: Buffer,
    finish: (code: Status) => void,
  ): Promise<void> {
    const metadata = new Metadata();
    for (const name of forwardedHeaders) {
      const value = request.headers[name];
      if (typeof value === 'string' && value.length > 0) metadata.set(name, value);
    }
    const timeoutMs = parseGrpcTimeout(headerValue(request.headers['grpc-timeout']));
    // A unary call is a server stream of one message on the wire, so one raw call serves both kinds.
    const call: ClientReadableStream<Buffer> = route.upstream.makeServerStreamRequest(
      route.path,
      passThrough.serialize,
      passThrough.deserialize,
      message,
      metadata,
      timeoutMs === undefined ? {} : { deadline: Date.now() + timeoutMs },
    );
    const streaming = route.kind === 'server-stream';
    let done = false;
    let paused = false;
    const writeHeaders = (upstreamHeaders?: Metadata) => {
      if (response.headersSent) return;
      response.statusCode = 200;
      response.setHeader('content-type', grpcWebContentType);
      response.setHeader('cache-control', 'no-store');
      for (const [name, value] of metadataEntries(upstreamHeaders)) response.setHeader(name, value);
      response.flushHeaders();
    };
    return new Promise<void>((resolve) => {
      const end = (code: Status, details: string, trailers?: Metadata) => {
        if (done) return;
        done = true;
        open.delete(entry);
        if (streaming) metrics.onStreamClosed();
        finish(code);
        writeHeaders();
        response.end(toTrailerFrame(code, details, trailers));
        resolve();
      };
      const entry = {
        end: (code: Status, details: string) => {
          call.cancel();
          end(code, details);
        },
      };
      open.add(entry);
      if (streaming) metrics.onStreamOpened();
      call.on('metadata', (upstreamHeaders: Metadata) => writeHeaders(upstreamHeaders));
      call.on('data', (bytes: Buffer) => {
        if (done) return;
        writeHeaders();
        if (!response.write(toDataFrame(bytes)) && !paused) {
          // The browser is not reading: hold the upstream until it is (HTTP/2 flow control does the rest).
          paused = true;
          call.pause();
          response.once('drain', () => {
            paused = false;
            call.resume();
          });
        }
      });
      call.on('status', (status: StatusObject) => end(status.code, browserMessage(status), status.metadata));
      // Errors arrive as the status above too; this listener only keeps them from being thrown.
      call.on('error', () => undefined);
      response.on('close', () => {
        if (done) return;
        done = true;
        open.delete(entry);
        if (streaming) metrics.onStreamClosed();
        call.cancel();
        finish(Status.CANCELLED);
        logger.debug({ method: route.path }, 'web-gateway: the browser closed the call; upstream call cancelled');
        resolve();
      });
    });
  }

  return {
    accepts: (request) => request.method === 'POST' && (request.headers['content-type'] ?? '').startsWith('application/grpc-web'),
    handle,
    openStreams: () => open.size,
    endAll(reason) {
      for (const entry of [...open]) entry.end(Status.UNAVAILABLE, reason);
    },
  };
}

/**
 * The status message a browser sees: the service's own (capped by the services' error mapper), except
 * for UNAVAILABLE, which grpc-js also makes up itself with the upstream's address and socket error in it.
 */
function browserMessage(status: StatusObject): string {
  return status.code === Status.UNAVAILABLE ? 'the service is unavailable; retry' : status.details;
}

function isBinaryGrpcWeb(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  return type === 'application/grpc-web' || type === grpcWebContentType;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** An error answered before any upstream call: status in the HTTP headers, empty body (gRPC-web "trailers-only"). */
function trailersOnly(response: ServerResponse, code: Status, message: string): void {
  response.writeHead(200, {
    'content-type': grpcWebContentType,
    'cache-control': 'no-store',
    'grpc-status': String(code),
    'grpc-message': encodeGrpcMessage(message),
  });
  response.end();
}
