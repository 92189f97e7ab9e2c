import { InteractionState } from '@mailroute/contracts';
import { NotFoundError, ValidationError } from '@mailroute/platform';
import { createTestCore } from '../../test/router-core.fixture';
import { findVisible, heldBy } from './agent-access';

describe('what an agent may see and holds', () => {
  it('shows an agent its own interactions only (NOT_FOUND for others’, other tenants included)', async () => {
    const t = createTestCore();
    const record = await t.assignedToAlice('i1');
    expect(heldBy(record, 'alice')).toBe(true);
    expect(heldBy(record, 'bob')).toBe(false);
    expect(heldBy({ ...record, state: InteractionState.INTERACTION_STATE_COMPLETED }, 'alice')).toBe(false);
    expect((await findVisible(t.stores, { tenantId: 't1', agentId: 'alice' }, 'i1')).interactionId).toBe('i1');
    await expect(findVisible(t.stores, { tenantId: 't1', agentId: 'bob' }, 'i1')).rejects.toBeInstanceOf(NotFoundError);
    await expect(findVisible(t.stores, { tenantId: 't2', agentId: 'alice' }, 'i1')).rejects.toBeInstanceOf(NotFoundError);
    await expect(findVisible(t.stores, { tenantId: 't1', agentId: 'alice' }, '')).rejects.toBeInstanceOf(ValidationError);
    await t.close();
  });
});
