import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@mailroute/platform';

/** Graph's notifications are small (a few KB per batch); anything far larger is not Graph. */
const maxBodyBytes = 1024 * 1024;
/** Graph's validation tokens are short; a longer one is not echoed. */
const maxValidationTokenLength = 2048;

/** One item of a notification batch, as posted; nothing in it is trusted before its clientState is checked. */
export type NotificationItem = Record<string, unknown>;

export interface NotificationEndpointOptions {
  host: string;
  port: number;
  /** PEM certificate chain and key of the endpoint (behind an ingress, the ingress may re-encrypt to it). */
  tls: { cert: string; key: string };
  logger: Logger;
  /** Called after the 202 has been sent: the work never delays Graph's answer. */
  onItems(kind: 'change' | 'lifecycle', items: NotificationItem[]): void;
}

/**
 * The HTTPS endpoint Microsoft Graph posts change notifications (`…/notifications`) and lifecycle events
 * (`…/lifecycle`) to. It answers the validation handshake (`?validationToken=`: 200, text/plain, the
 * decoded token) and every notification batch with 202 at once, then hands the items over.
 * https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
 */
export function createNotificationEndpoint(options: NotificationEndpointOptions) {
  const { logger } = options;
  const server: Server = createServer({ cert: options.tls.cert, key: options.tls.key }, (request, response) => {
    const url = new URL(request.url ?? '/', 'https://endpoint.invalid');
    const kind = url.pathname.endsWith('/lifecycle')
      ? 'lifecycle'
      : url.pathname.endsWith('/notifications')
        ? 'change'
        : undefined;
    if (request.method !== 'POST' || !kind) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const token = url.searchParams.get('validationToken');
    if (token !== null) {
      request.resume();
      if (token.length > maxValidationTokenLength)
        response.writeHead(400, { 'content-type': 'text/plain' }).end('token too long');
      else response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(token);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        response.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end('too large');
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (response.headersSent) return;
      let items: NotificationItem[];
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { value?: unknown };
        if (!Array.isArray(body.value)) throw new Error('no value array');
        items = body.value.filter((item): item is NotificationItem => typeof item === 'object' && item !== null);
      } catch {
        response.writeHead(400, { 'content-type': 'text/plain' }).end('expected a notification collection');
        return;
      }
      response.writeHead(202).end();
      setImmediate(() => {
        try {
          options.onItems(kind, items);
        } catch (error) {
          logger.error({ err: error }, 'mailbox-fetch: notification handling failed');
        }
      });
    });
  });

  return {
    /** Listens; resolves with the bound port (0 picks a free one). */
    async listen(): Promise<number> {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return (server.address() as AddressInfo).port;
    },
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
