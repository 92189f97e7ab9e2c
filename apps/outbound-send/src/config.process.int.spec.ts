import path from 'node:path';
import { describeConfigurationErrors } from '@mailroute/testing';

describeConfigurationErrors(
  'apps/outbound-send/src/main.ts',
  (workDir) => ({
    GRPC_PORT: '0',
    OUTBOUND_SEND_METRICS_PORT: '0',
    OUTBOUND_SEND_STORE: 'embedded',
    OUTBOUND_SEND_EMBEDDED_PATH: path.join(workDir, 'outbound-send.db'),
    OUTBOUND_SEND_MAILBOX_FETCH_EMBEDDED_PATH: path.join(workDir, 'mailbox-fetch.db'),
  }),
  [
    { name: 'the mongodb store without its URL', env: { OUTBOUND_SEND_STORE: 'mongodb' }, variable: 'OUTBOUND_SEND_MONGODB_URL' },
    {
      name: 'Kafka brokers that are not host:port',
      env: { OUTBOUND_SEND_KAFKA_BROKERS: 'kafka.internal/SECRET-3' },
      variable: 'OUTBOUND_SEND_KAFKA_BROKERS',
      secret: 'SECRET-3',
    },
    {
      name: 'an API key entry without its hash',
      env: { OUTBOUND_SEND_API_KEYS: 'wm:tenant-a:sends.read:SECRET-not-a-hash-1' },
      variable: 'OUTBOUND_SEND_API_KEYS',
      secret: 'SECRET-not-a-hash-1',
    },
  ],
);
