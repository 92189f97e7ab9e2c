import { randomId, sampleAppCredentials, testInfra } from '@mailroute/testing';
import { MongoAppCredentialsRepository, MongoStore, type IndexPlan } from '../index';

async function openStore(): Promise<MongoStore> {
  return MongoStore.connect({ url: testInfra().mongoUrl, database: randomId('test'), appName: 'persistence-test' });
}

describe('MongoStore (FerretDB over TCP)', () => {
  const plan: IndexPlan = {
    things: [
      { key: { tenantId: 1 }, name: 'tenant' },
      { key: { tenantId: 1, createdAt: -1 }, name: 'tenant_created', unique: true },
    ],
  };

  it('creates the planned indexes, and doing it again changes nothing', async () => {
    const store = await openStore();
    try {
      await store.ensureIndexes(plan);
      // FerretDB v1 drops the connection when asked to create an index that exists: the second
      // call must skip them rather than fail.
      await store.ensureIndexes(plan);
      const names = (await store.db.collection('things').indexes()).map((index) => index.name).sort();
      expect(names).toEqual(['_id_', 'tenant', 'tenant_created']);
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

  it('keeps records in separate databases apart', async () => {
    const [a, b] = [await openStore(), await openStore()];
    try {
      const record = sampleAppCredentials();
      await new MongoAppCredentialsRepository(a).create(record, new Date());
      expect(await new MongoAppCredentialsRepository(b).get(record.tenantId, record.credentialsId)).toBeUndefined();
      expect(await new MongoAppCredentialsRepository(a).get(record.tenantId, record.credentialsId)).toMatchObject({ version: 1 });
    } finally {
      for (const store of [a, b]) {
        await store.db.dropDatabase();
        await store.close();
      }
    }
  });
});
