import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CreateTemplateResponse,
  GetTemplateResponse,
  ListTemplateAttachmentsResponse,
  ListTemplatesResponse,
  PreviewTemplateResponse,
  TemplateKind,
  UploadTemplateAttachmentResponse,
  type MessageTemplate,
  type TemplateAttachmentFile,
} from '@mailroute/contracts';
import { list, requireStr, str, type Command, type CommandContext } from '../command';
import { CliError, UsageError } from '../errors';
import { keyValues, table } from '../format';
import { enumChoices, enumLabel, parseEnum } from '../values';

const kindLabel = (kind: TemplateKind) =>
  enumLabel(TemplateKind, 'TEMPLATE_KIND', kind || TemplateKind.TEMPLATE_KIND_CANNED_RESPONSE);

/** A part given inline (--text) or from a file (--text-file); relative paths from where the user ran `npm run` (INIT_CWD). */
async function part(context: CommandContext, name: 'html' | 'text'): Promise<string | undefined> {
  const inline = str(context.values, name);
  const file = str(context.values, `${name}-file`);
  if (inline !== undefined && file !== undefined) throw new UsageError(`--${name} and --${name}-file exclude each other`);
  if (file === undefined) return inline;
  const full = path.resolve(context.io.env['INIT_CWD'] ?? process.cwd(), file);
  try {
    return await readFile(full, 'utf8');
  } catch (error) {
    throw new CliError(`--${name}-file: cannot read ${full} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function describeTemplate(template: MessageTemplate | undefined): string {
  if (!template) return '';
  return keyValues([
    ['template', template.templateId],
    ['name', template.displayName],
    ['kind', kindLabel(template.kind)],
    ['queues', template.queueIds.join(', ') || 'all'],
    ['subject', template.subject],
    ['html', template.html ? `${template.html.length} characters` : 'none'],
    ['text', template.text],
    ['attachments', template.attachments.map((a) => `${a.name} (${a.uploadId}, ${a.sizeBytes} bytes)`).join(', ') || 'none'],
    ['etag', template.etag],
  ]);
}

/** `--value name=value` pairs of `template preview`. */
export function parseTemplateValues(values: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    values.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new UsageError(`--value: "${pair.slice(0, 40)}" is not name=value (e.g. customer_name=Ann)`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

const kindOption = {
  type: 'string',
  value: `<${enumChoices(TemplateKind, 'TEMPLATE_KIND').join('|')}>`,
  description: 'what it is for (default canned-response)',
} as const;

export const templateCommands: Command[] = [
  {
    path: ['template', 'create'],
    summary: 'create a message template: a canned response, an acknowledgement or a signature',
    args: ['<template-id>'],
    options: {
      name: { type: 'string', value: '<text>', description: 'name agents search by (required)' },
      kind: kindOption,
      queue: {
        type: 'string',
        multiple: true,
        value: '<queue-id>',
        description: 'only for these queues (repeatable; default all)',
      },
      subject: { type: 'string', value: '<text>', description: 'subject, one line' },
      html: { type: 'string', value: '<html>', description: 'HTML part' },
      'html-file': { type: 'string', value: '<file>', description: 'HTML part from a file' },
      text: { type: 'string', value: '<text>', description: 'text part (required without HTML)' },
      'text-file': { type: 'string', value: '<file>', description: 'text part from a file' },
      attach: {
        type: 'string',
        multiple: true,
        value: '<upload-id>',
        description: 'a file from `template attachment upload`, sent with every reply from it (repeatable)',
      },
    },
    details:
      'Mustache without logic: {{customer_name}}, {{customer_address}}, {{agent_name}}, {{queue_name}}, {{interaction_reference}}, {{mailbox_address}}, {{subject}}; values are escaped in HTML.',
    async run(context) {
      const { values } = context;
      const kind = str(values, 'kind');
      const response = await context.clients.router().createTemplate({
        templateId: context.positionals[0] ?? '',
        template: {
          templateId: '',
          displayName: requireStr(values, 'name'),
          kind: kind
            ? parseEnum<TemplateKind>(TemplateKind, 'TEMPLATE_KIND', kind, '--kind')
            : TemplateKind.TEMPLATE_KIND_UNSPECIFIED,
          queueIds: list(values, 'queue'),
          subject: str(values, 'subject') ?? '',
          html: (await part(context, 'html')) ?? '',
          text: (await part(context, 'text')) ?? '',
          attachments: list(values, 'attach').map((uploadId) => ({ uploadId, name: '', contentType: '', sizeBytes: 0 })),
          etag: '',
        },
      });
      context.print(CreateTemplateResponse.toJSON(response), () => describeTemplate(response.template));
    },
  },
  {
    path: ['template', 'list'],
    summary: 'list templates, searched by name and text',
    args: ['[query]'],
    options: { kind: kindOption },
    async run(context) {
      const kind = str(context.values, 'kind');
      const response = await context.clients.router().listTemplates({
        page: { pageSize: 500, pageToken: '' },
        query: context.positionals[0] ?? '',
        kind: kind
          ? parseEnum<TemplateKind>(TemplateKind, 'TEMPLATE_KIND', kind, '--kind')
          : TemplateKind.TEMPLATE_KIND_UNSPECIFIED,
      });
      context.print(ListTemplatesResponse.toJSON(response), () =>
        table(
          ['ID', 'NAME', 'KIND', 'QUEUES', 'SUBJECT'],
          response.templates.map((t) => [
            t.templateId,
            t.displayName,
            kindLabel(t.kind),
            t.queueIds.join(',') || 'all',
            t.subject,
          ]),
        ),
      );
    },
  },
  {
    path: ['template', 'show'],
    summary: 'show a template',
    args: ['<template-id>'],
    async run(context) {
      const response = await context.clients.router().getTemplate({ templateId: context.positionals[0] ?? '' });
      context.print(GetTemplateResponse.toJSON(response), () => describeTemplate(response.template));
    },
  },
  {
    path: ['template', 'delete'],
    summary: 'delete a template',
    args: ['<template-id>'],
    async run(context) {
      const templateId = context.positionals[0] ?? '';
      await context.clients.router().deleteTemplate({ templateId, etag: '' });
      context.print({ deleted: templateId }, () => `template ${templateId} deleted`);
    },
  },
  {
    path: ['template', 'attachment', 'upload'],
    summary: 'store a file templates can attach (at most 10 MiB; PDF, images, text, CSV, docx/xlsx/pptx)',
    args: ['<file>'],
    options: {
      name: { type: 'string', value: '<file-name>', description: "name shown to customers (default the file's)" },
      'content-type': { type: 'string', value: '<type>', description: "MIME type (default from the name's extension)" },
    },
    details:
      'Prints the upload id to list with `template create --attach`. The file is stored once, kept while a template lists it, and deleted 48 hours after none does.',
    async run(context) {
      const file = path.resolve(context.io.env['INIT_CWD'] ?? process.cwd(), context.positionals[0] ?? '');
      const content = await readFile(file).catch((error: unknown) => {
        throw new CliError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      });
      const name = str(context.values, 'name') ?? path.basename(file);
      const contentType = str(context.values, 'content-type') ?? '';
      const response = await context.clients.router().uploadTemplateAttachment(
        (async function* () {
          yield { part: { $case: 'metadata' as const, value: { name, contentType, sizeBytes: content.length, sha256: '' } } };
          for (let at = 0; at < content.length; at += 1_048_576)
            yield { part: { $case: 'chunk' as const, value: content.subarray(at, at + 1_048_576) } };
        })(),
      );
      const upload = response.upload;
      context.print(UploadTemplateAttachmentResponse.toJSON(response), () =>
        keyValues([
          ['upload', upload?.uploadId],
          ['name', upload?.name],
          ['type', upload?.contentType],
          ['size', upload?.sizeBytes],
        ]),
      );
    },
  },
  {
    path: ['template', 'attachment', 'list'],
    summary: 'list the files templates can attach, with the templates that list each',
    details:
      'A file no template lists shows when it will be deleted (48 hours after its upload or after the last template stopped listing it).',
    async run(context) {
      const files: TemplateAttachmentFile[] = [];
      let pageToken = '';
      do {
        const page = await context.clients.router().listTemplateAttachments({ page: { pageSize: 500, pageToken } });
        files.push(...page.attachments);
        pageToken = page.nextPageToken;
      } while (pageToken);
      context.print(ListTemplateAttachmentsResponse.toJSON({ attachments: files, nextPageToken: '' }), () =>
        table(
          ['UPLOAD', 'NAME', 'TYPE', 'SIZE', 'TEMPLATES'],
          files.map((file) => [
            file.uploadId,
            file.name,
            file.contentType,
            String(file.sizeBytes),
            file.templateIds.join(',') || `none: deleted ${file.expiresAt?.toISOString() ?? 'soon'}`,
          ]),
        ),
      );
    },
  },
  {
    path: ['template', 'attachment', 'delete'],
    summary: 'delete a template attachment (refused while a template lists it)',
    args: ['<upload-id>'],
    async run(context) {
      const uploadId = context.positionals[0] ?? '';
      await context.clients.router().deleteTemplateAttachment({ uploadId });
      context.print({ deleted: uploadId }, () => `template attachment ${uploadId} deleted`);
    },
  },
  {
    path: ['template', 'preview'],
    summary: 'render a template with sample values',
    args: ['<template-id>'],
    options: {
      value: {
        type: 'string',
        multiple: true,
        value: '<name=value>',
        description: 'a placeholder value, e.g. customer_name=Ann (repeatable)',
      },
    },
    async run(context) {
      const response = await context.clients.router().previewTemplate({
        templateId: context.positionals[0] ?? '',
        values: parseTemplateValues(list(context.values, 'value')),
      });
      const rendered = response.rendered;
      context.print(PreviewTemplateResponse.toJSON(response), () =>
        [`subject: ${rendered?.subject ?? ''}`, '', rendered?.text ?? '', ...(rendered?.html ? ['', rendered.html] : [])].join(
          '\n',
        ),
      );
    },
  },
];
