// A saved template as a customer would get it: the router renders it (PreviewTemplate) with sample
// values, escaping every value in the HTML, so a sample with markup shows as text. The HTML is shown in
// the same sandboxed, script-less frame as customer mail (desktop/mail-frame.tsx, which prepares it with
// mail-html.ts); the text part and the subject as plain text.
import type { InteractionRouterServiceClient, MessageTemplate, RenderedTemplate } from '@mailroute/contracts';
import { useEffect, useState } from 'preact/hooks';
import { toFailure, type Failure } from '../../api/errors';
import { MailFrame } from '../../desktop/mail-frame';
import { FailureLine } from '../shared';

/** Sample values a supervisor can change; the names are the router's placeholders. */
const SAMPLES: { name: string; label: string; value: string }[] = [
  { name: 'customer_name', label: 'Customer name', value: 'Dana Whitfield' },
  { name: 'customer_address', label: 'Customer address', value: 'dana@customer.example' },
  { name: 'agent_name', label: 'Agent name', value: 'Carol Ames' },
  { name: 'queue_name', label: 'Queue', value: 'Support' },
  { name: 'interaction_reference', label: 'Reference', value: 'SUP-1042' },
  { name: 'mailbox_address', label: 'Mailbox', value: 'support@contoso.example' },
  { name: 'subject', label: "Customer's subject", value: 'My order is late' },
];

const NO_IMAGES: Record<string, string> = {};

export function TemplatePreview(props: { router: InteractionRouterServiceClient; template: MessageTemplate }) {
  const { templateId, etag } = props.template;
  const [values, setValues] = useState(() => Object.fromEntries(SAMPLES.map((s) => [s.name, s.value])));
  const [rendered, setRendered] = useState<RenderedTemplate>();
  const [failure, setFailure] = useState<Failure>();
  const [asked, setAsked] = useState(0);

  // Rendered again when the template is saved (new etag) or the supervisor asks.
  useEffect(() => {
    let live = true;
    setFailure(undefined);
    props.router.previewTemplate({ templateId, values }).then(
      (response) => live && setRendered(response.rendered),
      (error) => live && setFailure(toFailure(error)),
    );
    return () => {
      live = false;
    };
  }, [templateId, etag, asked]);

  return (
    <section class="card rendered-preview" aria-label="Preview" data-testid="template-preview">
      <h3>Preview</h3>
      <form
        class="sample-values"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked((n) => n + 1);
        }}
      >
        {SAMPLES.map((sample) => (
          <label key={sample.name}>
            {sample.label}
            <input
              type="text"
              value={values[sample.name]}
              onInput={(e) => setValues({ ...values, [sample.name]: e.currentTarget.value })}
            />
          </label>
        ))}
        <div class="actions">
          <button type="submit">Render with these values</button>
        </div>
      </form>
      <FailureLine failure={failure} what="Preview" />
      {rendered ? (
        <div class="rendered" data-testid="rendered-template">
          <p>
            <span class="muted small">Subject </span>
            <strong data-testid="rendered-subject">{rendered.subject || '(none: the reply keeps its own)'}</strong>
          </p>
          {rendered.html || rendered.text ? (
            <MailFrame html={rendered.html} text={rendered.text} cidImages={NO_IMAGES} title="Rendered template" />
          ) : null}
          {rendered.html && rendered.text ? (
            <details>
              <summary class="small">Text part</summary>
              <pre class="template-text" data-testid="rendered-text">
                {rendered.text}
              </pre>
            </details>
          ) : null}
          {rendered.attachments.length ? (
            <p class="small">Attached: {rendered.attachments.map((a) => a.name).join(', ')}</p>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
