import { Queue } from '@mailroute/contracts';
import { createTestCore, subjectRule } from '../../test/router-core.fixture';
import { createConfigSnapshots } from './config-snapshots';

describe('configuration snapshots', () => {
  it('reuse a tenant’s configuration for cacheMs, until invalidated', async () => {
    const t = createTestCore();
    const snapshots = createConfigSnapshots({ config: t.core.config, clock: t.now, cacheMs: 1_000, ruleSetCacheMs: 2_000 });
    await t.addQueue('t1', 'billing');
    expect([...(await snapshots.queuePolicies('t1')).keys()]).toEqual(['billing']);
    await t.addQueue('t1', 'sales');
    expect([...(await snapshots.queuePolicies('t1')).keys()]).toEqual(['billing']);
    t.advance(1_000);
    expect([...(await snapshots.queuePolicies('t1')).keys()]).toEqual(['billing', 'sales']);
    await t.addQueue('t1', 'support');
    snapshots.invalidate('t1');
    expect([...(await snapshots.queuePolicies('t1')).keys()]).toEqual(['billing', 'sales', 'support']);
    expect((await snapshots.queuePolicies('t1')).get('sales')?.policy.queueId).toBe('sales');
    await t.close();
  });

  it('reuse one configuration object for cacheMs without reading the store, until invalidated', async () => {
    const t = createTestCore();
    const get = jest.spyOn(t.core.config, 'get');
    const snapshots = createConfigSnapshots({ config: t.core.config, clock: t.now, cacheMs: 1_000, ruleSetCacheMs: 2_000 });
    await t.addQueue('t1', 'billing', { displayName: 'Billing' });
    expect((await snapshots.cachedGet('t1', 'queue', 'billing'))?.value.displayName).toBe('Billing');
    await t.addQueue('t1', 'billing-2');
    expect((await snapshots.cachedGet('t1', 'queue', 'billing'))?.value.displayName).toBe('Billing');
    expect(get).toHaveBeenCalledTimes(1);
    await t.core.config.write(
      't1',
      'queue',
      'billing',
      1,
      Queue.fromPartial({ queueId: 'billing', displayName: 'Invoices' }),
      0,
      0,
    );
    get.mockClear();
    expect((await snapshots.cachedGet('t1', 'queue', 'billing'))?.value.displayName).toBe('Billing');
    snapshots.invalidate('t1');
    expect((await snapshots.cachedGet('t1', 'queue', 'billing'))?.value.displayName).toBe('Invoices');
    expect(await snapshots.cachedGet('t1', 'queue', 'missing')).toBeUndefined();
    expect(get).toHaveBeenCalledTimes(2);
    t.advance(1_000);
    await snapshots.cachedGet('t1', 'queue', 'billing');
    expect(get).toHaveBeenCalledTimes(3);
    await t.close();
  });

  it('compile the rule set in evaluation order (position, then id) and keep it for ruleSetCacheMs', async () => {
    const t = createTestCore();
    const snapshots = createConfigSnapshots({ config: t.core.config, clock: t.now, cacheMs: 0, ruleSetCacheMs: 2_000 });
    await t.addRule('t1', 'zeta', { ...subjectRule('invoice', 'billing'), position: 1 });
    await t.addRule('t1', 'alpha', { ...subjectRule('invoice', 'sales'), position: 2 });
    const first = await snapshots.ruleSet('t1');
    await t.addRule('t1', 'beta', { ...subjectRule('invoice', 'support'), position: 0 });
    expect(await snapshots.ruleSet('t1')).toBe(first);
    t.advance(2_000);
    const second = await snapshots.ruleSet('t1');
    expect(second).not.toBe(first);
    expect(JSON.stringify(second).indexOf('"beta"')).toBeLessThan(JSON.stringify(second).indexOf('"zeta"'));
    expect(JSON.stringify(second).indexOf('"zeta"')).toBeLessThan(JSON.stringify(second).indexOf('"alpha"'));
    await t.close();
  });
});
