import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EntraError } from '../errors';
import { newGuid } from '../shared/ids';
import type { SandboxContext } from '../shared/sandbox-context';

/** The form body of an Entra endpoint (`application/x-www-form-urlencoded`, parsed to URLSearchParams by the server). */
export function formParams(body: unknown): URLSearchParams {
  if (body instanceof URLSearchParams) return body;
  if (typeof body === 'string') return new URLSearchParams(body);
  return new URLSearchParams();
}

/** Renders an Entra error as the token endpoint does: JSON, `error_description` starting with `AADSTSnnnn:`. */
export function sendEntraError(
  context: SandboxContext,
  request: FastifyRequest,
  reply: FastifyReply,
  error: EntraError,
): FastifyReply {
  const traceId = newGuid();
  const query = request.query as Record<string, string | undefined>;
  const correlationId = query['client-request-id'] ?? (request.headers['client-request-id'] as string | undefined) ?? newGuid();
  const timestamp = new Date(context.clock())
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  if (error.retryAfterSeconds !== undefined) void reply.header('Retry-After', String(error.retryAfterSeconds));
  return reply
    .status(error.status)
    .header('client-request-id', correlationId)
    .header('x-ms-request-id', traceId)
    .send({
      error: error.error,
      error_description: `AADSTS${error.aadsts}: ${error.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [error.aadsts],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${context.baseUrl()}/error?code=${error.aadsts}`,
      ...(error.suberror ? { suberror: error.suberror } : {}),
    });
}
