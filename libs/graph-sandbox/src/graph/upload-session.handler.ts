import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { GraphApiError } from '../errors';
import { findMessage, markChanged } from '../model/mailbox.store';
import type { Mailbox } from '../model/model.types';
import { toGraphDateTime } from '../shared/clock';
import { newItemId } from '../shared/ids';
import type { SandboxContext } from '../shared/sandbox-context';
import { graphErrors } from './graph-errors';
import type { GraphRoute } from './graph-route';

/** Graph: attachments of 3 MB to 150 MB go through an upload session. */
const maxUploadBytes = 150 * 1024 * 1024;
/** Upload URLs stay valid this long (Graph: about 6 hours; renewed by each chunk). */
const sessionLifetimeMs = 6 * 3600_000;

interface UploadSession {
  mailbox: Mailbox;
  messageId: string;
  name: string;
  contentType: string;
  isInline: boolean;
  contentId?: string;
  size: number;
  chunks: Buffer[];
  received: number;
  expiresMs: number;
}

/** Upload sessions of one sandbox: created through Graph, filled through their opaque upload URL. */
export type UploadSessions = Map<string, UploadSession>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `POST …/messages/{id}/attachments/createUploadSession` (Graph v1.0, file attachments). */
export function uploadSessionRoutes(sessions: UploadSessions): GraphRoute[] {
  const create: GraphRoute['handle'] = (context) => {
    const message = findMessage(context.mailbox, context.params['message'] ?? '');
    if (!message) throw graphErrors.itemNotFound();
    const item = isRecord(context.body) ? context.body['AttachmentItem'] : undefined;
    if (!isRecord(item) || typeof item['name'] !== 'string' || typeof item['size'] !== 'number') {
      throw graphErrors.badRequest('AttachmentItem with name and size is required.', 'ErrorInvalidArgument');
    }
    if (item['attachmentType'] !== undefined && item['attachmentType'] !== 'file')
      throw graphErrors.badRequest('Only file attachments can be uploaded.', 'ErrorInvalidArgument');
    const size = item['size'];
    if (!Number.isInteger(size) || size < 1 || size > maxUploadBytes) {
      throw new GraphApiError({
        status: 413,
        code: 'ErrorAttachmentSizeLimitExceeded',
        message: 'The attachment size must be between 1 byte and 150 MB.',
      });
    }
    const token = randomBytes(24).toString('base64url');
    const expiresMs = context.now + sessionLifetimeMs;
    sessions.set(token, {
      mailbox: context.mailbox,
      messageId: message.immutableId,
      name: item['name'],
      contentType: typeof item['contentType'] === 'string' ? item['contentType'] : 'application/octet-stream',
      isInline: item['isInline'] === true,
      ...(typeof item['contentId'] === 'string' ? { contentId: item['contentId'] } : {}),
      size,
      chunks: [],
      received: 0,
      expiresMs,
    });
    return {
      status: 201,
      body: {
        '@odata.context': `${context.sandbox.baseUrl()}/v1.0/$metadata#microsoft.graph.uploadSession`,
        uploadUrl: `${context.sandbox.baseUrl()}/upload-sessions/${token}`,
        expirationDateTime: toGraphDateTime(expiresMs),
        nextExpectedRanges: ['0-'],
      },
    };
  };
  const routes: GraphRoute[] = [];
  for (const prefix of ['messages/{message}', 'mailFolders/{folder}/messages/{message}']) {
    routes.push({
      method: 'POST',
      path: `${prefix}/attachments/createUploadSession`,
      name: 'attachments.createUploadSession',
      access: 'write',
      handle: create,
    });
  }
  return routes;
}

function uploadError(status: number, code: string, message: string) {
  return { error: { code, message } };
}

/**
 * `PUT <uploadUrl>` with `Content-Range: bytes a-b/total`: the URL is the credential (Graph refuses
 * an Authorization header here). Chunks must arrive in order; the last one adds the attachment
 * (201), earlier ones answer 200 with `nextExpectedRanges`.
 */
export function registerUploadSessionRoutes(app: FastifyInstance, context: SandboxContext, sessions: UploadSessions): void {
  void app.register(async (scope) => {
    scope.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.put<{ Params: { token: string } }>('/upload-sessions/:token', async (request, reply) => {
      const now = context.clock();
      const session = sessions.get(request.params.token);
      if (!session || session.expiresMs < now) {
        sessions.delete(request.params.token);
        return reply.status(404).send(uploadError(404, 'ErrorItemNotFound', 'The upload session was not found or has expired.'));
      }
      if (request.headers.authorization)
        return reply
          .status(401)
          .send(uploadError(401, 'InvalidAuthenticationToken', 'Do not send an Authorization header to an upload URL.'));
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(request.headers['content-range'] ?? ''));
      const chunk = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (!range)
        return reply.status(400).send(uploadError(400, 'InvalidRequest', 'Content-Range "bytes start-end/total" is required.'));
      const [start, end, total] = [Number(range[1]), Number(range[2]), Number(range[3])];
      if (
        total !== session.size ||
        start !== session.received ||
        end < start ||
        end - start + 1 !== chunk.length ||
        end >= total
      ) {
        return reply.status(416).send(uploadError(416, 'InvalidRange', `The next expected range is ${session.received}-.`));
      }
      session.chunks.push(chunk);
      session.received += chunk.length;
      session.expiresMs = now + sessionLifetimeMs;
      if (session.received < session.size) {
        return reply
          .status(200)
          .send({ expirationDateTime: toGraphDateTime(session.expiresMs), nextExpectedRanges: [`${session.received}-`] });
      }
      sessions.delete(request.params.token);
      const message = findMessage(session.mailbox, session.messageId);
      if (!message)
        return reply
          .status(404)
          .send(uploadError(404, 'ErrorItemNotFound', 'The message of this upload session no longer exists.'));
      message.attachments.push({
        id: newItemId('attachment'),
        name: session.name,
        contentType: session.contentType,
        isInline: session.isInline,
        ...(session.contentId ? { contentId: session.contentId } : {}),
        content: Buffer.concat(session.chunks),
        lastModifiedMs: now,
      });
      markChanged(session.mailbox, message, now);
      return reply.status(201).send();
    });
  });
}
