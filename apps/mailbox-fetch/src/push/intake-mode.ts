import { MailboxIntakeMode, MailboxPollingReason, MailboxSyncState, type MailboxIntake } from '@mailroute/contracts';
import { isGraphMailError } from '@mailroute/graph-mail';
import type { IntakeRecord } from '../store/mailbox-fetch.records';
import { describeSyncFailure } from '../sync/sync-failure';

/** The status's detail is shown in lists: a bounded line, never a whole error body. */
const maxDetailLength = 500;

const bounded = (text: string) => (text.length > maxDetailLength ? `${text.slice(0, maxDetailLength - 1)}…` : text);

/** Polling because mailbox-fetch has nowhere Microsoft could post to. */
export const noPublicUrlIntake: IntakeRecord = {
  mode: 'polling',
  pollingReason: 'no-public-url',
  reason: 'no public notification URL is configured (MAILBOX_FETCH_PUSH_PUBLIC_URL and MAILBOX_FETCH_PUSH_CLIENT_STATE_KEYS)',
};

/** Polling while a subscription Graph removed or wants reauthorized is being recreated. */
export function lifecycleIntake(event: string): IntakeRecord {
  return {
    mode: 'polling',
    pollingReason: 'lifecycle',
    reason: bounded(`Graph sent the lifecycle event ${event}; the subscription is being recreated`),
  };
}

/**
 * Polling for good: a delegated mailbox that is not the signed-in user's own (a shared mailbox, or another
 * user's, reached with the `.Shared` scopes and Full Access). Graph subscribes delegated callers only to
 * their own mailbox; Mail.Read.Shared / Mail.ReadWrite.Shared "don't support subscribing to change
 * notifications on items in shared or delegated folders" (https://learn.microsoft.com/graph/outlook-share-messages-folders).
 */
export function delegatedAccessIntake(address: string, signedInUser: string | undefined): IntakeRecord {
  const who = signedInUser ? `${signedInUser}'s delegated sign-in` : 'a delegated sign-in';
  return {
    mode: 'polling',
    pollingReason: 'delegated-access',
    reason: bounded(
      `${address} is read through ${who} with the .Shared scopes, and Graph sends no change notifications for delegated access to a mailbox that is not the signed-in user's own; it is polled at its interval. For push, connect it app-only (Mail.Read application permission).`,
    ),
  };
}

/**
 * Polling because creating the subscription failed: a permission problem (token refused, access
 * denied, outside the access policy) says what to fix; anything else carries Graph's own error text.
 */
export function refusedIntake(error: unknown, address: string): IntakeRecord {
  const failure = describeSyncFailure(error, address);
  if (
    failure.state === MailboxSyncState.MAILBOX_SYNC_STATE_ACCESS_DENIED ||
    failure.state === MailboxSyncState.MAILBOX_SYNC_STATE_AUTH_FAILED
  )
    return {
      mode: 'polling',
      pollingReason: 'permission',
      reason: bounded(`Graph subscription not allowed: ${failure.finding.message} ${failure.finding.remedy}`),
    };
  const graphText = isGraphMailError(error) ? error.message : failure.finding.message;
  return { mode: 'polling', pollingReason: 'subscription-refused', reason: bounded(`Graph subscription refused: ${graphText}`) };
}

const pollingReasons: Record<NonNullable<IntakeRecord['pollingReason']>, MailboxPollingReason> = {
  'no-public-url': MailboxPollingReason.MAILBOX_POLLING_REASON_NO_PUBLIC_URL,
  'subscription-refused': MailboxPollingReason.MAILBOX_POLLING_REASON_SUBSCRIPTION_REFUSED,
  permission: MailboxPollingReason.MAILBOX_POLLING_REASON_PERMISSION,
  lifecycle: MailboxPollingReason.MAILBOX_POLLING_REASON_LIFECYCLE,
  'delegated-access': MailboxPollingReason.MAILBOX_POLLING_REASON_DELEGATED_ACCESS,
};

/** The stored intake mode as the sync status shows it. */
export function toMailboxIntake(intake: IntakeRecord | undefined): MailboxIntake | undefined {
  if (!intake) return undefined;
  if (intake.mode === 'push')
    return {
      mode: MailboxIntakeMode.MAILBOX_INTAKE_MODE_PUSH,
      pollingReason: MailboxPollingReason.MAILBOX_POLLING_REASON_UNSPECIFIED,
      detail: '',
      subscriptionExpiresAt: intake.subscriptionExpiresAt === undefined ? undefined : new Date(intake.subscriptionExpiresAt),
    };
  return {
    mode: MailboxIntakeMode.MAILBOX_INTAKE_MODE_POLLING,
    pollingReason: intake.pollingReason
      ? pollingReasons[intake.pollingReason]
      : MailboxPollingReason.MAILBOX_POLLING_REASON_UNSPECIFIED,
    detail: bounded(intake.reason),
    subscriptionExpiresAt: undefined,
  };
}
