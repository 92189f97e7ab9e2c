import { openEmbeddedRouterStores } from '../store/embedded-router-stores';
import { interactionKey } from '../store/router-keys';
import type { WaitingDocument } from '../store/router-stores';
import { createWaitingView } from './waiting-view';

const entry = (version: number): WaitingDocument => ({
  version,
  queueId: 'q',
  priority: 100,
  requiredSkills: [],
  queuedAt: 1,
  enteredQueueAt: 1,
  escalationStepsApplied: 0,
  declinedBy: [],
});

describe('the planner waiting view', () => {
  const stores = openEmbeddedRouterStores(':memory:');
  afterAll(() => stores.close());
  let now = 100_000;
  const view = createWaitingView({ stores, clock: () => now, reloadMs: 30_000, maxEntries: 100 });

  it('reads a tenant whole once, then serves its own commits without reading again', async () => {
    await stores.waiting.put(interactionKey('t1', 'a'), entry(2));
    await stores.waiting.put(interactionKey('t2', 'x'), entry(2));
    expect(await view.entries('t1')).toEqual([['a', entry(2)]]);
    // Written behind its back: not seen until a reload or an observed change.
    await stores.waiting.put(interactionKey('t1', 'b'), entry(2));
    // This replica's commits write the index and tell the view.
    await stores.waiting.put(interactionKey('t1', 'c'), entry(3));
    view.noteCommitted('t1', 'c', entry(3));
    await stores.waiting.delete(interactionKey('t1', 'a'));
    view.noteCommitted('t1', 'a', undefined);
    expect(await view.entries('t1')).toEqual([['c', entry(3)]]);
  });

  it('re-reads an interaction another replica changed before the next pass', async () => {
    view.observeChange('t1', 'b');
    expect(new Map(await view.entries('t1'))).toEqual(
      new Map([
        ['c', entry(3)],
        ['b', entry(2)],
      ]),
    );
  });

  it('reads the tenant whole again once the first view is 5 s old, and after forget', async () => {
    now += 5_000;
    await stores.waiting.delete(interactionKey('t1', 'c'));
    expect(new Map(await view.entries('t1'))).toEqual(new Map([['b', entry(2)]]));
    await stores.waiting.put(interactionKey('t1', 'd'), entry(4));
    view.forget('t1');
    expect(new Map(await view.entries('t1'))).toEqual(
      new Map([
        ['b', entry(2)],
        ['d', entry(4)],
      ]),
    );
  });
});

describe('the planner waiting view at its cap', () => {
  const stores = openEmbeddedRouterStores(':memory:');
  afterAll(() => stores.close());
  const view = createWaitingView({ stores, clock: () => 100_000, reloadMs: 30_000, maxEntries: 4 });
  const ids = (entries: Array<[string, WaitingDocument]>) => entries.map(([id]) => id).sort();

  it('holds at most maxEntries per tenant, and takes in the rest from the store once it has drained to half', async () => {
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) await stores.waiting.put(interactionKey('t1', id), entry(2));
    expect(ids(await view.entries('t1'))).toEqual(['a', 'b', 'c', 'd']);
    // A new waiting interaction of this replica's own beyond the cap: in the store, not in memory.
    await stores.waiting.put(interactionKey('t1', 'g'), entry(2));
    view.noteCommitted('t1', 'g', entry(2));
    view.noteCommitted('t1', 'a', entry(3)); // one already held is still updated
    expect(ids(await view.entries('t1'))).toEqual(['a', 'b', 'c', 'd']);
    expect(new Map(await view.entries('t1')).get('a')).toEqual(entry(3));
    // Two offered (left the index): the view is at half its cap and reads the store again.
    for (const id of ['a', 'b']) {
      await stores.waiting.delete(interactionKey('t1', id));
      view.noteCommitted('t1', id, undefined);
    }
    expect(ids(await view.entries('t1'))).toEqual(['c', 'd', 'e', 'f']);
  });
});
