// Templates: the list, searched by name and text through the router (ListTemplates' query), and the
// form of the one being created or edited (template-form.tsx) with its rendered preview.
import { TemplateKind, type MessageTemplate } from '@mailroute/contracts';
import { useState } from 'preact/hooks';
import type { ConsoleClients } from '../../api/clients';
import type { Failure } from '../../api/errors';
import { formatTime } from '../../ui/format';
import { usePoll } from '../../ui/use-poll';
import { Empty, FailureLine, listAll } from '../shared';
import { kindLabel, type ReplyTargets } from './reply-targets';
import { TemplateForm } from './template-form';

/**
 * Which template the form shows: a new one, or an existing one by id. A template created here keeps its
 * form (formKey 'new'), so the form goes on saying "Saved" and shows the preview.
 */
type Editing = { mode: 'new' } | { mode: 'edit'; templateId: string; saved?: MessageTemplate; formKey?: string } | undefined;

export function TemplatesSection(props: {
  clients: ConsoleClients;
  targets: ReplyTargets;
  failure: Failure | undefined;
  onChanged: () => void;
}) {
  const { router } = props.clients;
  const [query, setQuery] = useState('');
  const [kind, setKind] = useState(TemplateKind.TEMPLATE_KIND_UNSPECIFIED);
  const [editing, setEditing] = useState<Editing>();
  const found = usePoll(
    () =>
      listAll(
        (page) => router.listTemplates({ page, query: query.trim(), kind }),
        (r) => r.templates,
      ),
    30_000,
    [query, kind, props.targets.templates.map((t) => t.etag).join()],
  );
  const queueName = (id: string) => props.targets.queues.find((q) => q.queueId === id)?.displayName ?? id;
  const edited =
    editing?.mode === 'edit'
      ? (editing.saved ?? props.targets.templates.find((t) => t.templateId === editing.templateId))
      : undefined;
  const changed = (saved: MessageTemplate | undefined) => {
    setEditing((current) =>
      saved
        ? { mode: 'edit', templateId: saved.templateId, saved, formKey: current?.mode === 'new' ? 'new' : current?.formKey }
        : undefined,
    );
    props.onChanged();
  };

  return (
    <section id="replies-templates" aria-labelledby="replies-templates-title">
      <h2 id="replies-templates-title">Templates</h2>
      <div class="filters">
        <label>
          Search name and text
          <input
            type="search"
            value={query}
            placeholder="e.g. refund"
            onInput={(e) => setQuery(e.currentTarget.value)}
            data-testid="template-search"
          />
        </label>
        <label>
          Kind
          <select value={kind} onChange={(e) => setKind(Number(e.currentTarget.value) as TemplateKind)}>
            <option value={TemplateKind.TEMPLATE_KIND_UNSPECIFIED}>All kinds</option>
            {[
              TemplateKind.TEMPLATE_KIND_CANNED_RESPONSE,
              TemplateKind.TEMPLATE_KIND_ACKNOWLEDGEMENT,
              TemplateKind.TEMPLATE_KIND_OUT_OF_HOURS,
              TemplateKind.TEMPLATE_KIND_SIGNATURE,
            ].map((k) => (
              <option key={k} value={k}>
                {kindLabel(k)}
              </option>
            ))}
          </select>
        </label>
        <button class="primary" type="button" onClick={() => setEditing({ mode: 'new' })}>
          New template
        </button>
      </div>
      <FailureLine failure={found.failure ?? props.failure} what="templates" />
      <div class="table-wrap">
        <table class="grid">
          <thead>
            <tr>
              <th>Template</th>
              <th>Subject</th>
              <th>Queues</th>
              <th class="num">Files</th>
              <th>Changed</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(found.data ?? []).map((t) => (
              <tr
                key={t.templateId}
                data-testid="template-row"
                aria-current={editing?.mode === 'edit' && editing.templateId === t.templateId ? 'true' : undefined}
              >
                <td>
                  {t.displayName}
                  <span class="badge">{kindLabel(t.kind)}</span>
                  <div class="muted small">{t.templateId}</div>
                </td>
                <td class="small">{t.subject || '—'}</td>
                <td class="small">{t.queueIds.length ? t.queueIds.map(queueName).join(', ') : 'All queues'}</td>
                <td class="num">{t.attachments.length || '—'}</td>
                <td class="small">{formatTime(t.updatedAt)}</td>
                <td>
                  <button type="button" onClick={() => setEditing({ mode: 'edit', templateId: t.templateId })}>
                    Edit<span class="visually-hidden"> {t.displayName}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <Empty
        list={found.data}
        text={query.trim() ? `No template's name or text contains “${query.trim()}”.` : 'No templates yet: create one.'}
      />
      {editing?.mode === 'new' ? (
        <TemplateForm
          key="new"
          clients={props.clients}
          targets={props.targets}
          onDone={changed}
          onClose={() => setEditing(undefined)}
        />
      ) : edited ? (
        <TemplateForm
          key={(editing?.mode === 'edit' && editing.formKey) || edited.templateId}
          clients={props.clients}
          targets={props.targets}
          template={edited}
          onDone={changed}
          onClose={() => setEditing(undefined)}
        />
      ) : null}
    </section>
  );
}
