// One interaction the agent holds: who, which mailbox, queue, tags and the rule that routed it; the
// thread; the reply composer; transfer and complete.
import {
  AgentPresence,
  TransferTargetKind,
  type AgentDesktopServiceClient,
  type Interaction,
  type ThreadMessage,
  type TransferTargetOption,
} from '@mailroute/contracts';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { desktopAttachmentDownloader } from '../api/attachments';
import { toFailure } from '../api/errors';
import { enumLabel, formatAddress, formatTime } from '../ui/format';
import type { SendProgress } from './desktop-state';
import { ReplyComposer } from './reply-composer';
import { Thread } from './thread';

const PAGE_SIZE = 20;
const MAX_PAGES = 10;

/** Every message of the interaction, oldest first (up to 200). */
async function loadThread(client: AgentDesktopServiceClient, interactionId: string): Promise<ThreadMessage[]> {
  const messages: ThreadMessage[] = [];
  let pageToken = '';
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const response = await client.listMyInteractionMessages({ interactionId, page: { pageSize: PAGE_SIZE, pageToken } });
    messages.push(...response.messages);
    pageToken = response.nextPageToken;
    if (!pageToken) break;
  }
  return messages;
}

function TransferForm(props: {
  client: AgentDesktopServiceClient;
  interaction: Interaction;
  onDone: () => void;
  onCancel: () => void;
}) {
  const [targets, setTargets] = useState<TransferTargetOption[]>();
  const [choice, setChoice] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    props.client
      .listTransferTargets({
        page: { pageSize: 100, pageToken: '' },
        kind: TransferTargetKind.TRANSFER_TARGET_KIND_UNSPECIFIED,
        nameContains: '',
      })
      .then((response) => setTargets(response.targets))
      .catch((failure) => setError(toFailure(failure).message));
  }, []);
  const submit = async (event: Event) => {
    event.preventDefault();
    const target = targets?.find((t) => optionKey(t) === choice)?.target;
    if (!target) return setError('Choose a queue or an agent.');
    setBusy(true);
    try {
      await props.client.transfer({ interactionId: props.interaction.interactionId, target, note });
      props.onDone();
    } catch (failure) {
      setError(toFailure(failure).message);
      setBusy(false);
    }
  };
  const queues = targets?.filter((t) => t.target?.target?.$case === 'queueId') ?? [];
  const agents = targets?.filter((t) => t.target?.target?.$case === 'agentId') ?? [];
  return (
    <form class="panel-form" onSubmit={submit} aria-label="Transfer">
      <h3>Transfer</h3>
      {!targets && !error ? <p class="muted">Loading where you can transfer to…</p> : null}
      <label>
        To
        <select value={choice} onChange={(e) => setChoice(e.currentTarget.value)} autoFocus>
          <option value="">Choose…</option>
          <optgroup label="Queues">
            {queues.map((t) => (
              <option key={optionKey(t)} value={optionKey(t)}>
                {t.displayName} — {t.waiting} waiting
              </option>
            ))}
          </optgroup>
          <optgroup label="Agents">
            {agents.map((t) => (
              <option key={optionKey(t)} value={optionKey(t)}>
                {t.displayName} — {enumLabel(AgentPresence[t.presence] ?? '', 'AGENT_PRESENCE_')}, {t.freeCapacity} free
              </option>
            ))}
          </optgroup>
        </select>
      </label>
      <label>
        Note for the next agent
        <textarea value={note} maxLength={4096} rows={2} onInput={(e) => setNote(e.currentTarget.value)} />
      </label>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Transferring…' : 'Transfer'}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}

function optionKey(option: TransferTargetOption): string {
  const target = option.target?.target;
  return target ? `${target.$case}:${target.value}` : '';
}

function CompleteForm(props: {
  client: AgentDesktopServiceClient;
  interaction: Interaction;
  onDone: () => void;
  onCancel: () => void;
}) {
  const [disposition, setDisposition] = useState('resolved');
  const [note, setNote] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      await props.client.complete({ interactionId: props.interaction.interactionId, dispositionCode: disposition, note });
      props.onDone();
    } catch (failure) {
      setError(toFailure(failure).message);
      setBusy(false);
    }
  };
  return (
    <form class="panel-form" onSubmit={submit} aria-label="Complete">
      <h3>Complete</h3>
      <label>
        Outcome
        <select value={disposition} onChange={(e) => setDisposition(e.currentTarget.value)} autoFocus>
          <option value="resolved">Resolved</option>
          <option value="answered">Answered, waiting for the customer</option>
          <option value="no-action">No action needed</option>
          <option value="spam">Spam</option>
        </select>
      </label>
      <label>
        Note (kept in the history)
        <textarea value={note} maxLength={4096} rows={2} onInput={(e) => setNote(e.currentTarget.value)} />
      </label>
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Completing…' : 'Complete'}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
    </form>
  );
}

export function InteractionView(props: {
  client: AgentDesktopServiceClient;
  interaction: Interaction;
  queueName: string;
  sends: SendProgress[];
  uploadUrl: string;
  idToken: () => Promise<string>;
  onSent: (progress: SendProgress) => void;
  onClosed: () => void;
}) {
  const { interaction } = props;
  const [messages, setMessages] = useState<ThreadMessage[]>();
  const [error, setError] = useState<string>();
  const [panel, setPanel] = useState<'transfer' | 'complete'>();
  const download = useMemo(() => desktopAttachmentDownloader(props.client), [props.client]);
  // Reload the thread when the interaction changes (new customer mail) or a reply's state moves on.
  const sendKey = props.sends.map((s) => `${s.sendId}:${s.state}`).join(',');
  useEffect(() => {
    let current = true;
    loadThread(props.client, interaction.interactionId)
      .then((loaded) => current && (setMessages(loaded), setError(undefined)))
      .catch((failure) => current && setError(toFailure(failure).message));
    return () => {
      current = false;
    };
  }, [interaction.interactionId, interaction.version, sendKey]);

  const inbound = (messages ?? []).flatMap((m) =>
    m.message?.$case === 'inbound' && m.message.value.message ? [m.message.value.message] : [],
  );
  const latest = inbound.find((m) => m.graphMessageId === interaction.latestInboundGraphMessageId) ?? inbound[inbound.length - 1];
  const customerAttachments = inbound.flatMap((m) =>
    m.attachments.filter((a) => a.contentStored && !a.isInline).map((info) => ({ graphMessageId: m.graphMessageId, info })),
  );
  return (
    <section class="interaction" aria-labelledby="interaction-subject" data-testid="interaction">
      <header class="interaction-head">
        <h2 id="interaction-subject">{interaction.subject || '(no subject)'}</h2>
        <dl class="facts">
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
            <dd>{props.queueName}</dd>
          </div>
          <div>
            <dt>Rule</dt>
            <dd>{interaction.matchedRuleId || 'default route'}</dd>
          </div>
          <div>
            <dt>Tags</dt>
            <dd>
              {interaction.tags.length
                ? interaction.tags.map((tag) => (
                    <span key={tag} class="tag">
                      {tag}
                    </span>
                  ))
                : '—'}
            </dd>
          </div>
          <div>
            <dt>Received</dt>
            <dd>{formatTime(interaction.receivedAt)}</dd>
          </div>
        </dl>
        <div class="actions">
          <button onClick={() => setPanel(panel === 'transfer' ? undefined : 'transfer')} aria-expanded={panel === 'transfer'}>
            Transfer…
          </button>
          <button onClick={() => setPanel(panel === 'complete' ? undefined : 'complete')} aria-expanded={panel === 'complete'}>
            Complete…
          </button>
        </div>
        {panel === 'transfer' ? (
          <TransferForm
            client={props.client}
            interaction={interaction}
            onDone={props.onClosed}
            onCancel={() => setPanel(undefined)}
          />
        ) : null}
        {panel === 'complete' ? (
          <CompleteForm
            client={props.client}
            interaction={interaction}
            onDone={props.onClosed}
            onCancel={() => setPanel(undefined)}
          />
        ) : null}
      </header>
      {error ? (
        <p class="error" role="alert">
          The conversation could not be loaded: {error}
        </p>
      ) : null}
      {messages ? (
        <Thread download={download} interactionId={interaction.interactionId} messages={messages} />
      ) : (
        <p class="muted">Loading the conversation…</p>
      )}
      <ReplyComposer
        client={props.client}
        interaction={interaction}
        message={latest}
        customerAttachments={customerAttachments}
        uploadUrl={props.uploadUrl}
        idToken={props.idToken}
        sends={props.sends}
        onSent={props.onSent}
      />
    </section>
  );
}
