import type { Client } from '@microsoft/microsoft-graph-client';
import type { MailboxGraph } from './graph-mail.client';
import type { MailboxCall } from './mailbox-call';

/**
 * What kind of mailbox this is and who the token speaks for, through the mailbox's call path.
 * `mailboxSettings/userPurpose` (user, shared, room, …) needs MailboxSettings.Read — an application
 * permission for any mailbox, a delegated scope for the signed-in user's own only:
 * https://learn.microsoft.com/graph/api/resources/mailboxsettings. `/me` is the signed-in user (delegated tokens).
 */
export function mailboxKindCalls(call: MailboxCall, client: Client): Pick<MailboxGraph, 'getMailboxPurpose' | 'getSignedInUser'> {
  return {
    getMailboxPurpose() {
      return call(
        'mailboxSettings.userPurpose',
        (url) => client.api(url('mailboxSettings/userPurpose')),
        async (request) => String(((await request.get()) as { value?: unknown }).value ?? ''),
      );
    },
    getSignedInUser() {
      return call(
        'me',
        (url) => client.api(url('/me')).select(['userPrincipalName', 'mail']),
        async (request) => {
          const body = (await request.get()) as { userPrincipalName?: string | null; mail?: string | null };
          return { userPrincipalName: body.userPrincipalName ?? '', mail: body.mail ?? '' };
        },
      );
    },
  };
}
