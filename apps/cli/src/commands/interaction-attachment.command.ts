import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { AttachmentInfo } from '@mailroute/contracts';
import { str, type Command } from '../command';
import { CliError, UsageError } from '../errors';
import { keyValues, terminalSafe } from '../format';

/**
 * `interaction attachment`: one inbound attachment of an interaction's thread saved to a file, through
 * InteractionRouterService.GetInteractionAttachment (routing.read). The file is created new (an existing one is
 * never overwritten), written as the chunks arrive, and removed again when the download fails or its size or
 * SHA-256 differ from what the router announced. The attachment's own name is shown, never used as a path.
 */
export const interactionAttachmentCommand: Command = {
  path: ['interaction', 'attachment'],
  summary: "save an inbound attachment of an interaction's thread to a file",
  args: ['<interaction-id>', '<graph-message-id>', '<attachment-id>'],
  options: {
    out: { type: 'string', short: 'o', value: '<file>', description: 'the file to create (required; never overwritten)' },
  },
  details:
    'The message and attachment ids are listed by `interaction show <id> --messages`. The content is untrusted\n' +
    'customer data: open it with care. Large files may need a longer --timeout (the whole download is one call).',
  async run(context) {
    const [interactionId = '', graphMessageId = '', attachmentId = ''] = context.positionals;
    const out = str(context.values, 'out');
    if (!out) throw new UsageError('--out <file> is required');
    let file;
    try {
      file = await open(out, 'wx');
    } catch (error) {
      throw new CliError(`cannot create ${out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    let info: AttachmentInfo | undefined;
    let written = 0;
    const hash = createHash('sha256');
    let saved = false;
    try {
      for await (const response of context.clients.interactionAttachment({ interactionId, graphMessageId, attachmentId })) {
        const part = response.part;
        if (part?.$case === 'info') info = part.value;
        else if (part?.$case === 'chunk') {
          await file.write(part.value);
          hash.update(part.value);
          written += part.value.length;
        }
      }
      const sha256 = hash.digest('hex');
      if (!info) throw new CliError('the router sent no attachment info');
      if (written !== info.sizeBytes || (info.contentSha256 && sha256 !== info.contentSha256))
        throw new CliError(
          `the download is incomplete: ${written} of ${info.sizeBytes} bytes, SHA-256 ${sha256} (announced ${info.contentSha256})`,
        );
      saved = true;
    } finally {
      await file.close();
      if (!saved) await rm(out, { force: true });
    }
    const got = info as AttachmentInfo;
    context.print({ attachment: AttachmentInfo.toJSON(got), savedTo: out, sizeBytes: written }, () =>
      keyValues([
        ['name', terminalSafe(got.name)],
        ['content type', terminalSafe(got.contentType)],
        ['size', `${written} bytes`],
        ['sha256', got.contentSha256],
        ['saved to', out],
      ]),
    );
  },
};
