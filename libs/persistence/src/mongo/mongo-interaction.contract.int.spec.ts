import { describeInteractionRepositoryContract, randomId, testInfra } from '@mailroute/testing';
import { MongoInteractionRepository, MongoStore, VersionedCollection, interactionIndexes } from '../index';

describeInteractionRepositoryContract('MongoDB (FerretDB over TCP)', {
  create: async () => {
    const store = await MongoStore.connect({
      url: testInfra().mongoUrl,
      database: randomId('ixcontract'),
      appName: 'persistence-test',
    });
    await store.ensureIndexes({ ...interactionIndexes(), ...VersionedCollection.indexes('router_config') });
    return {
      interactions: new MongoInteractionRepository(store),
      versioned: new VersionedCollection<{ name: string }>(store.db, 'router_config'),
      close: async () => {
        await store.db.dropDatabase().catch(() => undefined);
        await store.close();
      },
    };
  },
});
