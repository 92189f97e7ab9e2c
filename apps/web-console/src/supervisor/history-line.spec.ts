import { ActorKind, InteractionHistoryEntry, InteractionState, StateChangeReason } from '@mailroute/contracts';
import { historyLine } from './history-line';

const entry = (fields: Partial<InteractionHistoryEntry>) => InteractionHistoryEntry.fromPartial(fields);
const names = new Map([
  ['carol', 'Carol Agent'],
  ['bob', 'Bob Agent'],
]);

describe("the supervisor's history timeline", () => {
  it('names the agent of each supervisor assignment, so a reassignment reads differently from the first', () => {
    const assigned = (agentId: string) =>
      historyLine(
        entry({
          state: InteractionState.INTERACTION_STATE_ASSIGNED,
          reason: StateChangeReason.STATE_CHANGE_REASON_ASSIGNED_BY_SUPERVISOR,
          agentId,
          actor: { kind: ActorKind.ACTOR_KIND_SUPERVISOR, id: 'sam', displayName: 'Sam Supervisor' },
        }),
        names,
      );
    expect(assigned('carol')).toEqual({ headline: 'Assigned to Carol Agent', detail: 'by supervisor (Sam Supervisor)' });
    expect(assigned('bob')).toEqual({ headline: 'Assigned to Bob Agent', detail: 'by supervisor (Sam Supervisor)' });
    expect(assigned('dora').headline).toBe('Assigned to dora');
  });

  it('keeps a reason that does not repeat the state, and names no agent where the state is not about one', () => {
    expect(
      historyLine(
        entry({
          state: InteractionState.INTERACTION_STATE_COMPLETED,
          reason: StateChangeReason.STATE_CHANGE_REASON_COMPLETED,
          agentId: 'carol',
        }),
        names,
      ),
    ).toEqual({ headline: 'Completed', detail: '' });
    expect(
      historyLine(
        entry({ state: InteractionState.INTERACTION_STATE_QUEUED, reason: StateChangeReason.STATE_CHANGE_REASON_ROUTED }),
        names,
      ),
    ).toEqual({ headline: 'Queued', detail: 'Routed' });
  });
});
