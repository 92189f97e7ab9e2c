// What the Replies sections read together: the tenant's templates, and the queues, agents and mailboxes
// (with the router's settings of each mailbox) that signatures and acknowledgements belong to.
import {
  TemplateKind,
  type Agent,
  type Mailbox,
  type MailboxSettings,
  type MessageTemplate,
  type Queue,
} from '@mailroute/contracts';
import { enumLabel } from '../../ui/format';

export interface ReplyTargets {
  templates: MessageTemplate[];
  queues: Queue[];
  agents: Agent[];
  /** Mailboxes as mailbox-fetch has them (id and address). */
  mailboxes: Mailbox[];
  /** The router's settings of the mailboxes that have any. */
  settings: MailboxSettings[];
}

/** "Canned response", "Acknowledgement", "Out of hours", "Signature". */
export function kindLabel(kind: TemplateKind): string {
  return enumLabel(
    TemplateKind[kind === TemplateKind.TEMPLATE_KIND_UNSPECIFIED ? TemplateKind.TEMPLATE_KIND_CANNED_RESPONSE : kind] ?? '',
    'TEMPLATE_KIND_',
  );
}

/** The templates of one kind (UNSPECIFIED counts as CANNED_RESPONSE, as the API says). */
export function templatesOfKind(targets: ReplyTargets, kind: TemplateKind): MessageTemplate[] {
  const normal = (k: TemplateKind) =>
    k === TemplateKind.TEMPLATE_KIND_UNSPECIFIED ? TemplateKind.TEMPLATE_KIND_CANNED_RESPONSE : k;
  return targets.templates.filter((template) => normal(template.kind) === normal(kind));
}

/** A mailbox id as people know it: its address (the id when mailbox-fetch does not list it). */
export function mailboxLabel(targets: ReplyTargets, mailboxId: string): string {
  return targets.mailboxes.find((m) => m.mailboxId === mailboxId)?.address || mailboxId;
}

/** Every mailbox id the tenant has: listed by mailbox-fetch or with router settings, in address order. */
export function mailboxIds(targets: ReplyTargets): string[] {
  const ids = new Set([...targets.mailboxes.map((m) => m.mailboxId), ...targets.settings.map((s) => s.mailboxId)]);
  return [...ids].sort((a, b) => mailboxLabel(targets, a).localeCompare(mailboxLabel(targets, b)));
}

/** A select of the templates of one kind, with "None" first. */
export function TemplateSelect(props: {
  targets: ReplyTargets;
  kind: TemplateKind;
  value: string;
  label: string;
  none?: string;
  onChange: (templateId: string) => void;
  disabled?: boolean;
}) {
  const options = templatesOfKind(props.targets, props.kind);
  const missing = props.value && !options.some((t) => t.templateId === props.value);
  return (
    <select
      aria-label={props.label}
      value={props.value}
      disabled={props.disabled}
      onChange={(e) => props.onChange(e.currentTarget.value)}
    >
      <option value="">{props.none ?? 'None'}</option>
      {options.map((t) => (
        <option key={t.templateId} value={t.templateId}>
          {t.displayName}
        </option>
      ))}
      {missing ? <option value={props.value}>{props.value} (not found)</option> : null}
    </select>
  );
}
