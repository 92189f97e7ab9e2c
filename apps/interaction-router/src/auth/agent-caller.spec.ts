import { Agent } from '@mailroute/contracts';
import { createAgentDirectory } from './agent-caller';

/** An in-memory agent list that counts its loads (the directory's only dependency). */
function fakeAgents() {
  const agents = new Map<string, Agent>();
  let loads = 0;
  return {
    agents,
    loads: () => loads,
    add(id: string, partial: Partial<Agent>) {
      agents.set(id, Agent.fromPartial({ agentId: id, displayName: id, ...partial }));
    },
    config: {
      all: (async () => {
        loads += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return [...agents].map(([id, value]) => ({ id, version: 1, value, createdAt: 0, updatedAt: 0 }));
      }) as never,
    },
  };
}

describe('agent directory (sign-in → agent)', () => {
  it('maps by object id first, then by user principal name, case-insensitively', async () => {
    const fake = fakeAgents();
    fake.add('anna', { entraObjectId: 'AAAA-1', userPrincipalName: 'Anna@Contoso.test' });
    fake.add('ben', { userPrincipalName: 'ben@contoso.test' });
    const directory = createAgentDirectory({ config: fake.config });
    expect((await directory.resolve('t', 'aaaa-1', undefined))?.id).toBe('anna');
    expect((await directory.resolve('t', 'other-oid', 'BEN@contoso.test'))?.id).toBe('ben');
    expect(await directory.resolve('t', 'nobody', 'nobody@contoso.test')).toBeUndefined();
  });

  it('answers known agents from the cache without reading the store again', async () => {
    const fake = fakeAgents();
    fake.add('anna', { entraObjectId: 'oid-anna' });
    const directory = createAgentDirectory({ config: fake.config, cacheMs: 60_000 });
    for (let i = 0; i < 20; i += 1) expect((await directory.resolve('t', 'oid-anna', undefined))?.id).toBe('anna');
    expect(fake.loads()).toBe(1);
  });

  it('finds an agent created after the list was cached, on the first call after its creation', async () => {
    const fake = fakeAgents();
    const directory = createAgentDirectory({ config: fake.config, cacheMs: 60_000, minReloadMs: 50 });
    expect(await directory.resolve('t', 'oid-new', undefined)).toBeUndefined();
    fake.add('new', { entraObjectId: 'oid-new' });
    expect((await directory.resolve('t', 'oid-new', undefined))?.id).toBe('new');
  });

  it('reloads at most once per minReloadMs per tenant under a flood of unknown users', async () => {
    const fake = fakeAgents();
    fake.add('anna', { entraObjectId: 'oid-anna' });
    const directory = createAgentDirectory({ config: fake.config, cacheMs: 60_000, minReloadMs: 100 });
    await directory.resolve('t', 'oid-anna', undefined);
    const started = Date.now();
    const flood = await Promise.all(
      Array.from({ length: 300 }, (_, i) => directory.resolve('t', `oid-stranger-${i}`, undefined)),
    );
    expect(flood.every((agent) => agent === undefined)).toBe(true);
    // The first load, plus one shared reload for the whole burst.
    expect(fake.loads()).toBe(2);
    // Spread over time: at most one reload per 100 ms (plus the one in flight at the start).
    const spreadStarted = Date.now();
    while (Date.now() - spreadStarted < 600) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => directory.resolve('t', `oid-late-${i}`, undefined)));
    }
    const elapsed = Date.now() - started;
    expect(fake.loads()).toBeLessThanOrEqual(2 + Math.ceil(elapsed / 100) + 1);
    // The tenant's own agents were never slowed down by it.
    expect((await directory.resolve('t', 'oid-anna', undefined))?.id).toBe('anna');
  });

  it('loads an expired list once for all the callers that find it expired, not once per caller', async () => {
    const fake = fakeAgents();
    fake.add('anna', { entraObjectId: 'oid-anna' });
    let clock = 0;
    const directory = createAgentDirectory({ config: fake.config, cacheMs: 50, minReloadMs: 10, now: () => clock });
    await directory.byId('t', 'anna');
    clock += 60;
    // Staggered arrivals while the reload is under way (each load takes ~5 ms).
    const calls = [];
    for (let i = 0; i < 20; i += 1) {
      calls.push(directory.byId('t', 'anna'));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect((await Promise.all(calls)).every((agent) => agent?.id === 'anna')).toBe(true);
    expect(fake.loads()).toBe(2);
  });

  it('keeps tenants apart: one tenant’s unknown users do not delay another’s reload', async () => {
    const fake = fakeAgents();
    const directory = createAgentDirectory({ config: fake.config, cacheMs: 60_000, minReloadMs: 10_000 });
    await directory.resolve('t1', 'x', undefined);
    await directory.resolve('t2', 'x', undefined);
    expect(fake.loads()).toBe(2);
  });

  it('re-reads a cached disabled agent (it may have been enabled) and reports it disabled until then', async () => {
    const fake = fakeAgents();
    fake.add('anna', { entraObjectId: 'oid-anna', enabled: false });
    const directory = createAgentDirectory({ config: fake.config, cacheMs: 60_000, minReloadMs: 20 });
    expect(await directory.resolve('t', 'oid-anna', undefined)).toMatchObject({ id: 'anna', enabled: false });
    fake.add('anna', { entraObjectId: 'oid-anna', enabled: true });
    expect(await directory.resolve('t', 'oid-anna', undefined)).toMatchObject({ id: 'anna', enabled: true });
  });

  it('forgets a deleted or disabled agent once the cached list is older than cacheMs', async () => {
    const fake = fakeAgents();
    fake.add('anna', { entraObjectId: 'oid-anna' });
    const directory = createAgentDirectory({ config: fake.config, cacheMs: 100, minReloadMs: 10 });
    expect((await directory.byId('t', 'anna'))?.enabled).toBe(true);
    fake.agents.delete('anna');
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await directory.byId('t', 'anna')).toBeUndefined();
    expect(await directory.resolve('t', 'oid-anna', undefined)).toBeUndefined();
  });
});
