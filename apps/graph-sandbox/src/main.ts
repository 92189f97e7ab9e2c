import { ConfigError, createLogger, createShutdown, loadConfig, onTerminationSignals } from '@mailroute/platform';
import { configSchema } from './config';
import { createGraphSandbox } from '@mailroute/graph-sandbox';

function main(): void {
  let config;
  try {
    config = loadConfig(configSchema);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`graph-sandbox: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger({ name: 'graph-sandbox', level: config.LOG_LEVEL });
  const sandbox = createGraphSandbox({
    logger,
    host: config.GRAPH_SANDBOX_HOST,
    port: config.GRAPH_SANDBOX_PORT,
    adminPort: config.GRAPH_SANDBOX_ADMIN_PORT,
    certDir: config.GRAPH_SANDBOX_CERT_DIR,
    profile: config.GRAPH_SANDBOX_PROFILE,
    accessTokenLifetimeSeconds: config.GRAPH_SANDBOX_TOKEN_LIFETIME_SECONDS,
    refreshTokenLifetimeSeconds: config.GRAPH_SANDBOX_REFRESH_TOKEN_LIFETIME_SECONDS,
    spaRefreshTokenLifetimeSeconds: config.GRAPH_SANDBOX_SPA_REFRESH_TOKEN_LIFETIME_SECONDS,
    consoleRedirectUris: config.GRAPH_SANDBOX_CONSOLE_REDIRECT_URIS,
    deviceCodeIntervalSeconds: config.GRAPH_SANDBOX_DEVICE_CODE_INTERVAL_SECONDS,
    deltaTokenMaxAgeSeconds: config.GRAPH_SANDBOX_DELTA_TOKEN_MAX_AGE_SECONDS,
    throttling: {
      maxConcurrentRequests: config.GRAPH_SANDBOX_MAX_CONCURRENT_REQUESTS,
      requestsPerWindow: config.GRAPH_SANDBOX_REQUESTS_PER_WINDOW,
      windowSeconds: config.GRAPH_SANDBOX_WINDOW_SECONDS,
    },
  });
  const shutdown = createShutdown(logger, [
    { name: 'graph-sandbox', run: () => sandbox.stop() },
    { name: 'logger', run: () => new Promise<void>((resolve) => logger.flush(() => resolve())) },
  ]);
  onTerminationSignals(shutdown);
  sandbox.start().then(
    (endpoints) => {
      logger.info(
        {
          baseUrl: endpoints.baseUrl,
          adminUrl: endpoints.adminUrl,
          caCertPath: endpoints.caCertPath,
          serverCertSpkiSha256: endpoints.serverCertSpkiSha256,
          ...(endpoints.demo
            ? {
                demoTenantId: endpoints.demo.tenantId,
                demoClientId: endpoints.demo.clientId,
                demoMailboxes: endpoints.demo.mailboxes,
                demoUsers: endpoints.demo.users.map((user) => `${user.userPrincipalName} (${user.roles.join('+') || 'no role'})`),
                demoPassword: endpoints.demo.users[0]?.password,
              }
            : {}),
        },
        `graph-sandbox ready — trust it with NODE_EXTRA_CA_CERTS=${endpoints.caCertPath}`,
      );
    },
    (error: unknown) => {
      logger.fatal({ err: error }, 'graph-sandbox: start-up failed');
      logger.flush(() => process.exit(1));
    },
  );
}

main();
