import { EmbeddedDocumentTable, EmbeddedStore } from '@mailroute/persistence';
import { isHeld, leaseHeads, MailboxLeases, type LeaseDocument } from './mailbox-lease';

describe('MailboxLeases (unique-insert epochs)', () => {
  let store: EmbeddedStore;
  let table: EmbeddedDocumentTable<LeaseDocument>;
  let leases: MailboxLeases;
  const key = 'tenant-a/box-1';
  const ttl = 10_000;
  const t0 = 1_800_000_000_000;

  beforeEach(() => {
    store = new EmbeddedStore({ path: ':memory:' });
    table = new EmbeddedDocumentTable<LeaseDocument>(store, 'mf_mailbox_leases');
    leases = new MailboxLeases(table);
  });
  afterEach(() => store.close());

  it('gives a free mailbox to one replica and refuses it to another while the lease lives', async () => {
    const held = await leases.tryAcquire(key, 'a', ttl, t0);
    expect(held).toEqual({ key, owner: 'a', epoch: 1, expiresAt: t0 + ttl });
    expect(await leases.tryAcquire(key, 'b', ttl, t0 + ttl - 1)).toBeUndefined();
    expect(await leases.head(key)).toMatchObject({ owner: 'a', epoch: 1 });
  });

  it('lets exactly one of two replicas that saw the same free head take the mailbox', async () => {
    const results = await Promise.all([leases.tryAcquire(key, 'a', ttl, t0, null), leases.tryAcquire(key, 'b', ttl, t0, null)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    // A second process over the same table is just another writer of the same unique keys.
    const other = new MailboxLeases(table);
    expect(await other.tryAcquire(key, 'c', ttl, t0 + 1)).toBeUndefined();
  });

  it('renews by inserting the next epoch, and keeps the head through pruning', async () => {
    let held = await leases.tryAcquire(key, 'a', ttl, t0);
    for (let i = 1; i <= 5; i += 1) {
      if (!held) throw new Error('lease lost');
      held = await leases.renew(held, ttl, t0 + i * 1_000);
    }
    expect(held).toEqual({ key, owner: 'a', epoch: 6, expiresAt: t0 + 5_000 + ttl });
    await new Promise((resolve) => setImmediate(resolve));
    const keys = (await table.list({ prefix: `${key}#`, limit: 100 })).map((entry) => entry.key);
    expect(keys.length).toBeLessThanOrEqual(3);
    expect(keys).toContain(`${key}#000000000006`);
  });

  it('takes over an expired lease, after which the old holder can neither renew nor release it', async () => {
    const old = await leases.tryAcquire(key, 'a', ttl, t0);
    if (!old) throw new Error('expected the lease');
    const taken = await leases.tryAcquire(key, 'b', ttl, t0 + ttl + 1);
    expect(taken).toMatchObject({ owner: 'b', epoch: 2 });
    expect(await leases.renew(old, ttl, t0 + ttl + 2)).toBeUndefined();
    await leases.release(old);
    expect(await leases.head(key)).toMatchObject({ owner: 'b', epoch: 2 });
    expect(isHeld(await leases.head(key), t0 + ttl + 3)).toBe(true);
  });

  it('renews without reading while the lease is well inside its lifetime, and recovers its own renewal whose answer was lost', async () => {
    const held = await leases.tryAcquire(key, 'a', ttl, t0);
    if (!held) throw new Error('expected the lease');
    // An earlier renewal wrote epoch 2 but its answer never arrived.
    await table.insert(`${key}#000000000002`, { owner: 'a', epoch: 2, expiresAt: t0 + 1_000 + ttl });
    expect(await leases.renew(held, ttl, t0 + 2_000)).toEqual({ key, owner: 'a', epoch: 3, expiresAt: t0 + 2_000 + ttl });
  });

  it('reports the lease lost when another replica wrote the next epoch (a taker with a skewed clock)', async () => {
    const held = await leases.tryAcquire(key, 'a', ttl, t0);
    if (!held) throw new Error('expected the lease');
    await table.insert(`${key}#000000000002`, { owner: 'b', epoch: 2, expiresAt: t0 + 1_000 + ttl });
    expect(await leases.renew(held, ttl, t0 + 2_000)).toBeUndefined();
  });

  it('frees a released lease at once for the next replica', async () => {
    const held = await leases.tryAcquire(key, 'a', ttl, t0);
    if (!held) throw new Error('expected the lease');
    await leases.release(held);
    expect(isHeld(await leases.head(key), t0 + 1)).toBe(false);
    expect(await leases.tryAcquire(key, 'b', ttl, t0 + 1)).toMatchObject({ owner: 'b', epoch: 2 });
  });

  it('refuses from a stale listing that still shows a live head, without reading the store', async () => {
    expect(await leases.tryAcquire(key, 'b', ttl, t0, { owner: 'a', epoch: 3, expiresAt: t0 + 5 })).toBeUndefined();
    expect(await leases.head(key)).toBeUndefined();
  });

  it('reads the newest epoch of each key from one listing', () => {
    const heads = leaseHeads([
      { key: 't/a#000000000001', document: { owner: 'x', epoch: 1, expiresAt: 1 } },
      { key: 't/a#000000000002', document: { owner: 'y', epoch: 2, expiresAt: 2 } },
      { key: 't/b#000000000007', document: { owner: 'z', epoch: 7, expiresAt: 3, released: true } },
    ]);
    expect(heads.get('t/a')).toMatchObject({ owner: 'y', epoch: 2 });
    expect(heads.get('t/b')).toMatchObject({ epoch: 7, released: true });
    expect(isHeld(heads.get('t/b'), 0)).toBe(false);
  });
});
