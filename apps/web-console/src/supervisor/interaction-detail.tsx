// One interaction seen by a supervisor: facts, supervisor actions (assign, transfer, complete), the history
// timeline and the thread.
import {
  InteractionState,
  type Interaction,
  type InteractionHistoryEntry,
  type InteractionRouterServiceClient,
  type ThreadMessage,
} from '@mailroute/contracts';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { supervisorAttachmentDownloader } from '../api/attachments';
import { toFailure } from '../api/errors';
import { Thread } from '../desktop/thread';
import { formatAddress, formatTime } from '../ui/format';
import { historyLine } from './history-line';
import { stateLabel } from './interaction-state';
import { listAll } from './shared';

export function InteractionDetail(props: {
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
  const download = useMemo(() => supervisorAttachmentDownloader(router), [router]);
  const agentNames = useMemo(() => new Map(props.agents.map((agent) => [agent.id, agent.name])), [props.agents]);
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
        {interaction.reference && (
          <div>
            <dt>Reference</dt>
            <dd data-testid="detail-reference">{interaction.reference}</dd>
          </div>
        )}
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
        {history.map((entry) => {
          const line = historyLine(entry, agentNames);
          return (
            <li key={entry.version}>
              <strong>{line.headline}</strong>
              {line.detail ? ` — ${line.detail}` : ''}
              <span class="muted small"> · {formatTime(entry.occurredAt)}</span>
              {entry.note ? <div class="muted small">“{entry.note}”</div> : null}
            </li>
          );
        })}
      </ol>
      <h3>Conversation</h3>
      <Thread download={download} interactionId={interactionId} messages={messages} />
    </section>
  );
}
