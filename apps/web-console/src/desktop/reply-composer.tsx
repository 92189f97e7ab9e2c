// Reply and reply-all: who it goes to (the reply mode's recipients, plus any the agent adds), the
// rich-text body, attachments (uploaded files, or the customer's own attachments), Send with an
// idempotency key kept across retries, and the send's progress as the stream reports it.
import {
  ReplyMode,
  SendFailureReason,
  SendState,
  type AgentDesktopServiceClient,
  type AttachmentInfo,
  type EmailAddress,
  type InboundMessage,
  type Interaction,
  type MessageTemplate,
  type OutgoingAttachment,
  type RenderedTemplate,
  type UploadedAttachment,
} from '@mailroute/contracts';
import { useState } from 'preact/hooks';
import { uploadAttachment } from '../api/attachments';
import { toFailure } from '../api/errors';
import { enumLabel, formatAddress, formatBytes } from '../ui/format';
import type { SendProgress } from './desktop-state';
import { escapeHtml, sanitizeForEditor } from './mail-html';
import { RichTextEditor, type EditorHandle } from './rich-text-editor';
import { TemplatePicker } from './template-picker';

type Chosen =
  | { kind: 'upload'; key: string; file: File; sent: number; uploaded?: UploadedAttachment; error?: string }
  | { kind: 'inbound'; key: string; graphMessageId: string; info: AttachmentInfo }
  | { kind: 'template'; key: string; attachment: OutgoingAttachment; sizeBytes: number; templateName: string };

const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

/** Parses "a@x.com, b@y.org" into addresses; the bad ones come back apart. */
function parseAddresses(input: string): { good: EmailAddress[]; bad: string[] } {
  const parts = input
    .split(/[,;\s]+/)
    .map((part) => part.trim())
    .filter(Boolean);
  return {
    good: parts.filter((part) => ADDRESS.test(part)).map((address) => ({ address, name: '' })),
    bad: parts.filter((part) => !ADDRESS.test(part)),
  };
}

/** Who a reply mode addresses, as Graph will do it (never the mailbox itself). */
function replyRecipients(
  message: InboundMessage | undefined,
  mode: ReplyMode,
  mailbox: string,
): { to: EmailAddress[]; cc: EmailAddress[] } {
  if (!message) return { to: [], cc: [] };
  const own = (address: EmailAddress) => address.address.toLowerCase() === mailbox.toLowerCase();
  const sender = message.replyTo.length > 0 ? message.replyTo : message.from ? [message.from] : [];
  if (mode !== ReplyMode.REPLY_MODE_REPLY_ALL) return { to: sender, cc: [] };
  return { to: [...sender, ...message.to.filter((a) => !own(a))], cc: message.cc.filter((a) => !own(a)) };
}

export function SendStatus(props: { progress: SendProgress }) {
  const { state, failure } = props.progress;
  const label =
    state === SendState.SEND_STATE_SENT
      ? 'Sent'
      : state === SendState.SEND_STATE_FAILED
        ? 'Not sent'
        : state === SendState.SEND_STATE_OUTCOME_UNKNOWN
          ? 'May have been sent — do not send again'
          : state === SendState.SEND_STATE_CHECKING
            ? 'Checking whether it went out…'
            : state === SendState.SEND_STATE_RETRYING
              ? 'Queued — retrying'
              : 'Queued';
  const tone = state === SendState.SEND_STATE_SENT ? 'ok' : state === SendState.SEND_STATE_FAILED ? 'error' : 'pending';
  return (
    <p class={`send-status ${tone}`} role="status" data-testid="send-status" data-state={SendState[state]}>
      <strong>{label}</strong>
      {failure && state !== SendState.SEND_STATE_SENT ? (
        <span class="reason">
          {' '}
          — {enumLabel(SendFailureReason[failure.reason] ?? '', 'SEND_FAILURE_REASON_')}
          {failure.message ? `: ${failure.message}` : ''}
        </span>
      ) : null}
    </p>
  );
}

export function ReplyComposer(props: {
  client: AgentDesktopServiceClient;
  interaction: Interaction;
  /** The inbound message replied to (the latest). */
  message: InboundMessage | undefined;
  /** Attachments of the customer's messages that can be forwarded. */
  customerAttachments: { graphMessageId: string; info: AttachmentInfo }[];
  uploadUrl: string;
  idToken: () => Promise<string>;
  sends: SendProgress[];
  onSent: (progress: SendProgress) => void;
}) {
  const [mode, setMode] = useState(ReplyMode.REPLY_MODE_REPLY);
  const [extraTo, setExtraTo] = useState('');
  const [extraCc, setExtraCc] = useState('');
  const [chosen, setChosen] = useState<Chosen[]>([]);
  const [completeAfter, setCompleteAfter] = useState(false);
  const [editor, setEditor] = useState<EditorHandle>();
  const [key, setKey] = useState<string>();
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string>();
  const recipients = replyRecipients(props.message, mode, props.interaction.mailboxAddress);
  const to = parseAddresses(extraTo);
  const cc = parseAddresses(extraCc);
  const uploading = chosen.some((c) => c.kind === 'upload' && !c.uploaded && !c.error);

  const update = (key: string, change: Partial<Chosen>) =>
    setChosen((list) => list.map((item) => (item.key === key ? ({ ...item, ...change } as Chosen) : item)));

  const addFiles = async (files: FileList | null) => {
    for (const file of Array.from(files ?? [])) {
      const itemKey = crypto.randomUUID();
      setChosen((list) => [...list, { kind: 'upload', key: itemKey, file, sent: 0 }]);
      try {
        const uploaded = await uploadAttachment(props.uploadUrl, await props.idToken(), file, (sent) =>
          update(itemKey, { sent }),
        );
        update(itemKey, { uploaded });
      } catch (failure) {
        update(itemKey, { error: failure instanceof Error ? failure.message : String(failure) });
      }
    }
  };

  const toggleInbound = (graphMessageId: string, info: AttachmentInfo) => {
    const itemKey = `${graphMessageId}/${info.attachmentId}`;
    setChosen((list) =>
      list.some((c) => c.key === itemKey)
        ? list.filter((c) => c.key !== itemKey)
        : [...list, { kind: 'inbound', key: itemKey, graphMessageId, info }],
    );
  };

  // The router's rendering, inserted at the cursor; its attachments join the reply's (once each).
  const insertTemplate = (rendered: RenderedTemplate, template: MessageTemplate) => {
    // A template without HTML has text only: its lines become paragraphs, escaped.
    const html =
      rendered.html ||
      rendered.text
        .split('\n')
        .map((line) => `<p>${escapeHtml(line)}</p>`)
        .join('');
    editor?.insertHtml(sanitizeForEditor(html));
    const added: Chosen[] = rendered.attachments.map((attachment) => {
      const uploadId = attachment.source?.$case === 'uploadId' ? attachment.source.value : attachment.name;
      const sizeBytes = template.attachments.find((a) => a.uploadId === uploadId)?.sizeBytes ?? 0;
      return { kind: 'template', key: `template/${uploadId}`, attachment, sizeBytes, templateName: template.displayName };
    });
    setChosen((list) => [...list, ...added.filter((item) => !list.some((c) => c.key === item.key))]);
  };

  const send = async (event: Event) => {
    event.preventDefault();
    if (!editor || sending) return;
    if (to.bad.length + cc.bad.length > 0) return setError(`Not an email address: ${[...to.bad, ...cc.bad].join(', ')}`);
    if (!editor.text().trim()) return setError('Write a reply first.');
    if (chosen.some((c) => c.kind === 'upload' && c.error)) return setError('Remove the attachments that failed to upload.');
    // One key per reply, kept when a send is retried after a dropped connection: the router sends it once.
    const idempotencyKey = key ?? crypto.randomUUID();
    setKey(idempotencyKey);
    setSending(true);
    setError(undefined);
    const attachments: OutgoingAttachment[] = chosen.map((c) =>
      c.kind === 'template'
        ? c.attachment
        : c.kind === 'upload'
          ? {
              name: c.file.name,
              contentType: c.uploaded?.contentType ?? '',
              isInline: false,
              contentId: '',
              source: { $case: 'uploadId', value: c.uploaded?.uploadId ?? '' },
            }
          : {
              name: c.info.name,
              contentType: c.info.contentType,
              isInline: false,
              contentId: '',
              source: { $case: 'inbound', value: { graphMessageId: c.graphMessageId, attachmentId: c.info.attachmentId } },
            },
    );
    try {
      const response = await props.client.reply({
        idempotencyKey,
        interactionId: props.interaction.interactionId,
        replyToGraphMessageId: props.message?.graphMessageId ?? '',
        mode,
        completeAfterSend: completeAfter,
        content: {
          subject: '',
          bodyHtml: editor.html(),
          bodyText: editor.text(),
          to: to.good,
          cc: cc.good,
          bcc: [],
          attachments,
          importance: 0,
        },
      });
      props.onSent({
        sendId: response.sendId,
        idempotencyKey,
        interactionId: props.interaction.interactionId,
        state: response.state,
      });
      editor.clear();
      setChosen([]);
      setExtraTo('');
      setExtraCc('');
      setKey(undefined);
    } catch (failure) {
      const described = toFailure(failure);
      setError(
        described.kind === 'unavailable'
          ? `${described.message} Press Send again: the reply will go out once.`
          : described.message,
      );
    } finally {
      setSending(false);
    }
  };

  return (
    <form class="composer" onSubmit={send} aria-label="Reply">
      <div class="mode" role="radiogroup" aria-label="Reply to">
        {[ReplyMode.REPLY_MODE_REPLY, ReplyMode.REPLY_MODE_REPLY_ALL].map((value) => (
          <label key={value}>
            <input type="radio" name="mode" checked={mode === value} onChange={() => setMode(value)} />
            {value === ReplyMode.REPLY_MODE_REPLY ? 'Reply' : 'Reply all'}
          </label>
        ))}
      </div>
      <p class="recipients">
        <span class="label">To</span> {recipients.to.map(formatAddress).join(', ') || '—'}
        {recipients.cc.length ? (
          <>
            <br />
            <span class="label">Cc</span> {recipients.cc.map(formatAddress).join(', ')}
          </>
        ) : null}
      </p>
      <div class="fields">
        <label>
          Add To
          <input
            type="text"
            value={extraTo}
            onInput={(e) => setExtraTo(e.currentTarget.value)}
            placeholder="name@example.com, …"
            aria-invalid={to.bad.length > 0}
          />
        </label>
        <label>
          Add Cc
          <input
            type="text"
            value={extraCc}
            onInput={(e) => setExtraCc(e.currentTarget.value)}
            placeholder="name@example.com, …"
            aria-invalid={cc.bad.length > 0}
          />
        </label>
      </div>
      <TemplatePicker client={props.client} interaction={props.interaction} onInsert={insertTemplate} />
      <RichTextEditor label="Reply text" onReady={setEditor} />
      <div class="attachments-pick">
        <label class="button">
          Attach files…
          <input
            type="file"
            multiple
            class="visually-hidden"
            data-testid="attach-file"
            onChange={(e) => void addFiles(e.currentTarget.files)}
          />
        </label>
        {props.customerAttachments.length ? (
          <details>
            <summary>Attach from the customer's mail ({props.customerAttachments.length})</summary>
            {props.customerAttachments.map(({ graphMessageId, info }) => (
              <label key={`${graphMessageId}/${info.attachmentId}`} class="check">
                <input
                  type="checkbox"
                  checked={chosen.some((c) => c.key === `${graphMessageId}/${info.attachmentId}`)}
                  onChange={() => toggleInbound(graphMessageId, info)}
                />
                {info.name} ({formatBytes(info.sizeBytes)})
              </label>
            ))}
          </details>
        ) : null}
      </div>
      {chosen.length ? (
        <ul class="chosen" aria-label="Attachments of the reply">
          {chosen.map((c) => (
            <li key={c.key} data-testid="reply-attachment">
              {c.kind === 'upload' ? c.file.name : c.kind === 'template' ? c.attachment.name : c.info.name}{' '}
              <span class="muted">
                {c.kind === 'template'
                  ? `${formatBytes(c.sizeBytes)}, from the template ${c.templateName}`
                  : c.kind === 'upload'
                    ? c.error
                      ? `upload failed: ${c.error}`
                      : c.uploaded
                        ? `${formatBytes(c.file.size)}, uploaded`
                        : `uploading ${Math.round((c.sent / Math.max(1, c.file.size)) * 100)}%`
                    : `${formatBytes(c.info.sizeBytes)}, from the customer's mail`}
              </span>{' '}
              <button type="button" class="link" onClick={() => setChosen((list) => list.filter((x) => x.key !== c.key))}>
                Remove
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <div class="send-row">
        <label class="check">
          <input type="checkbox" checked={completeAfter} onChange={(e) => setCompleteAfter(e.currentTarget.checked)} />
          Complete when sent
        </label>
        <button type="submit" class="primary" disabled={sending || uploading || !editor}>
          {sending ? 'Sending…' : uploading ? 'Uploading…' : 'Send'}
        </button>
      </div>
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {props.sends.map((progress) => (
        <SendStatus key={progress.idempotencyKey} progress={progress} />
      ))}
    </form>
  );
}
