import { Status } from 'nice-grpc-common';
import { MailboxSettings, Queue, type QueueAcknowledgement } from '@mailroute/contracts';
import { str, type CommandContext } from '../command';
import { CallFailedError, UsageError } from '../errors';

const isNotFound = (error: unknown) => error instanceof CallFailedError && error.clientError.code === Status.NOT_FOUND;

/** Where a reply setting lives: a queue, a mailbox (the router's MailboxSettings) or an agent. */
export type SettingTarget = { kind: 'queue' | 'mailbox' | 'agent'; id: string };

/** The one of --queue/--mailbox (and --agent when allowed) given; a usage error unless exactly one. */
export function settingTarget(context: CommandContext, kinds: readonly SettingTarget['kind'][]): SettingTarget {
  const given = kinds.flatMap((kind) => {
    const id = str(context.values, kind);
    return id === undefined ? [] : [{ kind, id }];
  });
  const [target, ...more] = given;
  if (!target || more.length > 0) throw new UsageError(`give exactly one of ${kinds.map((kind) => `--${kind}`).join(', ')}`);
  return target;
}

/** A mailbox's router settings after changing `paths`: updated, or created when the mailbox had none. */
export async function writeMailboxSettings(
  context: CommandContext,
  mailboxId: string,
  settings: Partial<MailboxSettings>,
  paths: string[],
): Promise<MailboxSettings | undefined> {
  const router = context.clients.router();
  try {
    return (
      await router.updateMailboxSettings({
        mailboxId,
        settings: MailboxSettings.fromPartial(settings),
        updateMask: paths,
        etag: '',
      })
    ).settings;
  } catch (error) {
    if (!isNotFound(error)) throw error;
    return (await router.createMailboxSettings({ mailboxId, settings: MailboxSettings.fromPartial(settings) })).settings;
  }
}

/** A queue's or a mailbox's acknowledgement settings; undefined when a mailbox has no settings. */
export async function readAcknowledgement(
  context: CommandContext,
  target: SettingTarget,
): Promise<QueueAcknowledgement | undefined> {
  const router = context.clients.router();
  if (target.kind === 'queue') return (await router.getQueue({ queueId: target.id })).queue?.acknowledgement;
  try {
    return (await router.getMailboxSettings({ mailboxId: target.id })).settings?.acknowledgement;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Writes a queue's or a mailbox's acknowledgement settings; returns them as stored. */
export async function writeAcknowledgement(
  context: CommandContext,
  target: SettingTarget,
  acknowledgement: QueueAcknowledgement,
): Promise<QueueAcknowledgement | undefined> {
  if (target.kind === 'mailbox')
    return (await writeMailboxSettings(context, target.id, { acknowledgement }, ['acknowledgement']))?.acknowledgement;
  const response = await context.clients.router().updateQueue({
    queueId: target.id,
    queue: Queue.fromPartial({ acknowledgement }),
    updateMask: ['acknowledgement'],
    etag: '',
  });
  return response.queue?.acknowledgement;
}
