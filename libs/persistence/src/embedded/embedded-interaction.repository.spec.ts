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

describe('EmbeddedInteractionRepository on a store written by an earlier version', () => {
  it('adds the outbox column to the history table it finds, keeping what is there', async () => {
    const store = new EmbeddedStore({ path: ':memory:' });
    // The history table as versions before changes carried their outbox entry created it.
    store.db.exec(`
      CREATE TABLE router_interaction_history (
        tenant_id TEXT NOT NULL, interaction_id TEXT NOT NULL, version INTEGER NOT NULL, document TEXT NOT NULL,
        PRIMARY KEY (tenant_id, interaction_id, version)
      ) WITHOUT ROWID;
      INSERT INTO router_interaction_history VALUES ('t1', 'old', 1, '{"version":1}');
    `);
    const interactions = new EmbeddedInteractionRepository(store);
    expect(await interactions.historyEntry('t1', 'old', 1)).toEqual({ version: 1 });
    expect(await interactions.listUnpublished(Date.now(), 10)).toEqual([]);
    store.close();
  });
});
