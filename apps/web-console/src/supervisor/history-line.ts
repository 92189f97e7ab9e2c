// How one entry of an interaction's history reads in the supervisor's timeline.
import { InteractionState, StateChangeReason, type InteractionHistoryEntry } from '@mailroute/contracts';
import { enumLabel } from '../ui/format';
import { stateLabel } from './interaction-state';

/** The states whose entry names the agent it went to ("Assigned to Carol"). */
const toAgentStates = new Set([InteractionState.INTERACTION_STATE_OFFERED, InteractionState.INTERACTION_STATE_ASSIGNED]);

/**
 * The headline (state, and the agent it went to by name), the reason without the state's word repeated
 * ("Assigned by supervisor" under "Assigned" reads "by supervisor") and who acted. Two assignments to different
 * agents read differently; an agent missing from `agentNames` shows by id.
 */
export function historyLine(
  entry: InteractionHistoryEntry,
  agentNames: ReadonlyMap<string, string>,
): { headline: string; detail: string } {
  const state = stateLabel(entry.state);
  const agent = entry.agentId ? (agentNames.get(entry.agentId) ?? entry.agentId) : '';
  const headline = agent && toAgentStates.has(entry.state) ? `${state} to ${agent}` : state;
  const reason = enumLabel(StateChangeReason[entry.reason] ?? '', 'STATE_CHANGE_REASON_');
  const lower = reason.toLowerCase();
  const stateWord = state.toLowerCase();
  const why = lower === stateWord ? '' : lower.startsWith(`${stateWord} `) ? reason.slice(state.length + 1) : reason;
  const actor = entry.actor?.displayName ?? '';
  return { headline, detail: [why, actor ? `(${actor})` : ''].filter(Boolean).join(' ') };
}
