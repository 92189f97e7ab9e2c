import { once } from 'node:events';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ConfigError, createLogger, ensurePrivateDirectory, ensurePrivateFile, startTelemetry } from '@mailroute/platform';
import type { Demo } from './host/demo';
import { HostConfigError, parseHostConfig, readHostConfig, type HostConfig } from './host/host-config';

const usage = `usage: npm start [-- [--config mailroute.json] [--demo] [--data-dir DIR]]

  --config FILE    real tenants, Kafka/MongoDB, ports… (docs/configuration.md; or MAILROUTE_CONFIG=FILE);
                   default: the graph sandbox's demo tenant
  --demo           generated inbound mail and simulated agents who accept and reply
  --data-dir DIR   where the embedded stores and the bus journal live (default .mailroute)
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string', short: 'c' },
      demo: { type: 'boolean', default: false },
      'data-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const file = values.config ?? process.env['MAILROUTE_CONFIG'];
  let config: HostConfig = file ? readHostConfig(file) : parseHostConfig({});
  if (values['data-dir']) config = { ...config, dataDir: path.resolve(values['data-dir']) };
  if (values.demo) config = { ...config, demo: { ...config.demo, traffic: true, agents: true } };
  config = { ...config, dataDir: path.resolve(config.dataDir) };
  // Customer mail, secrets and logs live here: the user's only (0700, files 0600).
  ensurePrivateDirectory(config.dataDir);

  const logFile = path.join(config.dataDir, 'mailroute.log');
  ensurePrivateFile(logFile);
  const telemetry = startTelemetry({ serviceName: 'mailroute', otlpEndpoint: process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] });
  const logDestination = pino.destination({ dest: logFile, sync: false, mkdir: true });
  // The file opens asynchronously; until it has, pino's exit handler cannot flush it and a start-up
  // failure would end in "sonic boom is not ready yet" instead of its own message.
  await once(logDestination, 'ready');
  const logger = createLogger({ name: 'mailroute', level: config.logLevel, destination: logDestination });
  // Runtime warnings (e.g. kafkajs' negative-timeout one on Node 24) go to the log, not the terminal.
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.warn({ warning: { name: warning.name, message: warning.message } }, 'node warning'));
  const say = (line: string) => process.stdout.write(`${line}\n`);
  say(`mailroute: starting (data in ${config.dataDir}, logs in ${logFile})`);

  // Telemetry is running now; the services' wiring (MongoDB driver, kafkajs, MSAL, the Graph client)
  // is imported only here, so the instrumentations patch those modules as they load (as each
  // service's own main.ts does through runService).
  const [{ startHost }, { hostedServices }, { seedTenants }, { startDemo }, { startProgress }] = await Promise.all([
    import('./host/host.js'),
    import('./services.js'),
    import('./host/seed.js'),
    import('./host/demo.js'),
    import('./host/progress.js'),
  ]);
  const host = await startHost({ config, services: hostedServices, logger });
  // Filled in below; the signal handlers must exist before the (slow) seeding starts.
  const running: { demo?: Demo; progress?: { stop(): void } } = {};
  let stopping = false;
  const startUpFailed = 'start-up failed';
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    running.progress?.stop();
    say(`\nmailroute: ${signal}: draining…`);
    await running.demo?.stop();
    const result = await host.stop(signal);
    await telemetry.shutdown();
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    say(result.ok ? 'mailroute: stopped cleanly' : `mailroute: stopped with errors (see ${logFile})`);
    process.exit(result.ok && signal !== startUpFailed ? 0 : 1);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  host.consumersStarted.catch((error: unknown) => {
    if (stopping) return;
    logger.fatal({ err: error }, 'mailroute: a service could not start its consumers');
    void stop(startUpFailed);
  });

  const reports = await seedTenants(host, logger);
  say('mailroute: ready');
  for (const [name, address] of Object.entries(host.addresses)) say(`  ${name.padEnd(20)} ${address}`);
  if (host.sandbox) say(`  ${'graph-sandbox'.padEnd(20)} ${host.sandbox.baseUrl} (admin ${host.sandbox.adminUrl})`);
  say(`  console: http://${host.addresses['web-gateway']}/`);
  // The sandbox's demo people who can sign in to the console (its sign-in page asks for their password).
  const consoleUsers = host.sandbox?.demo?.users.filter((user) => user.tenantId === host.sandbox?.demo?.tenantId) ?? [];
  for (const user of consoleUsers) {
    say(`    sign in as ${user.userPrincipalName.padEnd(30)} password ${user.password}  (${user.description})`);
  }
  for (const report of reports) {
    say(
      `  tenant ${report.tenantId}: ${report.created.length} objects created, ${report.existing.length} kept from the last run`,
    );
  }
  say(`  API keys for the CLI (one per tenant): ${path.join(config.dataDir, 'host-secrets.json')}`);
  if (config.demo.traffic || config.demo.agents) {
    running.demo = startDemo(host, config.demo, logger);
    say(
      `  demo: ${config.demo.traffic ? `${config.demo.emailsPerMinute} emails/min into the sandbox` : 'no generated mail'}${config.demo.agents ? ', simulated agents accept and reply' : ''}`,
    );
  } else if (host.sandbox) {
    say('  tip: `npm start -- --demo` adds generated mail and simulated agents');
  }
  say('  Ctrl-C stops; starting again continues from the stored state.\n');
  running.progress = startProgress(host, running.demo?.counters);
}

main().catch((error: unknown) => {
  // The configuration file, or a service's variables the host derived from it: exit code 78 (EX_CONFIG).
  if (error instanceof HostConfigError || error instanceof ConfigError) {
    process.stderr.write(`mailroute: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`mailroute: start-up failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
