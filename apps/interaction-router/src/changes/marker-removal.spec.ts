import { waitFor } from '@mailroute/testing';
import { createTestCore } from '../../test/router-core.fixture';
import { createMarkerRemoval } from './marker-removal';

describe('outbox marker removal in batches', () => {
  it('marks the changes committed together published in one round trip, after they are published, and writes no outbox marker', async () => {
    const t = createTestCore();
    await t.addQueue('t1', 'q');
    const markPublished = jest.spyOn(t.stores.interactions, 'markPublished');
    const outboxInsert = jest.spyOn(t.stores.outbox, 'insert');
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        t.core.intake(t.inbound({ tenantId: 't1', interactionId: `i${i}`, defaultQueueId: 'q' })),
      ),
    );
    // Twelve changes (RECEIVED and QUEUED of each) were published; they are marked in batches.
    await waitFor(async () => (await t.stores.interactions.listUnpublished(t.now(), 50)).length === 0);
    expect(t.bus.stateChanges()).toHaveLength(12);
    expect(outboxInsert).not.toHaveBeenCalled();
    expect(markPublished.mock.calls.flatMap(([changes]) => changes)).toHaveLength(12);
    expect(markPublished.mock.calls.length).toBeLessThan(12);
    await t.close();
  });

  it('settles each removal when its batch is deleted, and rejects it when the delete failed (the relay publishes again)', async () => {
    const batches: string[][] = [];
    let fail = false;
    const removal = createMarkerRemoval({
      removeBatch: async (keys) => {
        batches.push([...keys]);
        if (fail) throw new Error('store down');
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
