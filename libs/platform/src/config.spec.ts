import { z } from 'zod';
import { ConfigError } from './errors';
import { env, loadConfig, serviceConfigSchema, serviceSchema } from './config';

describe('loadConfig', () => {
  const schema = serviceConfigSchema.extend({
    KAFKA_BROKERS: env.list(),
    FEATURE_ON: env.bool(false),
    API_SECRET: z.string().min(32),
  });

  it('parses typed values and applies defaults', () => {
    const config = loadConfig(schema, {
      GRPC_PORT: '5001',
      KAFKA_BROKERS: '127.0.0.1:9092, 127.0.0.1:9093',
      FEATURE_ON: 'yes',
      API_SECRET: 'x'.repeat(32),
    });
    expect(config).toMatchObject({
      GRPC_HOST: '127.0.0.1',
      GRPC_PORT: 5001,
      LOG_LEVEL: 'info',
      KAFKA_BROKERS: ['127.0.0.1:9092', '127.0.0.1:9093'],
      FEATURE_ON: true,
      SHUTDOWN_GRACE_MS: 10_000,
    });
  });

  it('names every missing or invalid variable in one error', () => {
    let caught: unknown;
    try {
      loadConfig(schema, { GRPC_PORT: '70000', LOG_LEVEL: 'loud', API_SECRET: 'short' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect([...error.variables].sort()).toEqual(['API_SECRET', 'GRPC_PORT', 'KAFKA_BROKERS', 'LOG_LEVEL']);
    expect(error.message).toMatch(/KAFKA_BROKERS is required but not set/);
    expect(error.message).toMatch(/GRPC_PORT is invalid/);
  });

  it('never echoes a value, which may be a secret', () => {
    expect(() => loadConfig(schema, { GRPC_PORT: '1', KAFKA_BROKERS: 'b', API_SECRET: 'hunter2-secret' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });

  it('treats an empty variable as unset so defaults apply', () => {
    const config = loadConfig(schema, { GRPC_PORT: '0', LOG_LEVEL: '', KAFKA_BROKERS: 'b', API_SECRET: 'y'.repeat(40) });
    expect(config.LOG_LEVEL).toBe('info');
  });

  it("reports a variable in our own format with the parser's reason, naming it", () => {
    const keyed = z.object({
      KEYS: env.parsed((text) => {
        if (!text.includes(':')) throw new Error('expected id:value pairs');
        return text.split(',');
      }),
    });
    expect(loadConfig(keyed, { KEYS: 'a:1,b:2' })).toEqual({ KEYS: ['a:1', 'b:2'] });
    expect(() => loadConfig(keyed, { KEYS: 'supersecretvalue' })).toThrow(
      expect.objectContaining({
        variables: ['KEYS'],
        message: expect.stringMatching(/KEYS is invalid: expected id:value pairs/),
      }),
    );
    expect(() => loadConfig(keyed, { KEYS: 'supersecretvalue' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('supersecret') }),
    );
  });
});

describe('the common Kafka security rules (serviceSchema)', () => {
  const schema = serviceSchema(z.object({ GRPC_PORT: env.port(1) }));
  const problemsOf = (variables: Record<string, string>): readonly string[] => {
    try {
      loadConfig(schema, variables);
      return [];
    } catch (error) {
      return (error as ConfigError).variables;
    }
  };

  it('accepts SCRAM with a password and no SASL at all', () => {
    expect(problemsOf({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' })).toEqual([]);
    expect(problemsOf({})).toEqual([]);
  });

  it('names the missing piece of each mechanism', () => {
    expect(problemsOf({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'p' })).toEqual(['KAFKA_SASL_USERNAME']);
    expect(problemsOf({ KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'u' })).toEqual(['KAFKA_SASL_PASSWORD_FILE']);
    expect(problemsOf({ KAFKA_SASL_MECHANISM: 'oauthbearer' })).toEqual(['KAFKA_SASL_OAUTHBEARER_TOKEN_FILE']);
    expect(
      problemsOf({ KAFKA_SASL_MECHANISM: 'oauthbearer', KAFKA_SASL_OAUTHBEARER_TOKEN_URL: 'https://login.example/token' }),
    ).toEqual(['KAFKA_SASL_OAUTHBEARER_CLIENT_ID', 'KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET_FILE']);
  });

  it('allows plaintext gRPC only on loopback, or when GRPC_ALLOW_PLAINTEXT says so explicitly', () => {
    expect(problemsOf({ GRPC_HOST: '127.0.0.1' })).toEqual([]);
    expect(problemsOf({ GRPC_HOST: '0.0.0.0' })).toEqual(['GRPC_TLS_CERT_FILE']);
    expect(problemsOf({ GRPC_HOST: '0.0.0.0', GRPC_ALLOW_PLAINTEXT: 'true' })).toEqual([]);
    expect(problemsOf({ GRPC_HOST: '0.0.0.0', GRPC_TLS_CERT_FILE: __filename, GRPC_TLS_KEY_FILE: __filename })).toEqual([]);
    expect(
      problemsOf({ GRPC_TLS_REQUIRE_CLIENT_CERT: 'true', GRPC_TLS_CERT_FILE: __filename, GRPC_TLS_KEY_FILE: __filename }),
    ).toEqual(['GRPC_TLS_CA_FILE']);
  });

  it('refuses settings that would be ignored, unreadable files and half a client certificate', () => {
    expect(problemsOf({ KAFKA_SASL_USERNAME: 'u' })).toEqual(['KAFKA_SASL_USERNAME']);
    expect(problemsOf({ KAFKA_TLS_CA_FILE: __filename })).toEqual(['KAFKA_TLS_CA_FILE']);
    expect(problemsOf({ KAFKA_TLS: 'true', KAFKA_TLS_CA_FILE: '/nonexistent/ca.crt' })).toEqual(['KAFKA_TLS_CA_FILE']);
    expect(problemsOf({ KAFKA_TLS: 'true', KAFKA_TLS_CERT_FILE: __filename })).toEqual(['KAFKA_TLS_KEY_FILE']);
    expect(problemsOf({ NODE_EXTRA_CA_CERTS: '/nonexistent/bundle.pem' })).toEqual(['NODE_EXTRA_CA_CERTS']);
  });
});
