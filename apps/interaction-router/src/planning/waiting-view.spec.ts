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
