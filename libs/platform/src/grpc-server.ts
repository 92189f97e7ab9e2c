import type { ServerCredentials } from '@grpc/grpc-js';
import type { CallContext, ServerMiddleware, ServerMiddlewareCall } from 'nice-grpc-common';
import { ServerError, Status } from 'nice-grpc-common';
import { createServer, type CompatServiceDefinition, type ServiceImplementation } from 'nice-grpc';
import { openTelemetryServerMiddleware } from 'nice-grpc-opentelemetry';
import { HealthDefinition, HealthServiceImpl, HealthState } from 'nice-grpc-server-health';
import { ServerReflection, ServerReflectionService } from 'nice-grpc-server-reflection';
import { toGrpcStatus, isAbortError } from './grpc-status';
import { assertWellFormed, withTolerantDecoding } from './request-decoding';
import { requestDescriptorOf, validateRequestFields } from './request-fields';
import type { Logger } from './logger';

/** One service to serve: its ts-proto definition and the implementation built by its factory. */
export interface ServiceRegistration {
  definition: CompatServiceDefinition;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  implementation: ServiceImplementation<any, any>;
  /**
   * Middleware of this service only (e.g. caller authentication), run inside the server-wide chain
   * so its errors go through the same error → status mapping.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  middleware?: ServerMiddleware<any, any>;
}

/** Pairs a definition with its implementation, type-checking one against the other. */
export function serve<Definition extends CompatServiceDefinition>(
  definition: Definition,
  implementation: ServiceImplementation<Definition>,
): ServiceRegistration {
  return { definition, implementation };
}

/**
 * Like `serve`, with a middleware for this service that extends the handlers' call context (e.g.
 * `tenantCallerMiddleware` gives them `context.tenantId`).
 */
export function serveWith<Definition extends CompatServiceDefinition, Ext>(
  definition: Definition,
  middleware: ServerMiddleware<Ext>,
  implementation: ServiceImplementation<Definition, Ext>,
): ServiceRegistration {
  return { definition, implementation, middleware };
}

export interface GrpcServerOptions {
  logger: Logger;
  services: readonly ServiceRegistration[];
  /** A FileDescriptorSet (with imports) covering `services`, for server reflection. */
  descriptorSet?: Uint8Array;
  /** Deadline applied to unary calls that arrive without one. Default 30 s. */
  defaultDeadlineMs?: number;
}

export interface GrpcServer {
  /**
   * Binds `host:port` (port 0 picks one) and returns the bound port; plaintext unless `credentials`
   * (grpcServerCredentials) say otherwise — the config rules keep plaintext to loopback.
   */
  listen(host: string, port: number, credentials?: ServerCredentials): Promise<number>;
  /**
   * Binds a plaintext `host:port` that serves grpc.health.v1 only (the same status as the main
   * port), for probes that cannot speak TLS; it closes after the main server in shutdown. (Optional:
   * the web gateway's HTTP server, run the same way, has none.)
   */
  listenHealth?(host: string, port: number): Promise<number>;
  /** Flips every registered service (and the overall server) in grpc.health.v1. */
  setServing(serving: boolean): void;
  /**
   * Graceful stop: health → NOT_SERVING, server streams are ended, new calls refused, in-flight
   * unary calls get `graceMs` to finish, then everything left is cut.
   */
  shutdown(graceMs: number): Promise<void>;
}

/**
 * Builds a gRPC server with mailroute's cross-cutting behaviour: OpenTelemetry spans (W3C context
 * from metadata), request logging, a default deadline, the single error → status mapping, stream
 * termination on shutdown, grpc.health.v1 and server reflection.
 */
export function createGrpcServer(options: GrpcServerOptions): GrpcServer {
  const { logger } = options;
  const health = HealthState();
  const shutdownController = new AbortController();
  const serviceNames = options.services.map((service) => serviceFullName(service.definition));

  const server = createServer()
    .use(createTracingMiddleware())
    .use(createLoggingMiddleware(logger))
    .use(createErrorMiddleware(logger))
    .use(createDeadlineMiddleware(options.defaultDeadlineMs ?? 30_000))
    .use(createTerminatorMiddleware(shutdownController.signal));

  server.add(HealthDefinition, HealthServiceImpl(health));
  if (options.descriptorSet) {
    server.add(
      ServerReflectionService,
      // Only our own services: the descriptor set holds mailroute's protos, not grpc.health.v1.
      ServerReflection(Buffer.from(options.descriptorSet), serviceNames),
    );
  }
  for (const service of options.services) {
    const definition = withTolerantDecoding(service.definition);
    // Fields are checked after the caller is authenticated (an anonymous caller learns nothing
    // about the request's shape) and before any handler looks anything up.
    if (service.middleware) server.with(service.middleware).with(requestFieldsMiddleware).add(definition, service.implementation);
    else server.with(requestFieldsMiddleware).add(definition, service.implementation);
  }

  const setServing = (serving: boolean): void => {
    const status = serving ? 'healthy' : 'unhealthy';
    health.setStatus(status);
    for (const name of serviceNames) health.setStatus(status, name);
  };

  let healthOnly: ReturnType<typeof createServer> | undefined;

  return {
    async listen(host, port, credentials) {
      const bound = await server.listen(`${host}:${port}`, credentials);
      setServing(true);
      return bound;
    },
    async listenHealth(host, port) {
      healthOnly = createServer();
      healthOnly.add(HealthDefinition, HealthServiceImpl(health));
      return healthOnly.listen(`${host}:${port}`);
    },
    setServing,
    async shutdown(graceMs) {
      setServing(false);
      shutdownController.abort();
      let timer: NodeJS.Timeout | undefined;
      const graceful = server.shutdown().then(() => 'drained' as const);
      const cut = new Promise<'cut'>((resolve) => {
        timer = setTimeout(() => resolve('cut'), graceMs);
      });
      const outcome = await Promise.race([graceful, cut]);
      clearTimeout(timer);
      if (outcome === 'cut') {
        logger.warn({ graceMs }, 'grpc: in-flight calls did not finish in time; cutting them');
        server.forceShutdown();
      }
      healthOnly?.forceShutdown();
    },
  };
}

/**
 * The fully-qualified proto name of a service: ts-proto definitions carry `fullName`; a generic
 * definition's method paths (`/package.Service/Method`) give it.
 */
function serviceFullName(definition: CompatServiceDefinition): string {
  if ('fullName' in definition && typeof definition.fullName === 'string') return definition.fullName;
  const first = Object.values(definition as Record<string, { path?: string }>)[0];
  const name = first?.path?.split('/')[1];
  if (!name) throw new Error('service definition has no methods');
  return name;
}

/**
 * OpenTelemetry server spans (W3C context from the metadata) for every call but health checks and
 * reflection: a probe every few seconds is not a trace.
 */
function createTracingMiddleware() {
  const traced = openTelemetryServerMiddleware();
  return async function* tracing<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ): AsyncGenerator<Response, Response | void, undefined> {
    if (call.method.path.startsWith('/grpc.health.v1.Health/') || call.method.path.startsWith('/grpc.reflection.')) {
      return yield* call.next(call.request, context);
    }
    return yield* traced(call, context);
  };
}

function createLoggingMiddleware(logger: Logger) {
  return async function* logging<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ): AsyncGenerator<Response, Response | void, undefined> {
    const started = performance.now();
    const method = call.method.path;
    let code: Status = Status.OK;
    try {
      return yield* call.next(call.request, context);
    } catch (error) {
      code = error instanceof ServerError ? error.code : Status.UNKNOWN;
      throw error;
    } finally {
      if (!method.startsWith('/grpc.health.v1.') && !method.startsWith('/grpc.reflection.')) {
        logger.info(
          { grpc: { method, code: Status[code], durationMs: Math.round((performance.now() - started) * 10) / 10 } },
          'grpc call',
        );
      }
    }
  };
}

function createErrorMiddleware(logger: Logger) {
  return async function* errors<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ): AsyncGenerator<Response, Response | void, undefined> {
    try {
      if (!call.requestStream) assertWellFormed(call.request);
      const request = call.requestStream ? checkEach(call.request) : call.request;
      return yield* call.next(request as typeof call.request, context);
    } catch (error) {
      if (isAbortError(error) && context.signal.aborted) throw error;
      const mapped = toGrpcStatus(error);
      if (mapped.unexpected) logger.error({ err: error, method: call.method.path }, 'grpc: unexpected error');
      for (const [name, value] of Object.entries(mapped.trailers ?? {})) context.trailer.set(name, value);
      throw new ServerError(mapped.status, mapped.message);
    }
  };
}

/**
 * Checks every request of a mailroute service against its proto descriptor (request-fields.ts: id
 * shapes and lengths, enum values, update-mask paths) before the handler sees it.
 */
async function* requestFieldsMiddleware<Request, Response>(
  call: ServerMiddlewareCall<Request, Response>,
  context: CallContext,
): AsyncGenerator<Response, Response | void, undefined> {
  const descriptor = requestDescriptorOf(call.method.path);
  if (!descriptor) return yield* call.next(call.request, context);
  if (!call.requestStream) {
    validateRequestFields(descriptor, call.request);
    return yield* call.next(call.request, context);
  }
  const checked = async function* (requests: AsyncIterable<unknown>) {
    for await (const request of requests) {
      validateRequestFields(descriptor, request);
      yield request;
    }
  };
  return yield* call.next(checked(call.request as AsyncIterable<unknown>) as typeof call.request, context);
}

async function* checkEach<T>(requests: AsyncIterable<T>): AsyncIterable<T> {
  for await (const request of requests) {
    assertWellFormed(request);
    yield request;
  }
}

/**
 * Bounds unary calls that carry no deadline, so a stuck dependency cannot pin a call forever: the
 * handler's signal aborts and the caller gets DEADLINE_EXCEEDED even if the handler ignores it.
 */
function createDeadlineMiddleware(defaultDeadlineMs: number) {
  return async function* deadline<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ): AsyncGenerator<Response, Response | void, undefined> {
    if (call.responseStream || context.metadata.has('grpc-timeout')) {
      return yield* call.next(call.request, context);
    }
    const timeout = AbortSignal.timeout(defaultDeadlineMs);
    const expired = new Promise<'expired'>((resolve) =>
      timeout.addEventListener('abort', () => resolve('expired'), { once: true }),
    );
    const signal = AbortSignal.any([context.signal, timeout]);
    const running = call.next(call.request, { ...context, signal });
    const step = await Promise.race([running.next(), expired]);
    if (step === 'expired') {
      void running.return(undefined as never).catch(() => undefined);
      throw new ServerError(Status.DEADLINE_EXCEEDED, `no answer within ${defaultDeadlineMs} ms`);
    }
    // A unary handler yields nothing: its first step is its result.
    return step.value as Response;
  };
}

/**
 * Ends server streams (agent desktops, health watches) when shutdown starts, so draining finishes:
 * the handler's signal aborts, and the stream is closed even if the handler ignores its signal.
 */
function createTerminatorMiddleware(shutdownSignal: AbortSignal) {
  const ended = Symbol('ended');
  const whenShutdown = new Promise<typeof ended>((resolve) => {
    shutdownSignal.addEventListener('abort', () => resolve(ended), { once: true });
  });
  return async function* terminator<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ): AsyncGenerator<Response, Response | void, undefined> {
    if (!call.responseStream) return yield* call.next(call.request, context);
    if (shutdownSignal.aborted) throw new ServerError(Status.UNAVAILABLE, 'server is shutting down');
    const signal = AbortSignal.any([context.signal, shutdownSignal]);
    const stream = call.next(call.request, { ...context, signal });
    try {
      for (;;) {
        const step = await Promise.race([stream.next(), whenShutdown]);
        if (step === ended) return;
        if (step.done) return step.value;
        yield step.value;
      }
    } catch (error) {
      if (shutdownSignal.aborted && isAbortError(error)) return;
      throw error;
    } finally {
      void stream.return(undefined).catch(() => undefined);
    }
  };
}
