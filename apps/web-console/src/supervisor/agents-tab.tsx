// Agents: presence, connected, load against capacity, what each one holds now; set an agent's presence.
import { AgentPresence, InteractionState, type InteractionRouterServiceClient } from '@mailroute/contracts';
import { useState } from 'preact/hooks';
import { toFailure } from '../api/errors';
import { enumLabel, formatDuration } from '../ui/format';
import { navigate } from '../ui/route';
import { usePoll } from '../ui/use-poll';
import { FailureLine, listAll } from './shared';

const PRESENCES = [
  AgentPresence.AGENT_PRESENCE_AVAILABLE,
  AgentPresence.AGENT_PRESENCE_BUSY,
  AgentPresence.AGENT_PRESENCE_AWAY,
  AgentPresence.AGENT_PRESENCE_OFFLINE,
];
export const presenceLabel = (presence: AgentPresence) => enumLabel(AgentPresence[presence] ?? '', 'AGENT_PRESENCE_');

export function AgentsTab(props: { router: InteractionRouterServiceClient }) {
  const [error, setError] = useState<string>();
  const statuses = usePoll(
    () =>
      listAll(
        (page) => props.router.listAgentStatuses({ page, queueId: '', presence: AgentPresence.AGENT_PRESENCE_UNSPECIFIED }),
        (r) => r.statuses,
      ),
    5000,
  );
  const work = usePoll(
    () =>
      listAll(
        (page) =>
          props.router.searchInteractions({
            page,
            filter: {
              states: [
                InteractionState.INTERACTION_STATE_OFFERED,
                InteractionState.INTERACTION_STATE_ASSIGNED,
                InteractionState.INTERACTION_STATE_REPLIED,
              ],
            },
            order: 0,
          }),
        (r) => r.interactions,
      ),
    5000,
  );
  const setPresence = async (agentId: string, presence: AgentPresence) => {
    setError(undefined);
    try {
      await props.router.setAgentPresence({ agentId, presence, reason: 'set by a supervisor' });
      statuses.refresh();
    } catch (failure) {
      setError(toFailure(failure).message);
    }
  };
  const now = Date.now();
  return (
    <section aria-label="Agents">
      <FailureLine failure={statuses.failure} what="agents" />
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      <div class="table-wrap">
        <table class="grid">
          <thead>
            <tr>
              <th>Agent</th>
              <th>Presence</th>
              <th>Connected</th>
              <th class="num">Load</th>
              <th>Now handling</th>
              <th>Set presence</th>
            </tr>
          </thead>
          <tbody>
            {(statuses.data ?? []).map((status) => {
              const held = (work.data ?? []).filter((i) => i.agentId === status.agentId || i.offeredAgentId === status.agentId);
              return (
                <tr key={status.agentId} data-testid="agent-row">
                  <td>{status.displayName || status.agentId}</td>
                  <td>
                    {presenceLabel(status.presence)}
                    {status.presenceReason ? <span class="muted small"> ({status.presenceReason})</span> : null}
                    <div class="muted small">for {formatDuration(now - (status.presenceSince?.getTime() ?? now))}</div>
                  </td>
                  <td>{status.connected ? 'Yes' : 'No'}</td>
                  <td class="num">
                    {status.activeInteractions} / {status.capacity}
                    {status.pendingOffers ? <div class="muted small">{status.pendingOffers} offered</div> : null}
                  </td>
                  <td>
                    {held.length === 0
                      ? '—'
                      : held.map((i) => (
                          <div key={i.interactionId}>
                            <a href={`#/supervisor/interactions/${encodeURIComponent(i.interactionId)}`}>
                              {i.subject || '(no subject)'}
                            </a>
                            {i.state === InteractionState.INTERACTION_STATE_OFFERED ? (
                              <span class="muted small"> (offered)</span>
                            ) : null}
                          </div>
                        ))}
                  </td>
                  <td>
                    <select
                      aria-label={`Presence of ${status.displayName}`}
                      value={status.presence}
                      onChange={(e) => void setPresence(status.agentId, Number(e.currentTarget.value) as AgentPresence)}
                    >
                      {PRESENCES.map((p) => (
                        <option key={p} value={p}>
                          {presenceLabel(p)}
                        </option>
                      ))}
                    </select>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {statuses.data?.length === 0 ? (
        <p class="empty">
          No agents yet.{' '}
          <button class="link" onClick={() => navigate({ area: 'supervisor', tab: 'configuration' })}>
            Add agents under Configuration.
          </button>
        </p>
      ) : null}
    </section>
  );
}
