// The reply composer's "Insert template": the agent's canned responses usable on this interaction's
// queue, filtered as the agent types (name and text), chosen with the arrow keys and Enter (Esc
// closes). The highlighted one is previewed as the router renders it for this interaction (with the
// customer's name and the other values; placeholders are never filled in the browser), shown as
// text; the composer inserts the chosen one's HTML and adds the template's attachments.
import type { AgentDesktopServiceClient, Interaction, MessageTemplate, RenderedTemplate } from '@mailroute/contracts';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { toFailure } from '../api/errors';

/** Pages read when the picker opens: an agent's canned responses are a few dozen, not thousands. */
const maxPages = 10;
/** How long the highlight rests on a template before the router is asked to render its preview. */
const previewDelayMs = 150;

async function loadTemplates(client: AgentDesktopServiceClient, queueId: string): Promise<MessageTemplate[]> {
  const templates: MessageTemplate[] = [];
  let pageToken = '';
  for (let page = 0; page < maxPages; page += 1) {
    const response = await client.listMyTemplates({ query: '', page: { pageSize: 100, pageToken } });
    templates.push(...response.templates);
    pageToken = response.nextPageToken;
    if (!pageToken) break;
  }
  return templates.filter((template) => template.queueIds.length === 0 || template.queueIds.includes(queueId));
}

function matches(template: MessageTemplate, filter: string): boolean {
  const wanted = filter.trim().toLowerCase();
  return !wanted || `${template.displayName}\n${template.text}`.toLowerCase().includes(wanted);
}

/** The rendered text, or the rendered HTML's text (DOMParser's documents run no script and load nothing). */
function previewText(rendered: RenderedTemplate): string {
  if (rendered.text) return rendered.text;
  return new DOMParser().parseFromString(rendered.html, 'text/html').body.textContent ?? '';
}

type Preview = { templateId: string; rendered?: RenderedTemplate; error?: string };

export function TemplatePicker(props: {
  client: AgentDesktopServiceClient;
  interaction: Interaction;
  onInsert: (rendered: RenderedTemplate, template: MessageTemplate) => void;
}) {
  const [open, setOpen] = useState(false);
  const [templates, setTemplates] = useState<MessageTemplate[]>();
  const [filter, setFilter] = useState('');
  const [active, setActive] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const toggle = useRef<HTMLButtonElement>(null);
  const input = useRef<HTMLInputElement>(null);
  const popup = useRef<HTMLDivElement>(null);
  const [preview, setPreview] = useState<Preview>();
  /** Renderings for this interaction by template id: each template is rendered once, for its preview and its insertion. */
  const renderings = useRef(new Map<string, Promise<RenderedTemplate | undefined>>());
  const shown = (templates ?? []).filter((template) => matches(template, filter));
  const highlighted = shown[active];
  const { interactionId } = props.interaction;
  const listId = `templates-${interactionId}`;

  const render = (templateId: string) => {
    let rendering = renderings.current.get(templateId);
    if (!rendering) {
      rendering = props.client.renderTemplate({ templateId, interactionId }).then((response) => response.rendered);
      renderings.current.set(templateId, rendering);
      rendering.catch(() => renderings.current.delete(templateId));
    }
    return rendering;
  };

  useEffect(() => {
    renderings.current = new Map();
  }, [interactionId]);
  // Previews the highlighted template once the highlight rests on it.
  useEffect(() => {
    if (!open || !highlighted) return;
    const { templateId } = highlighted;
    let current = true;
    setPreview({ templateId });
    const timer = setTimeout(() => {
      render(templateId).then(
        (rendered) => current && setPreview({ templateId, rendered }),
        (failure) => current && setPreview({ templateId, error: toFailure(failure).message }),
      );
    }, previewDelayMs);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [open, highlighted?.templateId]);

  // Focus before the popup is painted: a key pressed as soon as the filter shows reaches it.
  useLayoutEffect(() => {
    if (open) input.current?.focus();
  }, [open]);
  useEffect(() => {
    if (!open) return;
    setError(undefined);
    loadTemplates(props.client, props.interaction.queueId).then(setTemplates, (failure) => setError(toFailure(failure).message));
  }, [open]);
  // The desktop scrolls inside the window: bring the whole list (and the preview under it) into view once it is there.
  useEffect(() => popup.current?.scrollIntoView({ block: 'nearest' }), [open, templates, preview?.rendered]);

  const close = () => {
    setOpen(false);
    setFilter('');
    setActive(0);
    toggle.current?.focus();
  };

  const choose = async (template: MessageTemplate | undefined) => {
    if (!template || busy) return;
    setBusy(true);
    setError(undefined);
    try {
      const rendered = await render(template.templateId);
      if (rendered) props.onInsert(rendered, template);
      setOpen(false);
      setFilter('');
      setActive(0);
    } catch (failure) {
      setError(toFailure(failure).message);
    } finally {
      setBusy(false);
    }
  };

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      setActive((index) => (shown.length ? (index + step + shown.length) % shown.length : 0));
    } else if (event.key === 'Enter') {
      event.preventDefault();
      void choose(shown[active]);
    }
  };
  /** Esc closes from anywhere in the picker (the filter, the list, the toggle). */
  const onPickerKeyDown = (event: KeyboardEvent) => {
    if (event.key !== 'Escape' || !open) return;
    event.preventDefault();
    close();
  };

  return (
    <div class="template-picker" onKeyDown={onPickerKeyDown}>
      <button
        type="button"
        ref={toggle}
        aria-expanded={open}
        aria-controls={open ? listId : undefined}
        onClick={() => (open ? close() : setOpen(true))}
      >
        Insert template
      </button>
      {open ? (
        <div class="template-popup" data-testid="template-picker" ref={popup}>
          <input
            ref={input}
            type="search"
            role="combobox"
            aria-label="Filter templates"
            aria-expanded="true"
            aria-controls={listId}
            aria-activedescendant={shown[active] ? `${listId}-${active}` : undefined}
            placeholder="Type to filter by name or text"
            value={filter}
            onInput={(e) => {
              setFilter(e.currentTarget.value);
              setActive(0);
            }}
            onKeyDown={onKeyDown}
          />
          <ul id={listId} role="listbox" aria-label="Templates" aria-busy={busy || !templates}>
            {shown.map((template, index) => (
              <li
                key={template.templateId}
                id={`${listId}-${index}`}
                role="option"
                aria-selected={index === active}
                data-testid="template-option"
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => void choose(template)}
              >
                <strong>{template.displayName}</strong>
              </li>
            ))}
          </ul>
          {highlighted ? (
            <TemplatePreview
              name={highlighted.displayName}
              preview={preview?.templateId === highlighted.templateId ? preview : undefined}
            />
          ) : null}
          {templates && !shown.length ? <p class="muted">No template matches.</p> : null}
          {!templates && !error ? <p class="muted">Loading…</p> : null}
          {error ? (
            <p class="error" role="alert">
              {error}
            </p>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

/** The highlighted template as rendered for the interaction, as text (markup the values carry stays text). */
function TemplatePreview(props: { name: string; preview: Preview | undefined }) {
  const { rendered, error } = props.preview ?? {};
  return (
    <section class="template-preview" data-testid="template-preview" aria-label={`Preview of ${props.name}`} aria-live="polite">
      {rendered ? (
        <>
          {rendered.subject ? <p class="template-preview-subject">{rendered.subject}</p> : null}
          <p class="template-preview-text">{previewText(rendered)}</p>
        </>
      ) : error ? (
        <p class="error">{error}</p>
      ) : (
        <p class="muted">Rendering the preview…</p>
      )}
    </section>
  );
}
