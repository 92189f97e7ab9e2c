import { QueueAcknowledgement } from '@mailroute/contracts';
import { flag, str, type Command } from '../command';
import { UsageError } from '../errors';
import { formatDuration, keyValues } from '../format';
import { parseDuration } from '../values';
import { readAcknowledgement, settingTarget, writeAcknowledgement, type SettingTarget } from './reply-settings';

const targetOptions = {
  queue: { type: 'string', value: '<queue-id>', description: "the queue's acknowledgement" },
  mailbox: { type: 'string', value: '<mailbox-id>', description: "the mailbox's (used when the queue has none enabled)" },
} as const;

function describe(target: SettingTarget, ack: QueueAcknowledgement | undefined): string {
  if (!ack?.enabled) return `${target.kind} ${target.id}: no acknowledgements`;
  return keyValues([
    [target.kind, target.id],
    ['template', ack.templateId],
    ['out of hours', ack.outOfHoursTemplateId || 'none'],
    ['period', formatDuration(ack.period ?? 24 * 3600)],
    ['reference prefix', ack.referencePrefix || 'none'],
  ]);
}

export const acknowledgementCommands: Command[] = [
  {
    path: ['acknowledgement', 'set'],
    summary: "set a queue's or a mailbox's automatic acknowledgement (auto-reply) of new customer mail",
    options: {
      ...targetOptions,
      template: { type: 'string', value: '<template-id>', description: 'acknowledgement template (kind acknowledgement)' },
      'out-of-hours': {
        type: 'string',
        value: '<template-id>',
        description: "template sent while the queue's calendar is closed (kind out-of-hours)",
      },
      period: {
        type: 'string',
        value: '<duration>',
        description: 'no second acknowledgement to the same customer within this (default 24h; 1m-30d)',
      },
      'reference-prefix': {
        type: 'string',
        value: '<ABC>',
        description: 'put [#ABC-1234] in the subject and thread replies quoting it (2-8 capital letters)',
      },
      off: { type: 'boolean', description: 'send no acknowledgements' },
    },
    details:
      "Acknowledgements are marked Auto-Submitted: auto-replied and X-Auto-Response-Suppress: All, never answer automated mail, and go once per customer and mailbox per period. A mailbox's settings apply to mail whose queue has no enabled acknowledgement.",
    async run(context) {
      const { values } = context;
      const target = settingTarget(context, ['queue', 'mailbox']);
      const off = flag(values, 'off');
      const templateId = str(values, 'template');
      if (off && templateId !== undefined) throw new UsageError('--off and --template exclude each other');
      if (!off && templateId === undefined) throw new UsageError('--template is required (or --off)');
      const period = str(values, 'period');
      const ack = QueueAcknowledgement.fromPartial(
        off
          ? { enabled: false }
          : {
              enabled: true,
              templateId,
              outOfHoursTemplateId: str(values, 'out-of-hours') ?? '',
              period: period === undefined ? undefined : parseDuration(period, '--period'),
              referencePrefix: str(values, 'reference-prefix') ?? '',
            },
      );
      const stored = await writeAcknowledgement(context, target, ack);
      context.print({ [target.kind]: target.id, acknowledgement: stored && QueueAcknowledgement.toJSON(stored) }, () =>
        describe(target, stored),
      );
    },
  },
  {
    path: ['acknowledgement', 'show'],
    summary: "show a queue's or a mailbox's acknowledgement settings",
    options: targetOptions,
    async run(context) {
      const target = settingTarget(context, ['queue', 'mailbox']);
      const ack = await readAcknowledgement(context, target);
      context.print({ [target.kind]: target.id, acknowledgement: ack && QueueAcknowledgement.toJSON(ack) }, () =>
        describe(target, ack),
      );
    },
  },
];
