import {
  describeAppCredentialsRepositoryContract,
  describeDocumentTableContract,
  describeLeaseRepositoryContract,
} from '@mailroute/testing';
import { EmbeddedAppCredentialsRepository, EmbeddedDocumentTable, EmbeddedLeaseRepository, EmbeddedStore } from '../index';

function openStore(): { store: EmbeddedStore; close: () => Promise<void> } {
  const store = new EmbeddedStore({ path: ':memory:' });
  return { store, close: async () => store.close() };
}

describeDocumentTableContract('embedded (node:sqlite)', {
  create: async () => {
    const { store, close } = openStore();
    return { repository: new EmbeddedDocumentTable(store, 'documents'), close };
  },
});

describeLeaseRepositoryContract('embedded (node:sqlite)', {
  create: async () => {
    const { store, close } = openStore();
    return { repository: new EmbeddedLeaseRepository(store), close };
  },
});

describeAppCredentialsRepositoryContract('embedded (node:sqlite)', {
  create: async () => {
    const { store, close } = openStore();
    return { repository: new EmbeddedAppCredentialsRepository(store), close };
  },
});
