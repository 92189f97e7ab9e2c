import { waitFor } from '@mailroute/testing';
import { createTestCore } from '../../test/router-core.fixture';
import { createMarkerRemoval } from './marker-removal';

describe('outbox marker removal', () => {
  it('deletes the markers of changes committed together in one round trip, after they are published', async () => {
    const t = createTestCore();
    await t.addQueue('t1', 'q');
    const deleteMany = jest.spyOn(t.stores.outbox, 'deleteMany');
    const deleteOne = jest.spyOn(t.stores.outbox, 'delete');
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        t.core.intake(t.inbound({ tenantId: 't1', interactionId: `i${i}`, defaultQueueId: 'q' })),
      ),
    );
    // Twelve changes (RECEIVED and QUEUED of each) were published; their markers go in batches.
    await waitFor(async () => (await t.stores.outbox.list({ prefix: '', limit: 50 })).length === 0);
    expect(t.bus.stateChanges()).toHaveLength(12);
    expect(deleteOne).not.toHaveBeenCalled();
    expect(deleteMany.mock.calls.flatMap(([keys]) => keys)).toHaveLength(12);
    expect(deleteMany.mock.calls.length).toBeLessThan(12);
    await t.close();
  });

  it('settles each removal when its batch is deleted, and rejects it when the delete failed (the relay publishes again)', async () => {
    const batches: string[][] = [];
    let fail = false;
    const removal = createMarkerRemoval({
      outbox: {
        deleteMany: async (keys) => {
          batches.push([...keys]);
          if (fail) throw new Error('store down');
          return keys.length;
        },
      },
    });
    await Promise.all([removal.remove('a'), removal.remove('b')]);
    expect(batches).toEqual([['a', 'b']]);
    fail = true;
    const failed = removal.remove('c');
    await removal.flush().catch(() => undefined);
    await expect(failed).rejects.toThrow('store down');
    expect(batches).toEqual([['a', 'b'], ['c']]);
  });
});
