import {
  describeAppCredentialsRepositoryContract,
  describeDocumentTableContract,
  describeLeaseRepositoryContract,
  randomId,
  testInfra,
} from '@mailroute/testing';
import {
  appCredentialsIndexes,
  leaseIndexes,
  MongoAppCredentialsRepository,
  MongoDocumentTable,
  MongoLeaseRepository,
  MongoStore,
} from '../index';

async function openStore(): Promise<{ store: MongoStore; close: () => Promise<void> }> {
  const store = await MongoStore.connect({ url: testInfra().mongoUrl, database: randomId('test'), appName: 'persistence-test' });
  await store.ensureIndexes({ ...appCredentialsIndexes, ...leaseIndexes });
  return {
    store,
    close: async () => {
      await store.db.dropDatabase();
      await store.close();
    },
  };
}

describeDocumentTableContract('mongodb (FerretDB over TCP)', {
  create: async () => {
    const { store, close } = await openStore();
    return { repository: new MongoDocumentTable(store, 'documents'), close };
  },
});

describeLeaseRepositoryContract('mongodb (FerretDB over TCP)', {
  create: async () => {
    const { store, close } = await openStore();
    return { repository: new MongoLeaseRepository(store), close };
  },
});

describeAppCredentialsRepositoryContract('mongodb (FerretDB over TCP)', {
  create: async () => {
    const { store, close } = await openStore();
    return { repository: new MongoAppCredentialsRepository(store), close };
  },
});
