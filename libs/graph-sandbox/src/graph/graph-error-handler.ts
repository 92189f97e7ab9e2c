import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { GraphApiError } from '../errors';
import { toGraphDateTime } from '../shared/clock';
import { newGuid } from '../shared/ids';
import type { SandboxContext } from '../shared/sandbox-context';
import { graphErrors } from './graph-errors';

/** Graph's JSON content type. */
export const graphJsonContentType =
  'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8';

/** Renders any error of a Graph route in Graph's `{ error: { code, message, innerError } }` shape. */
export function graphErrorHandler(
  context: SandboxContext,
): (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (error, request, reply) => {
    let graphError: GraphApiError;
    if (error instanceof GraphApiError) graphError = error;
    else if (
      (error as { statusCode?: number }).statusCode === 400 ||
      (error as { code?: string }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
    ) {
      graphError = graphErrors.badRequest(
        `Unable to read JSON request payload: ${error instanceof Error ? error.message : String(error)}`,
        'BadRequest',
      );
    } else if ((error as { statusCode?: number }).statusCode === 413) {
      graphError = new GraphApiError({
        status: 413,
        code: 'RequestEntityTooLarge',
        message: 'The request is larger than the sandbox accepts.',
      });
    } else {
      context.logger.error({ err: error, url: request.url }, 'graph-sandbox: graph handler failed');
      graphError = graphErrors.injected(500);
    }
    for (const [name, value] of Object.entries(graphError.headers)) void reply.header(name, value);
    const requestId = (reply.getHeader('request-id') as string | undefined) ?? newGuid();
    return reply
      .status(graphError.status)
      .type(graphJsonContentType)
      .send({
        error: {
          code: graphError.graphCode,
          message: graphError.message,
          innerError: {
            date: toGraphDateTime(context.clock()).replace('Z', ''),
            'request-id': requestId,
            'client-request-id': (reply.getHeader('client-request-id') as string | undefined) ?? requestId,
          },
        },
      });
  };
}
