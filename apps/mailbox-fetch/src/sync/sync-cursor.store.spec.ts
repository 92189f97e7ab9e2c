import { openEmbeddedStores } from '../store/mailbox-fetch.stores';
import { CursorTakenError, SyncCursorStore } from './sync-cursor.store';

const position = (link: string, owner: string) => ({
  folderGeneration: 1,
  link,
  linkKind: 'delta' as const,
  windowStart: 0,
  owner,
  at: 0,
});

describe('the sync cursor store', () => {
  it('gives the owner its last position without a store read, and reads the store again after release or for a re-created mailbox', async () => {
    const stores = openEmbeddedStores({ path: ':memory:' });
    const list = stores.cursors.list.bind(stores.cursors);
    let reads = 0;
    Object.assign(stores.cursors, {
      list: (...args: Parameters<typeof list>) => {
        reads += 1;
        return list(...args);
      },
    });
    try {
      const owner = new SyncCursorStore(stores.cursors);
      const first = await owner.advance('t/box', 100, await owner.latest('t/box', 100), position('link-1', 'a'));
      expect(reads).toBe(1);
      await owner.advance('t/box', 100, await owner.latest('t/box', 100), position('link-2', 'a'));
      expect((await owner.latest('t/box', 100))?.link).toBe('link-2');
      expect(reads).toBe(1);

      // Another replica takes the mailbox over and moves on; the old owner's stale position collides.
      const other = new SyncCursorStore(stores.cursors);
      await other.advance('t/box', 100, await other.latest('t/box', 100), position('link-3', 'b'));
      await expect(owner.advance('t/box', 100, first, position('stale', 'a'))).rejects.toBeInstanceOf(CursorTakenError);
      expect((await owner.latest('t/box', 100))?.link).toBe('link-3');

      owner.release('t/box');
      const before = reads;
      expect((await owner.latest('t/box', 100))?.link).toBe('link-3');
      expect(reads).toBe(before + 1);
      // Deleted and made again under the same id: the remembered position is not used.
      await owner.forget('t/box');
      expect(await owner.latest('t/box', 200)).toBeUndefined();
    } finally {
      await stores.close();
    }
  });
});
