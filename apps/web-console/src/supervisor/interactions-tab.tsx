// Interactions: search (state, queue, agent, mailbox, customer, subject, received between), and one
// interaction's detail — facts, history timeline, thread — with assign, transfer and complete.
import {
  InteractionOrder,
  InteractionState,
  StateChangeReason,
  type Interaction,
  type InteractionFilter,
  type InteractionHistoryEntry,
  type InteractionRouterServiceClient,
  type ThreadMessage,
} from '@mailroute/contracts';
import { useEffect, useState } from 'preact/hooks';
import { toFailure } from '../api/errors';
import { Thread } from '../desktop/thread';
import { enumLabel, formatAddress, formatTime } from '../ui/format';
import { navigate } from '../ui/route';
import { usePoll } from '../ui/use-poll';
import { FailureLine, listAll } from './shared';

const STATES = [
  InteractionState.INTERACTION_STATE_QUEUED,
  InteractionState.INTERACTION_STATE_OFFERED,
  InteractionState.INTERACTION_STATE_ASSIGNED,
  InteractionState.INTERACTION_STATE_REPLIED,
  InteractionState.INTERACTION_STATE_COMPLETED,
  InteractionState.INTERACTION_STATE_UNROUTED,
  InteractionState.INTERACTION_STATE_DISCARDED,
];
const stateLabel = (state: InteractionState) => enumLabel(InteractionState[state] ?? '', 'INTERACTION_STATE_');

interface SearchForm {
  state: string;
  queueId: string;
  agentId: string;
  mailboxId: string;
  customer: string;
  subject: string;
  after: string;
  before: string;
}

const emptyForm: SearchForm = {
  state: '',
  queueId: '',
  agentId: '',
  mailboxId: '',
  customer: '',
  subject: '',
  after: '',
  before: '',
};

function toFilter(form: SearchForm): InteractionFilter {
  return {
    states: form.state ? [Number(form.state) as InteractionState] : [],
    queueIds: form.queueId ? [form.queueId] : [],
    agentIds: form.agentId ? [form.agentId] : [],
    mailboxIds: form.mailboxId ? [form.mailboxId.trim()] : [],
    customerAddress: form.customer.trim(),
    conversationId: '',
    internetMessageId: '',
    subjectContains: form.subject.trim(),
    tags: [],
    receivedAfter: form.after ? new Date(form.after) : undefined,
    receivedBefore: form.before ? new Date(form.before) : undefined,
  };
}

function Detail(props: {
  router: InteractionRouterServiceClient;
  interactionId: string;
  agents: { id: string; name: string }[];
  queues: { id: string; name: string }[];
  /** After an action changed the interaction (the list refreshes). */
  onChanged: () => void;
}) {
  const { router, interactionId } = props;
  const [interaction, setInteraction] = useState<Interaction>();
  const [history, setHistory] = useState<InteractionHistoryEntry[]>([]);
  const [messages, setMessages] = useState<ThreadMessage[]>([]);
  const [error, setError] = useState<string>();
  const [notice, setNotice] = useState<string>();
  const [agentId, setAgentId] = useState('');
  const [asOffer, setAsOffer] = useState(false);
  const [queueId, setQueueId] = useState('');
  const [note, setNote] = useState('');
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    Promise.all([
      router.getInteraction({ interactionId }),
      listAll(
        (page) => router.listInteractionHistory({ interactionId, page }),
        (r) => r.entries,
      ),
      listAll(
        (page) => router.listInteractionMessages({ interactionId, page: { ...page, pageSize: 20 } }),
        (r) => r.messages,
      ),
    ])
      .then(([got, entries, thread]) => {
        if (!live) return;
        setInteraction(got.interaction);
        setHistory(entries);
        setMessages(thread);
      })
      .catch((failure) => live && setError(toFailure(failure).message));
    return () => {
      live = false;
    };
  }, [interactionId, tick]);
  const act = async (label: string, action: () => Promise<unknown>) => {
    setError(undefined);
    setNotice(undefined);
    try {
      await action();
      setNotice(label);
      setNote('');
      setTick((n) => n + 1);
      props.onChanged();
    } catch (failure) {
      setError(toFailure(failure).message);
    }
  };
  if (!interaction)
    return error ? (
      <p class="error" role="alert">
        {error}
      </p>
    ) : (
      <p class="muted">Loading…</p>
    );
  const version = interaction.version;
  const open = ![
    InteractionState.INTERACTION_STATE_COMPLETED,
    InteractionState.INTERACTION_STATE_DISCARDED,
    InteractionState.INTERACTION_STATE_MERGED,
  ].includes(interaction.state);
  return (
    <section class="detail" aria-label="Interaction detail" data-testid="interaction-detail">
      <h2>{interaction.subject || '(no subject)'}</h2>
      <dl class="facts">
        <div>
          <dt>State</dt>
          <dd data-testid="detail-state">{stateLabel(interaction.state)}</dd>
        </div>
        <div>
          <dt>Customer</dt>
          <dd>{formatAddress(interaction.customer)}</dd>
        </div>
        <div>
          <dt>Mailbox</dt>
          <dd>{interaction.mailboxAddress}</dd>
        </div>
        <div>
          <dt>Queue</dt>
          <dd>{props.queues.find((q) => q.id === interaction.queueId)?.name ?? (interaction.queueId || '—')}</dd>
        </div>
        <div>
          <dt>Agent</dt>
          <dd data-testid="detail-agent">
            {props.agents.find((a) => a.id === interaction.agentId)?.name ?? (interaction.agentId || '—')}
          </dd>
        </div>
        <div>
          <dt>Rule</dt>
          <dd>{interaction.matchedRuleId || '—'}</dd>
        </div>
        <div>
          <dt>Received</dt>
          <dd>{formatTime(interaction.receivedAt)}</dd>
        </div>
        <div>
          <dt>SLA due</dt>
          <dd>{formatTime(interaction.serviceLevelDueAt)}</dd>
        </div>
      </dl>
      {open ? (
        <div class="panel-form" aria-label="Supervisor actions">
          <label>
            Note (shown to the agent, kept in the history)
            <input type="text" value={note} maxLength={4096} onInput={(e) => setNote(e.currentTarget.value)} />
          </label>
          <div class="actions">
            <select aria-label="Agent to assign" value={agentId} onChange={(e) => setAgentId(e.currentTarget.value)}>
              <option value="">Agent…</option>
              {props.agents.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
            </select>
            <label class="check">
              <input type="checkbox" checked={asOffer} onChange={(e) => setAsOffer(e.currentTarget.checked)} /> as an offer
            </label>
            <button
              class="primary"
              disabled={!agentId}
              onClick={() =>
                void act('Assigned.', () =>
                  router.assignInteraction({ interactionId, agentId, offer: asOffer, note, expectedVersion: version }),
                )
              }
            >
              Assign
            </button>
          </div>
          <div class="actions">
            <select aria-label="Queue to transfer to" value={queueId} onChange={(e) => setQueueId(e.currentTarget.value)}>
              <option value="">Queue…</option>
              {props.queues.map((q) => (
                <option key={q.id} value={q.id}>
                  {q.name}
                </option>
              ))}
            </select>
            <button
              disabled={!queueId}
              onClick={() =>
                void act('Transferred.', () =>
                  router.transferInteraction({
                    interactionId,
                    target: { target: { $case: 'queueId', value: queueId } },
                    requiredSkills: [],
                    note,
                    expectedVersion: version,
                  }),
                )
              }
            >
              Transfer to queue
            </button>
            <button
              onClick={() =>
                void act('Completed.', () =>
                  router.completeInteraction({
                    interactionId,
                    dispositionCode: 'closed-by-supervisor',
                    note,
                    expectedVersion: version,
                  }),
                )
              }
            >
              Complete
            </button>
          </div>
        </div>
      ) : null}
      {notice ? (
        <p class="send-status ok" role="status">
          {notice}
        </p>
      ) : null}
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      <h3>History</h3>
      <ol class="timeline" data-testid="history">
        {history.map((entry) => (
          <li key={entry.version}>
            <strong>{stateLabel(entry.state)}</strong> —{' '}
            {enumLabel(StateChangeReason[entry.reason] ?? '', 'STATE_CHANGE_REASON_')}
            {entry.actor?.displayName ? ` by ${entry.actor.displayName}` : ''}
            <span class="muted small"> · {formatTime(entry.occurredAt)}</span>
            {entry.note ? <div class="muted small">“{entry.note}”</div> : null}
          </li>
        ))}
      </ol>
      <h3>Conversation</h3>
      <Thread client={undefined} interactionId={interactionId} messages={messages} />
    </section>
  );
}

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
  const field = (key: keyof SearchForm) => (e: { currentTarget: { value: string } }) =>
    setForm({ ...form, [key]: e.currentTarget.value });
  return (
    <section aria-label="Interactions">
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(form);
        }}
      >
        <label>
          State
          <select value={form.state} onChange={field('state')}>
            <option value="">Any</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {stateLabel(s)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Queue
          <select value={form.queueId} onChange={field('queueId')}>
            <option value="">Any</option>
            {queueOptions.map((q) => (
              <option key={q.id} value={q.id}>
                {q.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Agent
          <select value={form.agentId} onChange={field('agentId')}>
            <option value="">Any</option>
            {agentOptions.map((a) => (
              <option key={a.id} value={a.id}>
                {a.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Mailbox id
          <input type="text" value={form.mailboxId} onInput={field('mailboxId')} size={12} />
        </label>
        <label>
          Customer
          <input type="search" value={form.customer} onInput={field('customer')} placeholder="address" size={18} />
        </label>
        <label>
          Subject contains
          <input type="search" value={form.subject} onInput={field('subject')} size={16} />
        </label>
        <label>
          Received after
          <input type="datetime-local" value={form.after} onInput={field('after')} />
        </label>
        <label>
          before
          <input type="datetime-local" value={form.before} onInput={field('before')} />
        </label>
        <button type="submit" class="primary">
          Search
        </button>
      </form>
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
            <Detail
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
