import { z } from 'zod';
import { ConfigError } from './errors';
import { env, loadConfig, serviceConfigSchema } from './config';

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
