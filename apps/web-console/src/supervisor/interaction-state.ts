// The interaction states a supervisor searches by, and how a state reads on screen.
import { InteractionState } from '@mailroute/contracts';
import { enumLabel } from '../ui/format';

export const STATES = [
  InteractionState.INTERACTION_STATE_QUEUED,
  InteractionState.INTERACTION_STATE_OFFERED,
  InteractionState.INTERACTION_STATE_ASSIGNED,
  InteractionState.INTERACTION_STATE_REPLIED,
  InteractionState.INTERACTION_STATE_COMPLETED,
  InteractionState.INTERACTION_STATE_UNROUTED,
  InteractionState.INTERACTION_STATE_DISCARDED,
];
export const stateLabel = (state: InteractionState) => enumLabel(InteractionState[state] ?? '', 'INTERACTION_STATE_');
