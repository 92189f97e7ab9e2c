import { TemplateKind, type MessageTemplate } from '@mailroute/contracts';
import Mustache from 'mustache';
import type { FieldViolation } from './errors';
import { isResourceId } from './validation';

/**
 * The placeholders a template or signature may use, as `{{customer_name}}`. Every value is text:
 * in HTML it is escaped, so a customer name with markup renders as that text.
 */
export const templatePlaceholders = [
  'customer_name',
  'customer_address',
  'agent_name',
  'queue_name',
  'interaction_reference',
  'mailbox_address',
  'subject',
] as const;

export type TemplatePlaceholder = (typeof templatePlaceholders)[number];
export type TemplateValues = Partial<Record<TemplatePlaceholder, string>>;

/** A template's parts; each is optional (a signature has no subject). */
export interface MessageTemplateContent {
  subject?: string | undefined;
  html?: string | undefined;
  text?: string | undefined;
}

export interface RenderedMessage {
  subject: string;
  html: string;
  text: string;
}

const templateLimits = { subject: 255, html: 100_000, text: 50_000, value: 1000 } as const;

const known = new Set<string>(templatePlaceholders);

/**
 * One writer with its template cache off: Mustache's default writer caches every template it ever
 * parsed in a module-wide map, which would grow with every tenant's templates.
 */
const writer = new Mustache.Writer();
(writer as unknown as { templateCache: unknown }).templateCache = undefined;

type Token = [type: string, value: string, start: number, end: number, children?: Token[]];

function checkTokens(tokens: readonly Token[], add: (message: string) => void): void {
  for (const token of tokens) {
    const [type, name] = token;
    if (type === 'text' || type === '!') continue;
    if (type === '&' || type === '{') add(`uses unescaped output ({{{${name}}}} or {{&${name}}}): use {{${name}}}`);
    else if (type === '>') add(`uses a partial ({{>${name}}}): templates cannot include others`);
    else if (type === '=') add('changes the delimiters: use {{ and }}');
    else if (!known.has(name))
      add(`uses an unknown placeholder {{${name.slice(0, 40)}}}: use one of ${templatePlaceholders.join(', ')}`);
    if ((type === '#' || type === '^') && token[4]) checkTokens(token[4], add);
  }
}

/**
 * Checks a template's parts: the lengths, Mustache syntax, and the logic-less subset: escaped
 * placeholders of the known list (`{{customer_name}}`), sections on them
 * (`{{#agent_name}}…{{/agent_name}}`, `{{^…}}`) and comments. Unescaped output (`{{{…}}}`,
 * `{{&…}}`), partials and delimiter changes are refused. Fields are proto names under `fieldPrefix`.
 */
export function validateMessageTemplate(
  content: MessageTemplateContent,
  options: { fieldPrefix?: string } = {},
): FieldViolation[] {
  const violations: FieldViolation[] = [];
  const prefix = options.fieldPrefix ? `${options.fieldPrefix}.` : '';
  for (const part of ['subject', 'html', 'text'] as const) {
    const value = content[part];
    if (value === undefined || value === '') continue;
    const field = `${prefix}${part}`;
    if (value.length > templateLimits[part]) {
      violations.push({ field, message: `must have at most ${templateLimits[part]} characters` });
      continue;
    }
    if (part === 'subject' && /[\r\n]/.test(value)) violations.push({ field, message: 'must be one line' });
    let tokens: Token[];
    try {
      tokens = writer.parse(value) as Token[];
    } catch (error) {
      violations.push({ field, message: `is not a valid template: ${String((error as Error).message).slice(0, 120)}` });
      continue;
    }
    checkTokens(tokens, (message) => violations.push({ field, message }));
  }
  if (!content.html && !content.text) violations.push({ field: `${prefix}text`, message: 'is required when html is empty' });
  return violations;
}

/** Control characters (but tab and line breaks) out, at most `templateLimits.value` characters. */
const cleanValue = (value: string): string =>
  // eslint-disable-next-line no-control-regex
  value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').slice(0, templateLimits.value);

/**
 * Renders a validated template with Mustache. HTML escapes every value (`<`, `>`, `&`, quotes,
 * `/`, `` ` ``, `=`), so customer-supplied text can never add markup; the text part takes values as
 * they are; the subject is one line (line breaks in values become spaces) of at most 255
 * characters. Missing values render empty. A part missing from the template renders empty.
 */
export function renderMessageTemplate(content: MessageTemplateContent, values: TemplateValues): RenderedMessage {
  const view: Record<string, string> = {};
  for (const name of templatePlaceholders) {
    const value = values[name];
    if (value) view[name] = cleanValue(value);
  }
  const asIs = { escape: (text: string) => text };
  const subject = content.subject
    ? writer
        .render(content.subject, view, undefined, asIs)
        .replace(/[\r\n\t]+/g, ' ')
        .slice(0, templateLimits.subject)
    : '';
  return {
    subject,
    html: content.html ? writer.render(content.html, view, undefined, { escape: Mustache.escape }) : '',
    text: content.text ? writer.render(content.text, view, undefined, asIs) : '',
  };
}

/**
 * Checks a proto MessageTemplate as given to CreateTemplate/UpdateTemplate: the name, the kind,
 * at most 50 queue ids, and its parts (`validateMessageTemplate`). Fields under `fieldPrefix`.
 */
export function validateTemplateResource(template: MessageTemplate, options: { fieldPrefix?: string } = {}): FieldViolation[] {
  const prefix = options.fieldPrefix ? `${options.fieldPrefix}.` : '';
  const violations: FieldViolation[] = [];
  if (!template.displayName || template.displayName.length > 200)
    violations.push({ field: `${prefix}display_name`, message: 'is required, 1-200 characters' });
  if (!(template.kind in TemplateKind) || template.kind === TemplateKind.UNRECOGNIZED)
    violations.push({ field: `${prefix}kind`, message: 'is not a known template kind' });
  if (template.queueIds.length > 50) violations.push({ field: `${prefix}queue_ids`, message: 'must have at most 50 entries' });
  else
    template.queueIds.forEach((queueId, index) => {
      if (!isResourceId(queueId)) violations.push({ field: `${prefix}queue_ids[${index}]`, message: 'is not a queue id' });
    });
  return [...violations, ...validateMessageTemplate(template, options)];
}

/** The proto kind with its default: UNSPECIFIED is a canned response. */
export const templateKindOf = (template: Pick<MessageTemplate, 'kind'>): TemplateKind =>
  template.kind === TemplateKind.TEMPLATE_KIND_UNSPECIFIED ? TemplateKind.TEMPLATE_KIND_CANNED_RESPONSE : template.kind;

/** True when a template's name, subject or text contains `query` (case-insensitive; an empty query matches all). */
export function templateMatches(template: Pick<MessageTemplate, 'displayName' | 'subject' | 'text'>, query: string): boolean {
  const needle = query.trim().toLowerCase();
  if (!needle) return true;
  return [template.displayName, template.subject, template.text].some((part) => part.toLowerCase().includes(needle));
}
