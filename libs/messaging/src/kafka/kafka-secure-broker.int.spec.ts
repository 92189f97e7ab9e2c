import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, type ServiceConfig } from '@mailroute/platform';
import { describeEventBusContract, randomId, startSecureKafka, type SecureKafka } from '@mailroute/testing';
import { KafkaEventBus } from '../index';
import { kafkaSecurityFromConfig, type KafkaSecurityConfig } from './kafka-security';

// A broker of this file's own with a SASL_SSL listener (a CA made at test time, SCRAM and PLAIN
// users) and an SSL listener that requires a client certificate: the settings a managed Kafka needs.

const user = { name: 'mailroute', password: `pw-${randomId('kafka')}` };
let broker: SecureKafka;
const files = mkdtempSync(path.join(tmpdir(), 'mailroute-kafka-secrets-'));
const secretFile = (name: string, content: string): string => {
  const file = path.join(files, name);
  writeFileSync(file, content, { mode: 0o600 });
  return file;
};

beforeAll(async () => {
  broker = await startSecureKafka([user]);
}, 180_000);

afterAll(async () => {
  await broker?.dispose();
  rmSync(files, { recursive: true, force: true });
});

const noSecurity: KafkaSecurityConfig = { KAFKA_TLS: false } satisfies Partial<ServiceConfig>;

function busWith(config: Partial<KafkaSecurityConfig>, brokers = () => broker.saslSslBrokers): KafkaEventBus {
  return new KafkaEventBus({
    brokers: [brokers()],
    clientId: 'secure-contract',
    security: kafkaSecurityFromConfig({ ...noSecurity, ...config }),
  });
}

const saslSsl = (mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'): Partial<KafkaSecurityConfig> => ({
  KAFKA_TLS: true,
  KAFKA_TLS_CA_FILE: broker.caFile,
  KAFKA_SASL_MECHANISM: mechanism,
  KAFKA_SASL_USERNAME: user.name,
  KAFKA_SASL_PASSWORD_FILE: secretFile(`password-${mechanism}`, `${user.password}\n`),
});

describeEventBusContract('kafka over SASL_SSL with SCRAM-SHA-512', {
  createBus: () => busWith(saslSsl('scram-sha-512')),
  timeoutMs: 60_000,
});

describeEventBusContract('kafka over SASL_SSL with PLAIN', {
  createBus: () => busWith(saslSsl('plain')),
  timeoutMs: 60_000,
});

describe('KafkaEventBus security', () => {
  /** Connects and creates a topic: what a service does at start. */
  async function startUsing(bus: KafkaEventBus): Promise<void> {
    try {
      await bus.connect();
      await bus.ensureTopics([{ topic: randomId('secure'), partitions: 1 }]);
    } finally {
      await bus.close();
    }
  }

  it('connects with SCRAM-SHA-256 and a password from a Secret variable', async () => {
    const { KAFKA_SASL_PASSWORD_FILE: _file, ...settings } = saslSsl('scram-sha-256');
    await expect(startUsing(busWith({ ...settings, KAFKA_SASL_PASSWORD: user.password }))).resolves.toBeUndefined();
  });

  it('connects with OAUTHBEARER, reading the token file at authentication', async () => {
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    // The test broker validates unsigned tokens (Kafka's unsecured validator): only `sub` and times count.
    const token = `${b64({ alg: 'none' })}.${b64({ sub: user.name, iat: now, exp: now + 3600 })}.`;
    const settings = {
      KAFKA_TLS: true,
      KAFKA_TLS_CA_FILE: broker.caFile,
      KAFKA_SASL_MECHANISM: 'oauthbearer' as const,
      KAFKA_SASL_OAUTHBEARER_TOKEN_FILE: secretFile('token', token),
    };
    await expect(startUsing(busWith(settings))).resolves.toBeUndefined();
  });

  it('connects to a listener that requires a client certificate with KAFKA_TLS_CERT_FILE/KEY_FILE (mTLS)', async () => {
    const settings = {
      KAFKA_TLS: true,
      KAFKA_TLS_CA_FILE: broker.caFile,
      KAFKA_TLS_CERT_FILE: broker.clientCertFile,
      KAFKA_TLS_KEY_FILE: broker.clientKeyFile,
    };
    await expect(startUsing(busWith(settings, () => broker.sslBrokers))).resolves.toBeUndefined();
  });

  it('stops at once with a ConfigError naming the password variable when the brokers reject it, never echoing it', async () => {
    const wrong = `wrong-${randomId('pw')}`;
    const settings = { ...saslSsl('scram-sha-512'), KAFKA_SASL_PASSWORD_FILE: secretFile('wrong', wrong) };
    const failure = await startUsing(busWith(settings)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as ConfigError).message).toMatch(/KAFKA_SASL_PASSWORD_FILE/);
    expect((failure as ConfigError).message).not.toContain(wrong);
  });

  it('stops with a ConfigError naming KAFKA_TLS_CA_FILE when the brokers certificate is not trusted', async () => {
    const { KAFKA_TLS_CA_FILE: _ca, ...settings } = saslSsl('scram-sha-512');
    const failure = await startUsing(busWith(settings)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as ConfigError).message).toMatch(/KAFKA_TLS_CA_FILE/);
  });
});
