// Writing the router's settings of one mailbox (signature, acknowledgements) as the CLI does: update the
// fields named, or create the settings when the mailbox has none yet.
import { MailboxSettings, type InteractionRouterServiceClient } from '@mailroute/contracts';
import { ClientError, Status } from 'nice-grpc-web';

/** Updates `paths` of a mailbox's settings, creating them on NOT_FOUND; the settings as stored. */
export async function writeMailboxSettings(
  router: InteractionRouterServiceClient,
  mailboxId: string,
  settings: Partial<MailboxSettings>,
  paths: string[],
): Promise<MailboxSettings | undefined> {
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
    if (!(error instanceof ClientError && error.code === Status.NOT_FOUND)) throw error;
    return (await router.createMailboxSettings({ mailboxId, settings: MailboxSettings.fromPartial(settings) })).settings;
  }
}
