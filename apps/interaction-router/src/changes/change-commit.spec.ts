import { waitFor } from '@mailroute/testing';
import { InteractionState } from '@mailroute/contracts';
import { FailedPreconditionError } from '@mailroute/platform';
import type { InteractionHistoryRecord } from '@mailroute/persistence';
import { createTestCore, silentLogger, type TestCore } from '../../test/router-core.fixture';
import { receivedRecord } from '../routing/interaction-mapping';
import { changeKey, parseChangeOutboxKey } from '../store/router-keys';
import { createChangeCommits, toChange } from './change-commit';
import { createChangePublisher } from './change-events';
import { createChangeIndexes } from './change-indexes';
import { createMarkerRemoval } from './marker-removal';

const S = InteractionState;

describe('toChange', () => {
  it('is the next version with its history entry, the patch applied', () => {
    const t = createTestCore();
    const received = receivedRecord(t.inbound({ tenantId: 't1', interactionId: 'i1' }), t.now());
    const { next, entry } = toChange(
      received,
      { type: 'route', at: t.now() + 5, queueId: 'q', priority: 300, requiredSkills: [] },
      { patch: { tags: ['vip'] }, note: 'routed' },
    );
    expect(next).toMatchObject({
      version: 2,
      state: S.INTERACTION_STATE_QUEUED,
      queueId: 'q',
      tags: ['vip'],
      updatedAt: t.now() + 5,
    });
    expect(entry).toMatchObject({
      version: 2,
      previousState: S.INTERACTION_STATE_RECEIVED,
      state: S.INTERACTION_STATE_QUEUED,
      queueId: 'q',
      note: 'routed',
      interaction: next,
    });
    return t.close();
  });

  it('refuses what the state machine refuses (FAILED_PRECONDITION)', () => {
    const t = createTestCore();
    const received = receivedRecord(t.inbound({ tenantId: 't1', interactionId: 'i1' }), t.now());
    expect(() => toChange(received, { type: 'accept', at: t.now(), agentId: 'alice' })).toThrow(FailedPreconditionError);
    return t.close();
  });
});

describe('change commits', () => {
  let t: TestCore;
  const committed: InteractionHistoryRecord[] = [];
  beforeEach(() => {
    t = createTestCore();
    committed.length = 0;
  });
  afterEach(() => t.close());

  const markers = () =>
    createMarkerRemoval({ removeBatch: (keys) => t.stores.interactions.markPublished(keys.map(parseChangeOutboxKey)) });
  const unpublished = () => t.stores.interactions.listUnpublished(t.now(), 10);
  const commitsOf = (publishWaitMs: number, removal = markers()) =>
    createChangeCommits({
      stores: t.stores,
      logger: silentLogger,
      clock: t.now,
      indexes: createChangeIndexes({ stores: t.stores, waitingView: { noteCommitted: () => undefined } }),
      publishChange: createChangePublisher(t.bus.bus),
      publishWaitMs,
      published: removal,
      onCommitted: (entry) => committed.push(entry),
    });

  it('commits a version once: the second writer of that version gets false, and nothing is left unpublished', async () => {
    const removal = markers();
    const commits = commitsOf(1_000, removal);
    const received = receivedRecord(t.inbound({ tenantId: 't1', interactionId: 'i1' }), t.now());
    const first = await commits.applyChange(received, { type: 'no-route', at: t.now() });
    const second = await commits.applyChange(received, { type: 'discard', at: t.now() });
    expect(first?.state).toBe(S.INTERACTION_STATE_UNROUTED);
    expect(second).toBeUndefined();
    expect(committed.map((e) => e.state)).toEqual([S.INTERACTION_STATE_UNROUTED]);
    expect(t.bus.stateChanges().map((e) => [e.interactionId, e.version, e.state])).toEqual([
      ['i1', 2, S.INTERACTION_STATE_UNROUTED],
    ]);
    await removal.flush(); // published changes are marked in batches
    expect(await unpublished()).toEqual([]);
    expect(await t.stores.outbox.list({ prefix: '', limit: 10 })).toEqual([]);
  });

  it('answers after publishWaitMs when the bus hangs, leaving the change unpublished to the background publication', async () => {
    const commits = commitsOf(20);
    t.bus.hold();
    const received = receivedRecord(t.inbound({ tenantId: 't1', interactionId: 'i1' }), t.now());
    expect(await commits.applyChange(received, { type: 'no-route', at: t.now() })).toBeDefined();
    const [change] = await unpublished();
    expect(change).toMatchObject({ tenantId: 't1', interactionId: 'i1', version: 2 });
    const key = change ? changeKey(change) : '';
    expect(commits.isPublishing(key)).toBe(true);
    t.bus.release();
    // Published, then marked with its batch: only then is it no longer "being published".
    await waitFor(() => !commits.isPublishing(key));
    expect(t.bus.stateChanges()).toHaveLength(1);
    expect(await unpublished()).toEqual([]);
  });
});
