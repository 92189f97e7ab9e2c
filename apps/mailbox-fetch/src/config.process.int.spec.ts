import path from 'node:path';
import { describeConfigurationErrors } from '@mailroute/testing';

describeConfigurationErrors(
  'apps/mailbox-fetch/src/main.ts',
  (workDir) => ({
    GRPC_PORT: '0',
    MAILBOX_FETCH_METRICS_PORT: '0',
    MAILBOX_FETCH_STORE: 'embedded',
    MAILBOX_FETCH_EMBEDDED_PATH: path.join(workDir, 'mailbox-fetch.db'),
  }),
  [
    { name: 'the mongodb store without its URL', env: { MAILBOX_FETCH_STORE: 'mongodb' }, variable: 'MAILBOX_FETCH_MONGODB_URL' },
    {
      name: 'Kafka brokers that are not host:port',
      env: { MAILBOX_FETCH_KAFKA_BROKERS: 'kafka.internal/SECRET-3' },
      variable: 'MAILBOX_FETCH_KAFKA_BROKERS',
      secret: 'SECRET-3',
    },
    {
      name: 'an API key entry without its hash',
      env: { MAILBOX_FETCH_API_KEYS: 'wm:tenant-a:mailboxes.read:SECRET-not-a-hash-1' },
      variable: 'MAILBOX_FETCH_API_KEYS',
      secret: 'SECRET-not-a-hash-1',
    },
  ],
);
