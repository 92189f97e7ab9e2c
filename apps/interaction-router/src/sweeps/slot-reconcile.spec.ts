import { createTestCore } from '../../test/router-core.fixture';
import { slotKey, slotPrefix } from '../store/router-keys';

describe('the capacity slot reconciliation', () => {
  it('frees an old slot no interaction holds, and keeps held and recent ones', async () => {
    const t = createTestCore();
    await t.assignedToAlice('i1');
    await t.stores.slots.insert(slotKey('t1', 'alice', 5), { interactionId: 'gone', kind: 'offer', at: t.now() });
    expect(await t.core.reconcileSlots('t1')).toBe(0);
    t.advance(30_000);
    const woken: string[] = [];
    t.core.onWork((tenantId) => woken.push(tenantId));
    expect(await t.core.reconcileSlots('t1')).toBe(1);
    expect(
      (await t.stores.slots.list({ prefix: slotPrefix('t1', 'alice'), limit: 10 })).map((s) => s.document.interactionId),
    ).toEqual(['i1']);
    expect(woken).toEqual(['t1']);
    await t.close();
  });
});
