// The interaction's thread, oldest first: the customer's messages (sanitized HTML in a sandboxed frame,
// attachments with size and a download button) and the replies with their send state.
import { ReplyMode, SendState, type ThreadMessage } from '@mailroute/contracts';
import { useEffect, useState } from 'preact/hooks';
import { saveBlob, toDataUrl, type AttachmentDownloader } from '../api/attachments';
import { toFailure } from '../api/errors';
import { formatAddress, formatBytes, formatTime } from '../ui/format';
import { MailFrame } from './mail-frame';
import { SendStatus } from './reply-composer';

type Inbound = Extract<ThreadMessage['message'], { $case: 'inbound' }>['value'];

function InboundEntry(props: { download: AttachmentDownloader | undefined; interactionId: string; entry: Inbound }) {
  const message = props.entry.message;
  const [cidImages, setCidImages] = useState<Record<string, string>>({});
  const [downloading, setDownloading] = useState<string>();
  const [error, setError] = useState<string>();
  const attachments = message?.attachments ?? [];
  useEffect(() => {
    const downloadImage = props.download;
    if (!downloadImage || !message || !props.entry.bodyHtmlSanitized.includes('cid:')) return;
    const abort = new AbortController();
    const inline = attachments.filter((a) => a.contentId && a.contentStored && a.contentType.startsWith('image/'));
    void Promise.all(
      inline.map(async (a) => {
        const { blob } = await downloadImage(
          { interactionId: props.interactionId, graphMessageId: message.graphMessageId, attachmentId: a.attachmentId },
          abort.signal,
        );
        return [a.contentId.replace(/^<|>$/g, ''), await toDataUrl(blob)] as const;
      }),
    )
      .then((pairs) => setCidImages(Object.fromEntries(pairs)))
      .catch(() => undefined);
    return () => abort.abort();
  }, [message?.graphMessageId]);
  if (!message) return null;
  const download = async (attachmentId: string, name: string) => {
    if (!props.download) return;
    setDownloading(attachmentId);
    setError(undefined);
    try {
      const { blob } = await props.download({
        interactionId: props.interactionId,
        graphMessageId: message.graphMessageId,
        attachmentId,
      });
      saveBlob(blob, name);
    } catch (failure) {
      setError(`${name}: ${toFailure(failure).message}`);
    } finally {
      setDownloading(undefined);
    }
  };
  const listed = attachments.filter(
    (a) => !(a.isInline && a.contentId && props.entry.bodyHtmlSanitized.includes(`cid:${a.contentId}`)),
  );
  return (
    <article class="message inbound" data-testid="thread-message" aria-label={`From ${formatAddress(message.from)}`}>
      <header>
        <strong>{formatAddress(message.from)}</strong>
        <time>{formatTime(message.receivedAt)}</time>
        <div class="muted small">
          To {message.to.map(formatAddress).join(', ') || '—'}
          {message.cc.length ? ` · Cc ${message.cc.map(formatAddress).join(', ')}` : ''}
        </div>
        <div class="subject">{message.subject || '(no subject)'}</div>
      </header>
      <MailFrame
        html={props.entry.bodyHtmlSanitized}
        text={message.bodyText}
        cidImages={cidImages}
        title={`Message from ${formatAddress(message.from)}`}
      />
      {props.entry.bodyHtmlTruncated || message.bodyTextTruncated ? (
        <p class="muted small">This message was too long and is shown cut short.</p>
      ) : null}
      {listed.length ? (
        <ul class="attachments" aria-label="Attachments">
          {listed.map((a) => (
            <li key={a.attachmentId} data-testid="attachment">
              <span class="name">{a.name}</span> <span class="muted">{formatBytes(a.sizeBytes)}</span>{' '}
              {!props.download ? null : a.contentStored ? (
                <button
                  class="link"
                  disabled={downloading === a.attachmentId}
                  onClick={() => void download(a.attachmentId, a.name)}
                >
                  {downloading === a.attachmentId ? 'Downloading…' : 'Download'}
                </button>
              ) : (
                <span class="muted">(too large to keep; open it in Outlook)</span>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      {message.attachmentsOverLimit ? (
        <p class="muted small">More attachments than mailroute keeps; see the message in Outlook.</p>
      ) : null}
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
    </article>
  );
}

/** The thread; attachments are downloaded the agent's or the supervisor's way (`download`), listed only without one. */
export function Thread(props: { download: AttachmentDownloader | undefined; interactionId: string; messages: ThreadMessage[] }) {
  return (
    <section class="thread" aria-label="Conversation">
      {props.messages.map((entry, index) => {
        if (entry.message?.$case === 'inbound') {
          return (
            <InboundEntry
              key={entry.message.value.message?.graphMessageId ?? index}
              download={props.download}
              interactionId={props.interactionId}
              entry={entry.message.value}
            />
          );
        }
        if (entry.message?.$case === 'outbound') {
          const out = entry.message.value;
          return (
            <article
              key={out.sendId}
              class="message outbound"
              data-testid="thread-message"
              aria-label={`Reply by ${out.sentBy?.displayName ?? ''}`}
            >
              <header>
                <strong>{out.sentBy?.displayName || 'Reply'}</strong>
                <span class="muted"> · {out.replyMode === ReplyMode.REPLY_MODE_REPLY_ALL ? 'reply all' : 'reply'}</span>
                <time>{formatTime(out.sent?.sentAt ?? out.requestedAt)}</time>
              </header>
              <MailFrame html={out.content?.bodyHtml ?? ''} text={out.content?.bodyText ?? ''} cidImages={{}} title="Reply" />
              {out.content?.attachments.length ? (
                <p class="muted small">Attached: {out.content.attachments.map((a) => a.name).join(', ')}</p>
              ) : null}
              {out.sendState !== SendState.SEND_STATE_SENT ? (
                <SendStatus
                  progress={{
                    sendId: out.sendId,
                    idempotencyKey: out.sendId,
                    interactionId: props.interactionId,
                    state: out.sendState,
                    failure: out.failure,
                  }}
                />
              ) : null}
            </article>
          );
        }
        return null;
      })}
    </section>
  );
}
