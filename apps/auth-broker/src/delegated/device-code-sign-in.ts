import { randomBytes } from 'node:crypto';
import { AuthError, type AuthenticationResult, type DeviceCodeRequest, type PublicClientApplication } from '@azure/msal-node';

type DeviceCodeResponse = Parameters<DeviceCodeRequest['deviceCodeCallback']>[0];
import {
  CheckOutcome,
  DelegatedGrantState,
  DelegatedSignInStatus,
  DiagnosticCheck,
  DiagnosticCode,
  SetupStep,
  type DiagnosticFinding,
} from '@mailroute/contracts';
import type { AppCredentialsRecord } from '@mailroute/persistence';
import {
  FailedPreconditionError,
  isMailrouteError,
  NotFoundError,
  sleep,
  type Logger,
  type SecretBox,
} from '@mailroute/platform';
import { delegatedScopes } from '../credentials/clouds';
import { classifyEntraFailure, toCallError } from '../entra/entra-failure';
import { createEntraNetwork, type EntraNetwork } from '../entra/entra-network';
import { createPublicClient } from '../entra/msal-clients';
import {
  tenantKey,
  type AuthBrokerStores,
  type DelegatedGrantDocument,
  type SignInSessionDocument,
} from '../store/auth-broker.stores';
import { createTokenCachePartition } from '../tokens/token-cache-plugin';
import { delegatedPartitionKey } from './delegated-token.provider';
import { delegateScopes, isOwnMailbox } from './delegated-scopes';
import { defaultAuthBrokerOptions } from '../auth-broker-defaults';

export interface DeviceCodeSignInsDeps {
  stores: Pick<AuthBrokerStores, 'signIns' | 'grants' | 'tokenCache'>;
  secretBox: SecretBox;
  clock: () => Date;
  logger: Logger;
  replicaId: string;
  /** Called when a grant was stored (replacing any previous one). */
  onGrantStored?: (tenantId: string, mailboxAddress: string) => void;
  /** How often CompleteDelegatedSignIn re-reads a pending session while waiting. Default 200 ms. */
  waitPollMs?: number;
}

export interface SignInOutcome {
  session: SignInSessionDocument;
  grant?: DelegatedGrantDocument | undefined;
}

/** Device-code sign-ins for delegated mailboxes, visible to every replica through the store. */
export interface DeviceCodeSignIns {
  start(record: AppCredentialsRecord, mailboxAddress: string): Promise<SignInSessionDocument>;
  /** The session's outcome, waiting up to `waitMs` while it is PENDING. NotFoundError for another tenant's id. */
  complete(tenantId: string, signInId: string, waitMs: number, signal?: AbortSignal): Promise<SignInOutcome>;
  /** Stops polling Entra ID; pending sessions of this replica become FAILED ("start again"). */
  close(): Promise<void>;
}

/**
 * The replica that starts a sign-in runs MSAL's device-code polling (PublicClientApplication) and
 * writes the outcome into the session document; any replica answers CompleteDelegatedSignIn from
 * it. On success the MSAL cache (account + refresh token) is sealed into the mailbox's token cache
 * partition, where delegated refreshes rotate it.
 */
export function createDeviceCodeSignIns(deps: DeviceCodeSignInsDeps): DeviceCodeSignIns {
  const waitPollMs = deps.waitPollMs ?? defaultAuthBrokerOptions.signInWaitPollMs;
  const polling = new Map<string, { request: DeviceCodeRequest; done: Promise<void> }>();

  async function save(session: SignInSessionDocument): Promise<void> {
    await deps.stores.signIns.put(tenantKey(session.tenantId, session.signInId), session);
  }

  /**
   * Stores the grant. A user who signed in for a mailbox that is not their own is a delegate: their
   * tokens need the `.Shared` scopes, asked for now with the new refresh token, so that a missing consent
   * fails the sign-in (naming the permissions) instead of every later sync.
   */
  async function onSignedIn(
    session: SignInSessionDocument,
    record: AppCredentialsRecord,
    signedIn: AuthenticationResult,
    client: PublicClientApplication,
    network: EntraNetwork,
  ): Promise<void> {
    const account = signedIn.account;
    if (!account) throw new Error('MSAL returned no account');
    let result = signedIn;
    if (!isOwnMailbox(account.username, session.mailboxAddress)) {
      network.reset();
      try {
        result = await client.acquireTokenSilent({ account, scopes: [...delegateScopes] });
      } catch (error) {
        return onDelegateScopesRefused(session, account.username, error, network);
      }
    }
    const serializedCache = client.getTokenCache().serialize();
    const now = deps.clock();
    await createTokenCachePartition(
      deps.stores.tokenCache,
      deps.secretBox,
      delegatedPartitionKey(session.tenantId, session.mailboxAddress),
      deps.clock,
    ).write(serializedCache);
    const grant: DelegatedGrantDocument = {
      tenantId: session.tenantId,
      mailboxAddress: session.mailboxAddress,
      credentialsId: record.credentialsId,
      signedInUser: account.username,
      signedInUserObjectId: account.localAccountId,
      homeAccountId: account.homeAccountId,
      state: DelegatedGrantState.DELEGATED_GRANT_STATE_ACTIVE,
      grantedScopes: result.scopes.filter((scope) => !['openid', 'profile'].includes(scope.toLowerCase())),
      createdAt: now,
      lastRefreshedAt: now,
      updatedAt: now,
    };
    await deps.stores.grants.put(tenantKey(session.tenantId, session.mailboxAddress), grant);
    deps.onGrantStored?.(session.tenantId, session.mailboxAddress);
    await save({ ...session, status: DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_COMPLETED, updatedAt: now });
  }

  async function onDelegateScopesRefused(
    session: SignInSessionDocument,
    signedInUser: string,
    error: unknown,
    network: EntraNetwork,
  ): Promise<void> {
    const outcome = signInFailure(error, network);
    const failure: DiagnosticFinding = {
      ...outcome.failure,
      message: `${signedInUser} signed in for ${session.mailboxAddress}, which is not their own mailbox: a delegate's tokens need the delegated permissions ${delegateScopes.join(' and ')}, which Entra ID refused (${outcome.failure.message})`,
      remedy: `Setup step "Grant admin consent": add Microsoft Graph > Delegated permissions > ${delegateScopes.join(', ')} to the app registration and grant admin consent; in Exchange give ${signedInUser} Full Access (Add-MailboxPermission -AccessRights FullAccess) and Send As (Add-RecipientPermission -AccessRights SendAs) on ${session.mailboxAddress}; then sign in again.`,
      details: { ...outcome.failure.details, signedInUser, requiredScopes: delegateScopes.join(' ') },
    };
    deps.logger.info(
      { tenantId: session.tenantId, mailbox: session.mailboxAddress, code: DiagnosticCode[failure.code] },
      'auth-broker: delegate sign-in refused the .Shared scopes',
    );
    await save({ ...session, status: DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_FAILED, failure, updatedAt: deps.clock() });
  }

  async function onFailed(session: SignInSessionDocument, error: unknown, network: EntraNetwork): Promise<void> {
    const outcome = signInFailure(error, network);
    deps.logger.info(
      { tenantId: session.tenantId, mailbox: session.mailboxAddress, status: DelegatedSignInStatus[outcome.status] },
      'auth-broker: device-code sign-in ended',
    );
    await save({ ...session, status: outcome.status, failure: outcome.failure, updatedAt: deps.clock() });
  }

  return {
    async start(record, mailboxAddress) {
      const network = createEntraNetwork();
      const client = createPublicClient(record, network);
      let received: (response: DeviceCodeResponse) => void = () => undefined;
      const codeReceived = new Promise<DeviceCodeResponse>((resolve) => {
        received = resolve;
      });
      const request: DeviceCodeRequest = { scopes: [...delegatedScopes], deviceCodeCallback: (response) => received(response) };
      const result = client.acquireTokenByDeviceCode(request);
      const first = await Promise.race([
        codeReceived.then((response) => ({ response })),
        result.then(
          () => ({ response: undefined }),
          (error: unknown) => ({ error }),
        ),
      ]);
      if ('error' in first) {
        if (isMailrouteError(first.error)) throw first.error;
        const failure = signInFailure(first.error, network);
        throw new FailedPreconditionError(
          `device-code sign-in for ${mailboxAddress}: ${failure.failure.message} ${failure.failure.remedy}`,
          {
            reason: DiagnosticCode[failure.failure.code],
          },
        );
      }
      const response = first.response;
      if (!response)
        throw toCallError(
          classifyEntraFailure(new Error('no device code'), network.lastProblem),
          `device-code sign-in for ${mailboxAddress}`,
        );
      const now = deps.clock();
      const session: SignInSessionDocument = {
        signInId: `si-${randomBytes(12).toString('hex')}`,
        tenantId: record.tenantId,
        mailboxAddress,
        credentialsId: record.credentialsId,
        status: DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_PENDING,
        userCode: response.userCode,
        verificationUri: response.verificationUri,
        message: response.message,
        expiresAt: new Date(now.getTime() + response.expiresIn * 1000),
        intervalSeconds: response.interval,
        owner: deps.replicaId,
        createdAt: now,
        updatedAt: now,
      };
      await save(session);
      const done = result
        .then(
          (token) =>
            token ? onSignedIn(session, record, token, client, network) : onFailed(session, new Error('no token'), network),
          (error: unknown) => onFailed(session, error, network),
        )
        .catch((error: unknown) =>
          deps.logger.error({ err: error, signInId: session.signInId }, 'auth-broker: storing a sign-in outcome failed'),
        )
        .finally(() => polling.delete(session.signInId));
      polling.set(session.signInId, { request, done });
      return session;
    },

    async complete(tenantId, signInId, waitMs, signal) {
      const key = tenantKey(tenantId, signInId);
      const deadline = Date.now() + waitMs;
      for (;;) {
        const session = await deps.stores.signIns.get(key);
        if (!session) throw new NotFoundError('sign-in', signInId);
        if (session.status === DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_COMPLETED) {
          return { session, grant: await deps.stores.grants.get(tenantKey(tenantId, session.mailboxAddress)) };
        }
        if (session.status !== DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_PENDING) return { session };
        // The replica polling for it stopped (restart) and the code ran out: it can only expire.
        if (deps.clock().getTime() > session.expiresAt.getTime() + 30_000) {
          const expired = {
            ...session,
            status: DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_EXPIRED,
            failure: expiredFinding(),
            updatedAt: deps.clock(),
          };
          await save(expired);
          return { session: expired };
        }
        if (Date.now() >= deadline || signal?.aborted) return { session };
        await sleep(Math.min(waitPollMs, Math.max(0, deadline - Date.now())), signal);
      }
    },

    async close() {
      for (const { request } of polling.values()) request.cancel = true;
      await Promise.allSettled([...polling.values()].map((entry) => entry.done));
    },
  };
}

function expiredFinding(): DiagnosticFinding {
  return {
    check: DiagnosticCheck.DIAGNOSTIC_CHECK_DELEGATED_GRANT,
    outcome: CheckOutcome.CHECK_OUTCOME_FAILED,
    code: DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_MISSING,
    message: 'The sign-in code expired before anyone entered it.',
    setupStep: SetupStep.SETUP_STEP_DELEGATED_SIGN_IN,
    remedy:
      'Setup step "Delegated sign-in": call StartDelegatedSignIn again and enter the new code within its lifetime (usually 15 minutes).',
    details: {},
  };
}

/** The sign-in status and operator finding for a device-code polling failure. */
function signInFailure(error: unknown, network: EntraNetwork): { status: DelegatedSignInStatus; failure: DiagnosticFinding } {
  const wire = network.lastProblem;
  const oauthError = error instanceof AuthError ? `${error.errorCode} ${error.errorMessage}` : '';
  const aadsts = wire?.kind === 'http' ? wire.aadsts : undefined;
  if (/device_code_expired|expired_token/.test(oauthError) || aadsts === 70019) {
    return { status: DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_EXPIRED, failure: expiredFinding() };
  }
  if (/authorization_declined|access_denied/.test(oauthError) || aadsts === 70020) {
    return {
      status: DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_DECLINED,
      failure: {
        ...expiredFinding(),
        message: 'The user declined the sign-in.',
        remedy: 'Setup step "Delegated sign-in": call StartDelegatedSignIn again and have the mailbox owner accept.',
      },
    };
  }
  if (/device_code_polling_cancelled/.test(oauthError)) {
    return {
      status: DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_FAILED,
      failure: {
        ...expiredFinding(),
        message: 'The sign-in was interrupted by an auth-broker restart.',
        remedy: 'Setup step "Delegated sign-in": call StartDelegatedSignIn again.',
      },
    };
  }
  if (aadsts === 7000218) {
    return {
      status: DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_FAILED,
      failure: {
        check: DiagnosticCheck.DIAGNOSTIC_CHECK_DELEGATED_GRANT,
        outcome: CheckOutcome.CHECK_OUTCOME_FAILED,
        code: DiagnosticCode.DIAGNOSTIC_CODE_UNKNOWN_ERROR,
        message: 'The app registration does not allow public client flows, which device-code sign-in needs.',
        setupStep: SetupStep.SETUP_STEP_REGISTER_APP,
        remedy:
          'Setup step "Register app": in Entra ID > App registrations > (the app) > Authentication > Advanced settings, set "Allow public client flows" to Yes.',
        details: { aadsts: '7000218' },
      },
    };
  }
  return { status: DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_FAILED, failure: classifyEntraFailure(error, wire).finding };
}
