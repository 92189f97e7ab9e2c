import type { z } from 'zod';
import { loadConfig, serviceSchema, type ConfigSchema, type Env, type serviceConfigSchema } from './config';
import { ConfigError } from './errors';
import type { GrpcServer } from './grpc-server';
import { grpcServerCredentials } from './grpc-tls';
import { createLogger, type Logger } from './logger';
import { createShutdown, onTerminationSignals, type ShutdownStep } from './shutdown';
import { startTelemetry } from './telemetry';

/** What a service's wiring returns: the server to run and what to close after it stops. */
export interface ServiceParts {
  /** Built by the app's `createServer(deps)` (see createGrpcServer). */
  server: GrpcServer;
  /**
   * Closed after the server stopped accepting calls, in this order: consumers first, then
   * producers, then the database (CONVENTIONS.md, shutdown order).
   */
  closeAfterServer?: readonly ShutdownStep[];
  /**
   * Background work started once the server listens — consumer-group joins, which after a crash
   * wait out the dead member's session. The API does not need it to answer, so the server serves
   * meanwhile (a restarted replica is SERVING in seconds); a failure stops the service (exit 1),
   * as a failed start-up does.
   */
  startAfterListen?: () => Promise<void>;
}

export interface RunServiceOptions<S extends ConfigSchema> {
  name: string;
  /** The service's own variables; the common ones (serviceConfigSchema) are merged in. */
  configSchema: S;
  env?: Env;
  /** Builds adapters and service implementations from the parsed config. */
  wire: (config: z.infer<S> & z.infer<typeof serviceConfigSchema>, logger: Logger) => Promise<ServiceParts>;
}

export interface RunningService {
  port: number;
  logger: Logger;
  stop(reason: string): Promise<{ ok: boolean }>;
}

/**
 * The whole life of a service process: config (a bad variable — or a rule across variables — stops
 * the process with a message naming it, exit code 78, the value never echoed) → telemetry → adapters → gRPC server with health and reflection →
 * signal handlers → ordered drain.
 */
export async function runService<S extends ConfigSchema>(options: RunServiceOptions<S>): Promise<RunningService> {
  const schema = serviceSchema(options.configSchema);
  let config: z.infer<S> & z.infer<typeof serviceConfigSchema>;
  try {
    config = loadConfig(schema, options.env) as typeof config;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${options.name}: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const telemetry = startTelemetry({ serviceName: options.name, otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const logger = createLogger({ name: options.name, level: config.LOG_LEVEL });
  let parts: ServiceParts;
  try {
    parts = await options.wire(config, logger);
  } catch (error) {
    const configError = findConfigError(error);
    if (configError) {
      // A configuration problem found while wiring is still one: named on stderr, exit code 78.
      process.stderr.write(`${options.name}: ${configError.message}\n`);
      await telemetry.shutdown();
      process.exit(78);
    }
    logger.fatal({ err: error }, `${options.name}: start-up failed`);
    await telemetry.shutdown();
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    process.exit(1);
  }
  const { server } = parts;
  const port = await server.listen(config.GRPC_HOST, config.GRPC_PORT, grpcServerCredentials(config));
  const healthPort =
    config.GRPC_HEALTH_PORT === undefined ? undefined : await server.listenHealth?.(config.GRPC_HOST, config.GRPC_HEALTH_PORT);
  const shutdown = createShutdown(logger, [
    { name: 'grpc server', run: () => server.shutdown(config.SHUTDOWN_GRACE_MS) },
    ...(parts.closeAfterServer ?? []),
    { name: 'telemetry', run: () => telemetry.shutdown() },
    { name: 'logger', run: () => new Promise<void>((resolve) => logger.flush(() => resolve())) },
  ]);
  onTerminationSignals(shutdown);
  const tls = config.GRPC_TLS_CERT_FILE ? (config.GRPC_TLS_REQUIRE_CLIENT_CERT ? 'mtls' : 'tls') : 'plaintext';
  logger.info({ host: config.GRPC_HOST, port, tls, healthPort }, `${options.name} listening`);
  if (parts.startAfterListen) {
    const started = performance.now();
    parts.startAfterListen().then(
      () => logger.info({ ms: Math.round(performance.now() - started) }, `${options.name}: consumers started`),
      async (error: unknown) => {
        if (shutdown.started) return;
        // A dependency that refused the configured credentials or certificates (e.g. Kafka's SASL):
        // a configuration error like any other, named on stderr, exit code 78.
        const configError = findConfigError(error);
        if (configError) process.stderr.write(`${options.name}: ${configError.message}\n`);
        else logger.fatal({ err: error }, `${options.name}: start-up failed`);
        await shutdown.run('start-up failed');
        process.exit(configError ? 78 : 1);
      },
    );
  }
  return { port, logger, stop: (reason) => shutdown.run(reason) };
}

/** The ConfigError that `error` is, or that caused it (retries keep each attempt's error). */
function findConfigError(error: unknown, depth = 0): ConfigError | undefined {
  if (error instanceof ConfigError) return error;
  if (typeof error !== 'object' || error === null || depth > 8) return undefined;
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  const found = findConfigError(cause, depth + 1);
  if (found) return found;
  if (Array.isArray(errors))
    for (const item of errors) if (findConfigError(item, depth + 1)) return findConfigError(item, depth + 1);
  return undefined;
}
