import path from 'node:path';
import { describeConfigurationErrors } from '@mailroute/testing';

describeConfigurationErrors(
  'apps/auth-broker/src/main.ts',
  (workDir) => ({
    GRPC_PORT: '0',
    AUTH_BROKER_METRICS_PORT: '0',
    AUTH_BROKER_STORE: 'embedded',
    AUTH_BROKER_EMBEDDED_PATH: path.join(workDir, 'auth-broker.db'),
  }),
  [
    {
      name: 'the mongodb store without its URL',
      env: { AUTH_BROKER_STORE: 'mongodb', AUTH_BROKER_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}` },
      variable: 'AUTH_BROKER_MONGODB_URL',
    },
    {
      name: 'loopback trust on a non-loopback interface',
      env: { GRPC_HOST: '0.0.0.0', AUTH_BROKER_TRUST_LOOPBACK_SERVICES: 'true' },
      variable: 'AUTH_BROKER_TRUST_LOOPBACK_SERVICES',
    },
    {
      name: 'an API key entry without its hash',
      env: { AUTH_BROKER_API_KEYS: 'wm:tenant-a:credentials.read:SECRET-not-a-hash-1' },
      variable: 'AUTH_BROKER_API_KEYS',
      secret: 'SECRET-not-a-hash-1',
    },
  ],
);
