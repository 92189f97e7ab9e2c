import path from 'node:path';
import { describeConfigurationErrors } from '@mailroute/testing';

describeConfigurationErrors(
  'apps/interaction-router/src/main.ts',
  (workDir) => ({
    GRPC_PORT: '0',
    ROUTER_METRICS_PORT: '0',
    ROUTER_STORE: 'embedded',
    ROUTER_EMBEDDED_PATH: path.join(workDir, 'router.db'),
  }),
  [
    {
      name: 'an API key entry without its hash',
      env: { ROUTER_API_KEYS: 'wm:tenant-a:routing.read:SECRET-not-a-hash-1' },
      variable: 'ROUTER_API_KEYS',
      secret: 'SECRET-not-a-hash-1',
    },
    {
      name: 'an agent directory without its tenant',
      env: { ROUTER_AGENT_DIRECTORIES: 'SECRET-directory-2' },
      variable: 'ROUTER_AGENT_DIRECTORIES',
      secret: 'SECRET-directory-2',
    },
    { name: 'the mongodb store without its URL', env: { ROUTER_STORE: 'mongodb' }, variable: 'ROUTER_MONGODB_URL' },
    {
      name: 'Kafka brokers that are not host:port',
      env: { ROUTER_KAFKA_BROKERS: 'kafka.internal/SECRET-3' },
      variable: 'ROUTER_KAFKA_BROKERS',
      secret: 'SECRET-3',
    },
  ],
);
