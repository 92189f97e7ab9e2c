import { MailboxAccessMode, MailboxKind } from '@mailroute/contracts';
import { isGraphMailError, type MailboxGraph } from '@mailroute/graph-mail';
import type { Logger } from '@mailroute/platform';
import type { MailboxRecord } from '../store/mailbox-fetch.records';

const byPurpose: Record<string, MailboxKind> = {
  user: MailboxKind.MAILBOX_KIND_USER,
  linked: MailboxKind.MAILBOX_KIND_USER,
  shared: MailboxKind.MAILBOX_KIND_SHARED,
};

const isAccessDenied = (error: unknown) => isGraphMailError(error) && error.kind === 'access-denied';

/**
 * The mailbox's kind, detected on its first sync (one or two Graph requests, never failing the sync):
 * - app-only: `mailboxSettings.userPurpose` (needs the application permission MailboxSettings.Read;
 *   without it the kind stays unknown);
 * - delegated: the signed-in user's own mailbox is a user mailbox (nobody signs in as a shared mailbox: its
 *   account is disabled). Another mailbox opened through Full Access is asked for its userPurpose too, but
 *   Graph gives a delegate no other mailbox's settings (there is no MailboxSettings.*.Shared scope): that
 *   refusal means a mailbox routed through a delegate, shown as SHARED.
 * Room and equipment mailboxes, and anything Graph does not answer, stay UNSPECIFIED (tried again on the
 * next first sync of this replica).
 */
export async function detectMailboxKind(
  api: MailboxGraph,
  mailbox: MailboxRecord,
  logger: Logger,
): Promise<MailboxKind | undefined> {
  const address = mailbox.address.toLowerCase();
  try {
    if (mailbox.accessMode === MailboxAccessMode.MAILBOX_ACCESS_MODE_DELEGATED) {
      const me = await api.getSignedInUser();
      if ([me.userPrincipalName, me.mail].some((own) => own.toLowerCase() === address)) return MailboxKind.MAILBOX_KIND_USER;
      try {
        return byPurpose[await api.getMailboxPurpose()];
      } catch (error) {
        if (isAccessDenied(error)) return MailboxKind.MAILBOX_KIND_SHARED;
        throw error;
      }
    }
    return byPurpose[await api.getMailboxPurpose()];
  } catch (error) {
    logger.info(
      { err: error, tenantId: mailbox.tenantId, mailbox: mailbox.mailboxId },
      isAccessDenied(error)
        ? 'mailbox-fetch: mailbox kind unknown (the app lacks the Graph permission MailboxSettings.Read)'
        : 'mailbox-fetch: mailbox kind not detected',
    );
    return undefined;
  }
}
