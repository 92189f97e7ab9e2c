import { openEmbeddedRouterStores } from '../store/embedded-router-stores';
import { tenantsWithWork } from './tenants-with-work';

describe('tenantsWithWork', () => {
  it('lists each tenant with a waiting or an offered interaction once', async () => {
    const stores = openEmbeddedRouterStores(':memory:');
    expect(await tenantsWithWork(stores)).toEqual([]);
    await stores.waiting.put('t1/i1', {
      version: 2,
      queueId: 'q',
      priority: 1,
      requiredSkills: [],
      queuedAt: 1,
      enteredQueueAt: 1,
      escalationStepsApplied: 0,
      declinedBy: [],
    });
    await stores.offers.put('t1/i2', { version: 3, agentId: 'a', expiresAt: 5 });
    await stores.offers.put('t2/i3', { version: 3, agentId: 'a', expiresAt: 5 });
    expect((await tenantsWithWork(stores)).sort()).toEqual(['t1', 't2']);
    await stores.close();
  });
});
