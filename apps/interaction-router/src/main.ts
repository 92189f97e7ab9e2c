import { randomUUID } from 'node:crypto';
import { KafkaEventBus } from '@mailroute/messaging';
import { createCallerAuthenticator, createEntraTokenVerifier, parseAgentDirectories, parseApiKeys, runService } from '@mailroute/platform';
import { configSchema } from './config';
import { createServer } from './server';
import { openMongoRouterStores } from './store/router-stores';

void runService({
  name: 'interaction-router',
  configSchema,
  wire: async (config, logger) => {
    const stores = await openMongoRouterStores(config.ROUTER_MONGODB_URL, config.ROUTER_MONGODB_DATABASE);
    const bus = new KafkaEventBus({ brokers: config.ROUTER_KAFKA_BROKERS, clientId: 'interaction-router', logger });
    const authority = config.ROUTER_AGENT_AUTHORITY.replace(/\/$/, '');
    const server = createServer({
      logger,
      stores,
      bus,
      replicaId: config.ROUTER_REPLICA_ID ?? randomUUID(),
      authenticator: createCallerAuthenticator({ apiKeys: parseApiKeys(config.ROUTER_API_KEYS) }),
      agentVerifier: createEntraTokenVerifier({
        directories: parseAgentDirectories(config.ROUTER_AGENT_DIRECTORIES),
        audience: config.ROUTER_AGENT_AUDIENCE || 'unset-audience',
        issuerFor: (tid) => `${authority}/${tid}/v2.0`,
        jwksUrlFor: (tid) => `${authority}/${tid}/discovery/v2.0/keys`,
      }),
      defaultDeadlineMs: config.GRPC_DEFAULT_DEADLINE_MS,
      pollIntervalMs: config.ROUTER_POLL_INTERVAL_MS,
      sweepIntervalMs: config.ROUTER_SWEEP_INTERVAL_MS,
      sessionTtlMs: config.ROUTER_SESSION_TTL_MS,
    });
    await server.start();
    return {
      server,
      closeAfterServer: [
        { name: 'router background work', run: () => server.stop() },
        { name: 'event bus', run: () => bus.close() },
        { name: 'store', run: () => stores.close() },
      ],
    };
  },
});
