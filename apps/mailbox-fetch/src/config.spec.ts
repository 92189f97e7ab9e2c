import { ConfigError, loadConfig, serviceConfigSchema } from '@mailroute/platform';
import { checkConfig, configSchema } from './config';

const schema = serviceConfigSchema.extend(configSchema.shape);

describe('mailbox-fetch configuration', () => {
  it('starts on the embedded defaults with no variables set', () => {
    const config = loadConfig(schema, {});
    expect(config).toMatchObject({ MAILBOX_FETCH_STORE: 'embedded', MAILBOX_FETCH_LEASE_TTL_MS: 30_000, MAILBOX_FETCH_ERROR_BACKOFF_MAX_MS: 300_000 });
    expect(() => checkConfig(config)).not.toThrow();
  });

  it('requires MAILBOX_FETCH_MONGODB_URL when the mongodb store is selected, naming the variable', () => {
    const config = loadConfig(schema, { MAILBOX_FETCH_STORE: 'mongodb' });
    const error = (() => {
      try {
        checkConfig(config);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables).toEqual(['MAILBOX_FETCH_MONGODB_URL']);
    expect((error as ConfigError).message).toContain('MAILBOX_FETCH_MONGODB_URL is required when MAILBOX_FETCH_STORE=mongodb');
    expect(() => checkConfig(loadConfig(schema, { MAILBOX_FETCH_STORE: 'mongodb', MAILBOX_FETCH_MONGODB_URL: 'mongodb://db.example:27017/' }))).not.toThrow();
  });

  it('rejects an error backoff below one second, naming the variable', () => {
    expect(() => loadConfig(schema, { MAILBOX_FETCH_ERROR_BACKOFF_MAX_MS: '10' })).toThrow(/MAILBOX_FETCH_ERROR_BACKOFF_MAX_MS/);
  });
});
