import { randomId, testInfra, waitFor } from '@mailroute/testing';
import { EmbeddedDocumentTable, EmbeddedStore, MongoDocumentTable, MongoStore, type DocumentTable } from '../index';
import { incarnationKey, ReplicaLiveness, type LivenessDocument } from './replica-liveness';

interface Backend {
  table: DocumentTable<LivenessDocument>;
  close(): Promise<void>;
}

const backends: [string, () => Promise<Backend>][] = [
  [
    'embedded store (node:sqlite)',
    async () => {
      const store = new EmbeddedStore({ path: ':memory:' });
      return { table: new EmbeddedDocumentTable<LivenessDocument>(store, 'replica_liveness'), close: async () => store.close() };
    },
  ],
  [
    'MongoDB (FerretDB over TCP)',
    async () => {
      const store = await MongoStore.connect({
        url: testInfra().mongoUrl,
        database: randomId('liveness'),
        appName: 'persistence-test',
      });
      return {
        table: new MongoDocumentTable<LivenessDocument>(store, 'replica_liveness'),
        close: async () => {
          await store.db.dropDatabase().catch(() => undefined);
          await store.close();
        },
      };
    },
  ],
];

describe.each(backends)('replica liveness on the %s', (_name, open) => {
  let backend: Backend;
  let now: number;
  const clock = () => now;
  const ttl = 30_000;

  beforeEach(async () => {
    backend = await open();
    now = 1_800_000_000_000;
  });
  afterEach(async () => backend.close());

  const replica = (id: string, ttlMs = ttl) => new ReplicaLiveness(backend.table, id, ttlMs, clock);
  async function started(id: string, ttlMs = ttl) {
    const liveness = replica(id, ttlMs);
    await liveness.beat();
    return liveness;
  }

  it('keeps a live incarnation and counts it gone once its heartbeat is older than the TTL', async () => {
    const owner = await started('a');
    const other = await started('b');
    expect(await other.isGone('a', owner.incarnation, now)).toBe(false);
    now += ttl - 1_000;
    expect(await other.isGone('a', owner.incarnation, now)).toBe(false);
    expect(await other.gone(now)).toEqual(new Set());
    now += 2_000;
    expect(await other.isGone('a', owner.incarnation, now)).toBe(true);
    expect(await other.gone(now)).toEqual(
      new Set([incarnationKey('a', owner.incarnation), incarnationKey('b', other.incarnation)]),
    );
  });

  it('knows at once an incarnation that stopped cleanly or whose replica id restarted as another incarnation', async () => {
    const first = await started('a');
    const other = await started('b');
    await first.stop();
    expect(first.alive()).toBe(false);
    expect(await other.isGone('a', first.incarnation, now)).toBe(true);
    expect((await other.gone(now)).has(incarnationKey('a', first.incarnation))).toBe(true);

    const restarted = await started('a');
    expect(await other.isGone('a', first.incarnation, now)).toBe(true);
    expect(await other.isGone('a', restarted.incarnation, now)).toBe(false);
    // A crashed incarnation (no stop written), superseded by a later start of its replica id:
    now += 1_000;
    const crashed = await started('c');
    now += 1_000;
    expect(await other.isGone('c', crashed.incarnation, now)).toBe(false);
    const again = await started('c');
    expect(await other.isGone('c', crashed.incarnation, now)).toBe(true);
    expect(await other.gone(now)).toEqual(
      new Set([incarnationKey('a', first.incarnation), incarnationKey('c', crashed.incarnation)]),
    );
    // An incarnation the table does not know, while its replica id runs another live one, is over too.
    expect(await other.isGone('c', 'never-beat', now)).toBe(true);
    await again.stop();
  });

  it('leaves an incarnation it knows nothing about undecided (false)', async () => {
    const other = await started('b');
    expect(await other.isGone('never-seen', 'x', now)).toBe(false);
    expect(await other.isGone('b', undefined, now)).toBe(false);
  });

  it('is alive only while its own acknowledged heartbeat lives, with the margin asked for', async () => {
    const self = replica('a');
    expect(self.alive(now)).toBe(false);
    await self.beat();
    expect(self.alive(now + 14_000, ttl / 2)).toBe(true);
    expect(self.alive(now + 16_000, ttl / 2)).toBe(false);
    expect(self.alive(now + ttl - 1)).toBe(true);
    expect(self.alive(now + ttl)).toBe(false);
  });

  it('makes an incarnation whose heartbeat lapsed give it up for good and continue as a new one', async () => {
    const a = await started('a', 5_000);
    const b = await started('b', 5_000);
    const first = a.incarnation;
    now += 4_000;
    await b.beat();
    now += 1_000;
    expect(a.alive()).toBe(false);
    await b.beat();
    expect(await b.gone()).toEqual(new Set([incarnationKey('a', first)]));
    const result = await a.beat();
    expect(result).toEqual({ lapsed: true, lapsedIncarnation: first });
    expect(a.incarnation).not.toBe(first);
    expect(a.alive()).toBe(true);
    // Its late heartbeat notwithstanding, the old incarnation stays gone; the new one lives.
    expect(await b.isGone('a', first)).toBe(true);
    expect(await b.isGone('a', a.incarnation)).toBe(false);
    expect(await b.gone()).toEqual(new Set([incarnationKey('a', first)]));
  });

  it('beats in the background until stopped, keeping only the last two heartbeats of an incarnation', async () => {
    const realClock = new ReplicaLiveness(backend.table, 'bg', 2_000, Date.now);
    await realClock.beat();
    let beats = 0;
    realClock.keepBeating(20, { onBeat: () => (beats += 1) });
    await waitFor(() => beats >= 4, { timeoutMs: 30_000, description: 'four background heartbeats' });
    await realClock.stop();
    expect(await realClock.isGone('bg', realClock.incarnation, Date.now())).toBe(true);
    // (Removal of older heartbeats is best effort, after each insert: at most a few remain.)
    const rows = await backend.table.list({ prefix: `${incarnationKey('bg', realClock.incarnation)}#`, limit: 100 });
    expect(rows.length).toBeLessThanOrEqual(4);
  });

  it('ignores rows that are not heartbeats (left by an older version) and forgets long-dead incarnations', async () => {
    await (backend.table as DocumentTable<object>).put('old-replica', { instance: 'x', startedAt: now, beatAt: now });
    const a = await started('a');
    const b = await started('b');
    await a.stop();
    expect(await b.gone(now)).toEqual(new Set([incarnationKey('a', a.incarnation)]));
    now += 11 * 60_000;
    await b.beat();
    await b.gone(now);
    await waitFor(async () => (await backend.table.list({ prefix: 'a/', limit: 10 })).length === 0, {
      timeoutMs: 10_000,
      description: 'the dead incarnation forgotten',
    });
  });
});
