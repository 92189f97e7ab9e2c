// Interactions: search (state, queue, agent, mailbox, customer, subject, received between) beside one
// interaction's detail (interaction-detail.tsx).
import { InteractionOrder, type InteractionRouterServiceClient } from '@mailroute/contracts';
import { useState } from 'preact/hooks';
import { formatTime } from '../ui/format';
import { navigate } from '../ui/route';
import { usePoll } from '../ui/use-poll';
import { InteractionDetail } from './interaction-detail';
import { emptyForm, SearchFilters, toFilter, type SearchForm } from './interaction-search';
import { stateLabel } from './interaction-state';
import { FailureLine, listAll } from './shared';

export function InteractionsTab(props: { router: InteractionRouterServiceClient; selectedId: string | undefined }) {
  const [form, setForm] = useState<SearchForm>(emptyForm);
  const [applied, setApplied] = useState<SearchForm>(emptyForm);
  const { router } = props;
  const results = usePoll(
    () =>
      router.searchInteractions({
        page: { pageSize: 50, pageToken: '' },
        filter: toFilter(applied),
        order: InteractionOrder.INTERACTION_ORDER_RECEIVED_DESC,
      }),
    10_000,
    [applied],
  );
  const agents = usePoll(
    () =>
      listAll(
        (page) => router.listAgents({ page, queueId: '', skill: '' }),
        (r) => r.agents,
      ),
    60_000,
  );
  const queues = usePoll(
    () =>
      listAll(
        (page) => router.listQueues({ page }),
        (r) => r.queues,
      ),
    60_000,
  );
  const agentOptions = (agents.data ?? []).map((a) => ({ id: a.agentId, name: a.displayName || a.agentId }));
  const queueOptions = (queues.data ?? []).map((q) => ({ id: q.queueId, name: q.displayName || q.queueId }));
  return (
    <section aria-label="Interactions">
      <SearchFilters
        form={form}
        setForm={setForm}
        onSearch={() => setApplied(form)}
        agents={agentOptions}
        queues={queueOptions}
      />
      <FailureLine failure={results.failure} what="interactions" />
      <div class="split">
        <div class="table-wrap">
          <table class="grid">
            <thead>
              <tr>
                <th>Received</th>
                <th>Subject</th>
                <th>Customer</th>
                <th>State</th>
                <th>Agent</th>
              </tr>
            </thead>
            <tbody>
              {(results.data?.interactions ?? []).map((i) => (
                <tr key={i.interactionId} data-testid="interaction-row" aria-selected={i.interactionId === props.selectedId}>
                  <td class="small">{formatTime(i.receivedAt)}</td>
                  <td>
                    <a href={`#/supervisor/interactions/${encodeURIComponent(i.interactionId)}`}>{i.subject || '(no subject)'}</a>
                  </td>
                  <td class="small">{i.customer?.address}</td>
                  <td>{stateLabel(i.state)}</td>
                  <td class="small">{agentOptions.find((a) => a.id === i.agentId)?.name ?? i.agentId}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {results.data?.interactions.length === 0 ? <p class="empty">Nothing matches.</p> : null}
        </div>
        <div>
          {props.selectedId ? (
            <InteractionDetail
              key={props.selectedId}
              router={router}
              interactionId={props.selectedId}
              agents={agentOptions}
              queues={queueOptions}
              onChanged={results.refresh}
            />
          ) : (
            <p class="muted">Choose an interaction to see its history and conversation.</p>
          )}
          {props.selectedId ? (
            <button class="link" onClick={() => navigate({ area: 'supervisor', tab: 'interactions' })}>
              Close
            </button>
          ) : null}
        </div>
      </div>
    </section>
  );
}
