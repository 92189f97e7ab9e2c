import { describeTenantCredentialsRepositoryContract, randomId, sampleTenantCredentials, testInfra } from '@mailroute/testing';
import { MongoStore, MongoTenantCredentialsRepository, tenantCredentialsIndexes } from '../index';

async function openStore(): Promise<MongoStore> {
  return MongoStore.connect({ url: testInfra().mongoUrl, database: randomId('test'), appName: 'persistence-test' });
}

describeTenantCredentialsRepositoryContract('mongodb (FerretDB over TCP)', {
  create: async () => {
    const store = await openStore();
    await store.ensureIndexes(tenantCredentialsIndexes);
    return {
      repository: new MongoTenantCredentialsRepository(store),
      close: async () => {
        await store.db.dropDatabase();
        await store.close();
      },
    };
  },
});

describe('MongoStore', () => {
  it('creates the planned indexes, and doing it again changes nothing', async () => {
    const store = await openStore();
    try {
      await store.ensureIndexes(tenantCredentialsIndexes);
      await store.ensureIndexes(tenantCredentialsIndexes);
      const names = (await store.db.collection('tenant_credentials').indexes()).map((index) => index.name).sort();
      expect(names).toEqual(['_id_', 'credential_certificate_expiry', 'credential_secret_expiry', 'key_version']);
    } finally {
      await store.db.dropDatabase();
      await store.close();
    }
  });

  it('fails fast with a retryable UNAVAILABLE error, password hidden, when the server is unreachable', async () => {
    const error = await MongoStore.connect({
      url: 'mongodb://app:hunter2@127.0.0.1:1/',
      database: 'x',
      appName: 'unreachable',
      serverSelectionTimeoutMs: 300,
    }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect((error as Error).message).toContain('app:***@127.0.0.1:1');
    expect((error as Error).message).not.toContain('hunter2');
  });

  it('keeps tenant records in separate databases apart', async () => {
    const [a, b] = [await openStore(), await openStore()];
    try {
      const record = sampleTenantCredentials();
      await new MongoTenantCredentialsRepository(a).create(record, new Date());
      expect(await new MongoTenantCredentialsRepository(b).get(record.tenantId)).toBeUndefined();
    } finally {
      for (const store of [a, b]) {
        await store.db.dropDatabase();
        await store.close();
      }
    }
  });
});
