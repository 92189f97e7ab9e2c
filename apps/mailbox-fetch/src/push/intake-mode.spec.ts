import { MailboxIntakeMode, MailboxPollingReason } from '@mailroute/contracts';
import { GraphMailError } from '@mailroute/graph-mail';
import { delegatedAccessIntake, lifecycleIntake, noPublicUrlIntake, refusedIntake, toMailboxIntake } from './intake-mode';

const graphError = (kind: ConstructorParameters<typeof GraphMailError>[0], status: number, graphCode: string, message: string) =>
  new GraphMailError(kind, message, { status, graphCode, requestId: 'req-1' });

describe('intake mode in the sync status', () => {
  it('says push with the subscription expiry', () => {
    expect(toMailboxIntake({ mode: 'push', reason: '', subscriptionExpiresAt: 1_000 })).toEqual({
      mode: MailboxIntakeMode.MAILBOX_INTAKE_MODE_PUSH,
      pollingReason: MailboxPollingReason.MAILBOX_POLLING_REASON_UNSPECIFIED,
      detail: '',
      subscriptionExpiresAt: new Date(1_000),
    });
    expect(toMailboxIntake(undefined)).toBeUndefined();
  });

  it('tells a permission problem apart from a refused subscription, which carries Graph’s own error', () => {
    const denied = refusedIntake(graphError('access-denied', 403, 'ErrorAccessDenied', 'graph: access denied'), 'a@x.test');
    expect(toMailboxIntake(denied)).toMatchObject({
      mode: MailboxIntakeMode.MAILBOX_INTAKE_MODE_POLLING,
      pollingReason: MailboxPollingReason.MAILBOX_POLLING_REASON_PERMISSION,
    });
    const refused = refusedIntake(
      graphError(
        'rejected',
        400,
        'InvalidRequest',
        'graph: request rejected (400 InvalidRequest): Subscription validation request timed out.',
      ),
      'a@x.test',
    );
    expect(toMailboxIntake(refused)).toMatchObject({
      pollingReason: MailboxPollingReason.MAILBOX_POLLING_REASON_SUBSCRIPTION_REFUSED,
      detail:
        'Graph subscription refused: graph: request rejected (400 InvalidRequest): Subscription validation request timed out.',
    });
    expect(toMailboxIntake(noPublicUrlIntake)?.pollingReason).toBe(MailboxPollingReason.MAILBOX_POLLING_REASON_NO_PUBLIC_URL);
    expect(toMailboxIntake(lifecycleIntake('subscriptionRemoved'))?.pollingReason).toBe(
      MailboxPollingReason.MAILBOX_POLLING_REASON_LIFECYCLE,
    );
    expect(toMailboxIntake(delegatedAccessIntake('help@x.test', 'anna@x.test'))).toMatchObject({
      mode: MailboxIntakeMode.MAILBOX_INTAKE_MODE_POLLING,
      pollingReason: MailboxPollingReason.MAILBOX_POLLING_REASON_DELEGATED_ACCESS,
      detail: expect.stringMatching(/^help@x\.test is read through anna@x\.test's delegated sign-in with the \.Shared scopes/),
    });
  });

  it('bounds the detail it shows', () => {
    const long = refusedIntake(graphError('rejected', 400, 'InvalidRequest', 'x'.repeat(5_000)), 'a@x.test');
    expect(toMailboxIntake(long)?.detail.length).toBe(500);
  });
});
