import type { LeaseRepository } from '@mailroute/persistence';
import type { RepositoryContractOptions } from './repository-contract';
import { randomId } from './wait-for';

/** The behaviour every LeaseRepository adapter must have. */
export function describeLeaseRepositoryContract(name: string, options: RepositoryContractOptions<LeaseRepository>): void {
  describe(`LeaseRepository contract: ${name}`, () => {
    let leases: LeaseRepository;
    let close: () => Promise<void>;
    const t0 = new Date('2026-11-01T10:00:00.000Z');
    const later = (ms: number) => new Date(t0.getTime() + ms);

    beforeEach(async () => {
      ({ repository: leases, close } = await options.create());
    });
    afterEach(async () => {
      await close();
    });

    it('gives a free lease to one holder and refuses others until it is released', async () => {
      const key = randomId('lease');
      const held = await leases.tryAcquire(key, 'a', 30_000, t0);
      expect(held).toMatchObject({ key, owner: 'a', expiresAt: later(30_000) });
      expect(await leases.tryAcquire(key, 'b', 30_000, later(1_000))).toBeUndefined();
      if (!held) throw new Error('expected the lease');
      await leases.release(held);
      const next = await leases.tryAcquire(key, 'b', 30_000, later(2_000));
      expect(next?.owner).toBe('b');
      expect(next?.epoch).toBeGreaterThan(held.epoch);
    });

    it('frees a lease whose holder did not release it once it expires', async () => {
      const key = randomId('lease');
      await leases.tryAcquire(key, 'a', 1_000, t0);
      expect(await leases.tryAcquire(key, 'b', 1_000, later(999))).toBeUndefined();
      expect((await leases.tryAcquire(key, 'b', 1_000, later(1_001)))?.owner).toBe('b');
    });

    it('ignores a late release by a holder whose lease expired and was taken over', async () => {
      const key = randomId('lease');
      const stale = await leases.tryAcquire(key, 'a', 1_000, t0);
      const current = await leases.tryAcquire(key, 'b', 30_000, later(2_000));
      if (!stale) throw new Error('expected the lease');
      await leases.release(stale);
      expect(current).toBeDefined();
      expect(await leases.tryAcquire(key, 'c', 30_000, later(3_000))).toBeUndefined();
    });

    it('grants a free lease to exactly one of many concurrent contenders', async () => {
      const key = randomId('lease');
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => leases.tryAcquire(key, `owner-${i}`, 30_000, t0)));
      expect(results.filter((lease) => lease !== undefined)).toHaveLength(1);
    });

    it('keeps leases of different keys independent', async () => {
      expect(await leases.tryAcquire('k-1', 'a', 30_000, t0)).toBeDefined();
      expect(await leases.tryAcquire('k-2', 'b', 30_000, t0)).toBeDefined();
    });
  });
}
