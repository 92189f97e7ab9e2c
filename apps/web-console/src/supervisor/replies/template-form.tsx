// One template, created or edited: name, kind, queue limits, subject, HTML and text bodies, attached
// files (uploaded through the gateway's template-attachment endpoint, referenced by upload id), and
// delete. The API's refusal (INVALID_ARGUMENT naming the field) is shown under the form and marks the
// field; a saved template is rendered by the router below it (template-preview.tsx).
import {
  MessageTemplate,
  TemplateKind,
  type InteractionRouterServiceClient,
  type TemplateAttachment,
} from '@mailroute/contracts';
import { ClientError, Status } from 'nice-grpc-web';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ConsoleClients } from '../../api/clients';
import { toFailure, type Failure } from '../../api/errors';
import { formatBytes } from '../../ui/format';
import { FailureLine } from '../shared';
import { kindLabel, type ReplyTargets } from './reply-targets';
import { TemplatePreview } from './template-preview';
import { UploadedFilePicker } from './uploaded-file-picker';

/** The placeholders a template may use (MessageTemplate in templates.proto). */
const PLACEHOLDERS = [
  'customer_name',
  'customer_address',
  'agent_name',
  'queue_name',
  'interaction_reference',
  'mailbox_address',
  'subject',
] as const;

const KINDS = [
  TemplateKind.TEMPLATE_KIND_CANNED_RESPONSE,
  TemplateKind.TEMPLATE_KIND_ACKNOWLEDGEMENT,
  TemplateKind.TEMPLATE_KIND_OUT_OF_HOURS,
  TemplateKind.TEMPLATE_KIND_SIGNATURE,
];

interface Draft {
  displayName: string;
  kind: TemplateKind;
  subject: string;
  html: string;
  text: string;
  queueIds: string[];
  attachments: TemplateAttachment[];
}

function toDraft(template: MessageTemplate | undefined): Draft {
  return {
    displayName: template?.displayName ?? '',
    kind: template?.kind || TemplateKind.TEMPLATE_KIND_CANNED_RESPONSE,
    subject: template?.subject ?? '',
    html: template?.html ?? '',
    text: template?.text ?? '',
    queueIds: template?.queueIds ?? [],
    attachments: template?.attachments ?? [],
  };
}

/** The template field an INVALID_ARGUMENT names ("template.html: …" → "html"). */
function invalidField(failure: Failure | undefined): string | undefined {
  if (failure?.kind !== 'invalid') return undefined;
  return /^(?:template\.)?(display_name|kind|queue_ids|subject|html|text|attachments)\b/.exec(failure.message)?.[1];
}

/** Deletes a template file no template lists any more; one another template still lists (FAILED_PRECONDITION) or already gone stays as it is. */
async function deleteUnlistedFile(router: InteractionRouterServiceClient, uploadId: string): Promise<void> {
  try {
    await router.deleteTemplateAttachment({ uploadId });
  } catch (error) {
    if (!(error instanceof ClientError && (error.code === Status.FAILED_PRECONDITION || error.code === Status.NOT_FOUND)))
      throw error;
  }
}

export function TemplateForm(props: {
  clients: ConsoleClients;
  targets: ReplyTargets;
  /** The template to edit; none = a new one. */
  template?: MessageTemplate;
  /** After a save (the stored template) or a delete (undefined). */
  onDone: (saved: MessageTemplate | undefined) => void;
  onClose: () => void;
}) {
  const { router } = props.clients;
  const original = props.template;
  const [draft, setDraft] = useState(() => toDraft(original));
  const [failure, setFailure] = useState<Failure>();
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [uploading, setUploading] = useState('');
  // Files taken off the template: deleted once the template no longer lists them (after the save).
  const [removed, setRemoved] = useState<string[]>([]);
  const [confirmDelete, setConfirmDelete] = useState(false);
  // What the failure shown stopped: "Not saved", "Not deleted", "Not uploaded".
  const [failed, setFailed] = useState('');
  const field = invalidField(failure);
  const editor = useRef<HTMLDivElement>(null);
  // The form opens below the list: bring it into view.
  useEffect(() => editor.current?.scrollIntoView({ block: 'nearest' }), []);
  const set = (change: Partial<Draft>) => {
    setDraft((current) => ({ ...current, ...change }));
    setSaved(false);
  };

  const run = async (action: () => Promise<void>, what: string) => {
    setBusy(true);
    setFailure(undefined);
    setFailed(what);
    try {
      await action();
    } catch (error) {
      setFailure(toFailure(error));
    } finally {
      setBusy(false);
    }
  };

  const save = () =>
    run(async () => {
      const template = MessageTemplate.fromPartial({
        ...draft,
        attachments: draft.attachments.map((a) => ({ uploadId: a.uploadId })),
      });
      const stored = original
        ? (await router.updateTemplate({ templateId: original.templateId, template, updateMask: ['*'], etag: original.etag }))
            .template
        : (await router.createTemplate({ templateId: '', template })).template;
      props.onDone(stored);
      // The template is saved; what can still fail is deleting the files taken off it (tried again on the next save).
      setFailed('Saved, but a removed file was not deleted');
      for (const uploadId of removed) await deleteUnlistedFile(router, uploadId);
      setRemoved([]);
      setSaved(true);
    }, 'Not saved');

  const remove = () =>
    run(async () => {
      if (!original) return;
      await router.deleteTemplate({ templateId: original.templateId, etag: original.etag });
      for (const { uploadId } of original.attachments) await deleteUnlistedFile(router, uploadId);
      props.onDone(undefined);
    }, 'Not deleted');

  const upload = (files: FileList | null) =>
    run(async () => {
      for (const file of Array.from(files ?? [])) {
        setUploading(file.name);
        const stored = await props.clients.uploadTemplateAttachment(file).finally(() => setUploading(''));
        setDraft((current) => ({ ...current, attachments: [...current.attachments, stored] }));
        setSaved(false);
      }
    }, 'Not uploaded');

  const title = original ? `Edit “${original.displayName}”` : 'New template';
  return (
    <div class="template-editor" ref={editor}>
      <form
        class="card template-form"
        aria-label={title}
        data-testid="template-form"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <h3>{title}</h3>
        <div class="form-row">
          <label>
            Name
            <input
              type="text"
              value={draft.displayName}
              required
              maxLength={200}
              aria-invalid={field === 'display_name' ? 'true' : undefined}
              onInput={(e) => set({ displayName: e.currentTarget.value })}
            />
          </label>
          <label>
            Kind
            <select value={draft.kind} onChange={(e) => set({ kind: Number(e.currentTarget.value) as TemplateKind })}>
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {kindLabel(k)}
                </option>
              ))}
            </select>
          </label>
        </div>
        <label>
          Subject
          <input
            type="text"
            value={draft.subject}
            maxLength={255}
            aria-invalid={field === 'subject' ? 'true' : undefined}
            onInput={(e) => set({ subject: e.currentTarget.value })}
          />
        </label>
        <label>
          HTML body
          <textarea
            rows={6}
            value={draft.html}
            aria-invalid={field === 'html' ? 'true' : undefined}
            onInput={(e) => set({ html: e.currentTarget.value })}
          />
        </label>
        <label>
          Text body <span class="muted small">(for mail clients that show no HTML; required without HTML)</span>
          <textarea
            rows={4}
            value={draft.text}
            aria-invalid={field === 'text' ? 'true' : undefined}
            onInput={(e) => set({ text: e.currentTarget.value })}
          />
        </label>
        <p class="muted small placeholders">
          Placeholders:{' '}
          {PLACEHOLDERS.map((name) => (
            <code key={name}>{`{{${name}}}`}</code>
          ))}{' '}
          — values are always inserted as text, never as markup.
        </p>
        <fieldset class="queue-limits" aria-invalid={field === 'queue_ids' ? 'true' : undefined}>
          <legend>Queues whose agents may use it (none ticked: every queue)</legend>
          {props.targets.queues.map((q) => (
            <label class="check" key={q.queueId}>
              <input
                type="checkbox"
                checked={draft.queueIds.includes(q.queueId)}
                onChange={(e) =>
                  set({
                    queueIds: e.currentTarget.checked
                      ? [...draft.queueIds, q.queueId]
                      : draft.queueIds.filter((id) => id !== q.queueId),
                  })
                }
              />
              {q.displayName}
            </label>
          ))}
        </fieldset>
        <fieldset class="template-files">
          <legend>Attached files (sent with every reply made from it; not for signatures)</legend>
          <ul>
            {draft.attachments.map((a) => (
              <li key={a.uploadId} data-testid="template-attachment">
                {a.name || a.uploadId} <span class="muted small">{a.sizeBytes ? formatBytes(a.sizeBytes) : ''}</span>{' '}
                <button
                  type="button"
                  class="link"
                  onClick={() => {
                    set({ attachments: draft.attachments.filter((other) => other.uploadId !== a.uploadId) });
                    setRemoved([...removed, a.uploadId]);
                  }}
                >
                  Remove<span class="visually-hidden"> {a.name}</span>
                </button>
              </li>
            ))}
          </ul>
          <label class="button">
            {uploading ? `Uploading ${uploading}…` : 'Add a file…'}
            <input
              type="file"
              class="visually-hidden"
              aria-label="Add a file to the template"
              disabled={busy}
              onChange={(e) => {
                void upload(e.currentTarget.files);
                e.currentTarget.value = '';
              }}
            />
          </label>
          <span class="muted small"> PDF, images, text, CSV, Word, Excel or PowerPoint; at most 10 MB each.</span>
          <UploadedFilePicker
            router={router}
            attached={draft.attachments.map((a) => a.uploadId)}
            disabled={busy}
            onPick={(file) => set({ attachments: [...draft.attachments, file] })}
          />
        </fieldset>
        <div class="actions">
          <button class="primary" type="submit" disabled={busy}>
            {original ? 'Save changes' : 'Create template'}
          </button>
          <button type="button" onClick={props.onClose} disabled={busy}>
            Close
          </button>
          {original && !confirmDelete ? (
            <button type="button" class="danger" onClick={() => setConfirmDelete(true)} disabled={busy}>
              Delete…
            </button>
          ) : null}
          {confirmDelete ? (
            <span class="confirm" role="group" aria-label="Confirm delete">
              Delete “{original?.displayName}” for everyone?{' '}
              <button type="button" class="danger" onClick={() => void remove()} disabled={busy}>
                Delete template
              </button>{' '}
              <button type="button" onClick={() => setConfirmDelete(false)}>
                Keep it
              </button>
            </span>
          ) : null}
          {saved && !failure ? (
            <span class="saved" role="status">
              Saved
            </span>
          ) : null}
        </div>
        <FailureLine failure={failure} what={failed} />
      </form>
      {original ? (
        <TemplatePreview router={router} template={original} />
      ) : (
        <p class="muted small">Create the template to see it rendered.</p>
      )}
    </div>
  );
}
