import { transition, type InteractionSnapshot } from './interaction-state';

const at = (minute: number): Date => new Date(Date.UTC(2026, 10, 22, 9, minute));
const queued: InteractionSnapshot = { state: 'queued', queueId: 'billing', declinedBy: [], updatedAt: at(0) };

function apply(snapshot: InteractionSnapshot, ...events: Parameters<typeof transition>[1][]): InteractionSnapshot {
  return events.reduce((current, event) => {
    const result = transition(current, event);
    if (!result.ok) throw new Error(result.message);
    return result.next;
  }, snapshot);
}

describe('interaction state machine', () => {
  it('goes queued → offered → assigned → completed for the agent who accepted', () => {
    const done = apply(
      queued,
      { type: 'offer', agentId: 'ana', at: at(1), expiresAt: at(2) },
      { type: 'accept', agentId: 'ana', at: at(1) },
      { type: 'reply', agentId: 'ana', at: at(5) },
      { type: 'complete', agentId: 'ana', at: at(6) },
    );
    expect(done).toMatchObject({ state: 'completed', agentId: 'ana', updatedAt: at(6) });
  });

  it('requeues on decline or timeout and remembers who passed', () => {
    const afterDecline = apply(queued, { type: 'offer', agentId: 'ana', at: at(1), expiresAt: at(2) }, { type: 'decline', agentId: 'ana', at: at(1) });
    const afterTimeout = apply(afterDecline, { type: 'offer', agentId: 'bo', at: at(3), expiresAt: at(4) }, { type: 'offer-timeout', at: at(4) });
    expect(afterTimeout).toMatchObject({ state: 'queued', agentId: undefined, declinedBy: ['ana', 'bo'] });
  });

  it('refuses an accept by another agent, an expired accept, and offering twice', () => {
    const offered = apply(queued, { type: 'offer', agentId: 'ana', at: at(1), expiresAt: at(2) });
    expect(transition(offered, { type: 'accept', agentId: 'bo', at: at(1) })).toMatchObject({ ok: false, reason: 'not-the-agent' });
    expect(transition(offered, { type: 'accept', agentId: 'ana', at: at(3) })).toMatchObject({ ok: false, reason: 'offer-expired' });
    expect(transition(offered, { type: 'offer', agentId: 'bo', at: at(1), expiresAt: at(2) })).toMatchObject({
      ok: false,
      reason: 'invalid-transition',
    });
  });

  it('transfers an assigned interaction to another queue with a clean slate', () => {
    const assigned = apply(queued, { type: 'offer', agentId: 'ana', at: at(1), expiresAt: at(2) }, { type: 'accept', agentId: 'ana', at: at(1) });
    const moved = apply(assigned, { type: 'transfer', at: at(3), queueId: 'tier-2' });
    expect(moved).toMatchObject({ state: 'queued', queueId: 'tier-2', agentId: undefined, declinedBy: [] });
    expect(transition(apply(moved, { type: 'offer', agentId: 'cy', at: at(4), expiresAt: at(5) }), { type: 'complete', agentId: 'cy', at: at(4) })).toMatchObject({ ok: false });
  });
});
