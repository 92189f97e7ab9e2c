import { ConfigError, loadConfig, serviceSchema } from '@mailroute/platform';
import { configSchema } from './config';

const schema = serviceSchema(configSchema);

describe('mailbox-fetch configuration', () => {
  it('starts on the embedded defaults with no variables set', () => {
    const config = loadConfig(schema, {});
    expect(config).toMatchObject({
      MAILBOX_FETCH_STORE: 'embedded',
      MAILBOX_FETCH_LEASE_TTL_MS: 30_000,
      MAILBOX_FETCH_ERROR_BACKOFF_MAX_MS: 300_000,
      GRPC_PORT: 50052,
      GRPC_HOST: '127.0.0.1',
    });
  });

  it('requires MAILBOX_FETCH_MONGODB_URL when the mongodb store is selected, naming the variable', () => {
    const error = (() => {
      try {
        loadConfig(schema, { MAILBOX_FETCH_STORE: 'mongodb' });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables).toEqual(['MAILBOX_FETCH_MONGODB_URL']);
    expect((error as ConfigError).message).toContain('MAILBOX_FETCH_MONGODB_URL is required when MAILBOX_FETCH_STORE=mongodb');
    expect(() =>
      loadConfig(schema, { MAILBOX_FETCH_STORE: 'mongodb', MAILBOX_FETCH_MONGODB_URL: 'mongodb://db.example:27017/' }),
    ).not.toThrow();
  });

  it('rejects an error backoff below one second, naming the variable', () => {
    expect(() => loadConfig(schema, { MAILBOX_FETCH_ERROR_BACKOFF_MAX_MS: '10' })).toThrow(/MAILBOX_FETCH_ERROR_BACKOFF_MAX_MS/);
  });
});
