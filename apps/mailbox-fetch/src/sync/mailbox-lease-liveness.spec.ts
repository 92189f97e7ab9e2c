import {
  EmbeddedDocumentTable,
  EmbeddedStore,
  incarnationKey,
  ReplicaLiveness,
  type LivenessDocument,
} from '@mailroute/persistence';
import { isHeld, MailboxLeases, ownerGoneIn, type LeaseDocument } from './mailbox-lease';

describe('owner liveness for mailbox leases', () => {
  let store: EmbeddedStore;
  let leases: MailboxLeases;
  let table: EmbeddedDocumentTable<LivenessDocument>;
  let now: number;
  const clock = () => now;
  const key = 'tenant-a/box-1';
  const leaseTtl = 30_000;
  const livenessTtl = 5_000;

  beforeEach(() => {
    store = new EmbeddedStore({ path: ':memory:' });
    leases = new MailboxLeases(new EmbeddedDocumentTable<LeaseDocument>(store, 'mf_mailbox_leases'));
    table = new EmbeddedDocumentTable<LivenessDocument>(store, 'mf_replica_liveness');
    now = 1_800_000_000_000;
  });
  afterEach(() => store.close());

  async function replica(id: string) {
    const liveness = new ReplicaLiveness(table, id, livenessTtl, clock);
    await liveness.beat();
    return liveness;
  }
  const acquire = async (liveness: ReplicaLiveness, gone: ReadonlySet<string> = new Set()) =>
    leases.tryAcquire(
      key,
      { owner: liveness.replicaId, incarnation: liveness.incarnation },
      leaseTtl,
      now,
      undefined,
      ownerGoneIn(gone),
    );

  it("refuses the lease of a replica that keeps beating, for the lease's whole life", async () => {
    const a = await replica('a');
    const b = await replica('b');
    expect(await acquire(a)).toMatchObject({ owner: 'a', incarnation: a.incarnation, epoch: 1 });
    for (let second = 1; second < 29; second += 1) {
      now += 1_000;
      await a.beat();
      await b.beat();
      expect(await acquire(b, await b.gone())).toBeUndefined();
    }
  });

  it("gives a dead replica's lease to another within the liveness TTL, long before the lease expires", async () => {
    const a = await replica('a');
    const b = await replica('b');
    await acquire(a);
    // a dies (no more heartbeats); b keeps beating.
    now += livenessTtl - 1;
    await b.beat();
    expect(await acquire(b, await b.gone())).toBeUndefined();
    now += 2;
    await b.beat();
    const gone = await b.gone();
    expect(gone).toEqual(new Set([incarnationKey('a', a.incarnation)]));
    expect(await acquire(b, gone)).toMatchObject({ owner: 'b', epoch: 2 });
    expect(now - 1_800_000_000_000).toBeLessThan(leaseTtl / 5);
  });

  it("lets exactly one of two replicas take a dead replica's lease", async () => {
    const a = await replica('a');
    const [b, c] = [await replica('b'), await replica('c')];
    await acquire(a);
    now += livenessTtl + 1;
    await Promise.all([b.beat(), c.beat()]);
    const gone = await b.gone();
    const taken = await Promise.all([acquire(b, gone), acquire(c, gone)]);
    expect(taken.filter(Boolean)).toHaveLength(1);
  });

  it('makes a replica whose heartbeat lapsed give up its incarnation for good: it is not alive meanwhile, and its old leases stay takeable', async () => {
    const a = await replica('a');
    const b = await replica('b');
    const first = a.incarnation;
    const held = await acquire(a);
    if (!held) throw new Error('expected the lease');
    // a stalls past its liveness: not alive by its own clock, gone for b.
    now += livenessTtl;
    expect(a.alive()).toBe(false);
    await b.beat();
    const gone = await b.gone();
    expect(await acquire(b, gone)).toMatchObject({ owner: 'b' });
    // a resumes: its next heartbeat reports the lapse and a new incarnation.
    const result = await a.beat();
    expect(result).toEqual({ lapsed: true, lapsedIncarnation: first });
    expect(a.incarnation).not.toBe(first);
    expect(a.alive()).toBe(true);
    // The old incarnation is marked over (its late heartbeat notwithstanding); the lost lease cannot be renewed.
    expect((await b.gone()).has(incarnationKey('a', first))).toBe(true);
    expect(await leases.renew(held, leaseTtl, now)).toBeUndefined();
    expect(isHeld(await leases.head(key), now, ownerGoneIn(await b.gone()))).toBe(true);
  });

  it('counts a cleanly stopped replica as gone at once', async () => {
    const a = await replica('a');
    const b = await replica('b');
    await a.stop();
    expect(a.alive()).toBe(false);
    expect((await b.gone()).has(incarnationKey('a', a.incarnation))).toBe(true);
  });

  it('never counts a lease of an older version (no incarnation) as gone: it waits for the lease to expire', async () => {
    const b = await replica('b');
    await leases.tryAcquire(key, 'old-replica', leaseTtl, now);
    now += livenessTtl * 2;
    await b.beat();
    expect(await acquire(b, await b.gone())).toBeUndefined();
    now += leaseTtl;
    await b.beat();
    expect(await acquire(b, await b.gone())).toMatchObject({ owner: 'b' });
  });
});
