import { describeInteractionRepositoryContract } from '@mailroute/testing';
import { EmbeddedInteractionRepository, EmbeddedStore, EmbeddedVersionedTable } from '../index';

describeInteractionRepositoryContract('embedded (node:sqlite)', {
  create: async () => {
    const store = new EmbeddedStore({ path: ':memory:' });
    return {
      interactions: new EmbeddedInteractionRepository(store),
      versioned: new EmbeddedVersionedTable<{ name: string }>(store, 'router_config'),
      close: async () => store.close(),
    };
  },
});
