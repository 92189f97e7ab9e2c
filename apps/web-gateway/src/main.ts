import { ConfigError, createLogger, createShutdown, loadConfig, onTerminationSignals, startTelemetry } from '@mailroute/platform';
import { configSchema } from './config';

/**
 * The web gateway as its own process: config (a bad variable stops it naming the variable, exit
 * code 78) → telemetry → wiring → HTTP server on WEB_GATEWAY_HOST:WEB_GATEWAY_PORT → ordered drain
 * on SIGTERM. The same steps as the gRPC services' runService, with an HTTP listener.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(configSchema);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`web-gateway: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const telemetry = startTelemetry({ serviceName: 'web-gateway', otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const logger = createLogger({ name: 'web-gateway', level: config.LOG_LEVEL });
  // Imported after telemetry started, so the HTTP instrumentation patches node:http as it loads.
  const { wireWebGateway } = await import('./wiring.js');
  const parts = await wireWebGateway(config, logger);
  const port = await parts.server.listen(config.WEB_GATEWAY_HOST, config.WEB_GATEWAY_PORT);
  const shutdown = createShutdown(logger, [
    { name: 'http server', run: () => parts.server.shutdown(config.SHUTDOWN_GRACE_MS) },
    ...(parts.closeAfterServer ?? []),
    { name: 'telemetry', run: () => telemetry.shutdown() },
    { name: 'logger', run: () => new Promise<void>((resolve) => logger.flush(() => resolve())) },
  ]);
  onTerminationSignals(shutdown);
  logger.info({ host: config.WEB_GATEWAY_HOST, port }, 'web-gateway listening');
}

main().catch((error: unknown) => {
  process.stderr.write(`web-gateway: start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
