import {
  DelegatedGrantState,
  DelegatedSignInStatus,
  DiagnosticCode,
  type AuthBrokerServiceImplementation,
} from '@mailroute/contracts';
import { FailedPreconditionError, NotFoundError, ValidationError, type TenantCallContext } from '@mailroute/platform';
import type { AuthBrokerCore } from '../auth-broker';
import { toDelegatedGrant } from '../credentials/credentials.mapper';
import { readCredentialsId } from '../credentials/credentials-spec';
import { findingFor } from '../diagnosis/findings';
import { tenantKey } from '../store/auth-broker.stores';
import { durationMs, encodePageToken, readMailboxAddress, readPage } from './request-fields';
import { delegatedScopes } from '../credentials/clouds';
import { delegateScopes } from '../delegated/delegated-scopes';

type Handlers = Pick<
  AuthBrokerServiceImplementation<TenantCallContext>,
  'startDelegatedSignIn' | 'completeDelegatedSignIn' | 'getDelegatedGrant' | 'listDelegatedGrants' | 'deleteDelegatedGrant'
>;

/** Delegated mailbox sign-in (device code) and grants, for the caller's tenant only. */
export function createDelegatedHandlers(core: AuthBrokerCore): Handlers {
  return {
    async startDelegatedSignIn(request, context) {
      const mailboxAddress = readMailboxAddress(request.mailboxAddress);
      const credentialsId = readCredentialsId(request.credentialsId);
      const record = await core.loadCredentials(context.tenantId, credentialsId);
      if (!record) {
        const finding = findingFor(DiagnosticCode.DIAGNOSTIC_CODE_CREDENTIALS_NOT_FOUND);
        throw new FailedPreconditionError(`tenant credentials "${credentialsId}": ${finding.message} ${finding.remedy}`, {
          reason: DiagnosticCode[finding.code],
        });
      }
      core.clouds.assertUsable(record);
      const session = await core.signIns.start(record, mailboxAddress);
      return {
        signInId: session.signInId,
        userCode: session.userCode,
        verificationUri: session.verificationUri,
        message: session.message,
        expiresAt: session.expiresAt,
        pollInterval: { seconds: session.intervalSeconds, nanos: 0 },
        requiredScopes: [...delegatedScopes],
        delegateScopes: [...delegateScopes],
      };
    },

    async completeDelegatedSignIn(request, context) {
      if (!request.signInId) throw new ValidationError('sign_in_id', 'is required');
      if (request.signInId.length > 64) throw new ValidationError('sign_in_id', 'is not a sign-in id');
      const waitMs = durationMs(request.wait) ?? 0;
      if (waitMs < 0 || waitMs > 60_000) throw new ValidationError('wait', 'must be between 0s and 60s');
      const { session, grant } = await core.signIns.complete(context.tenantId, request.signInId, waitMs, context.signal);
      return {
        status: session.status,
        grant:
          session.status === DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_COMPLETED && grant
            ? toDelegatedGrant(grant)
            : undefined,
        failure: session.failure,
        expiresAt: session.expiresAt,
      };
    },

    async getDelegatedGrant(request, context) {
      const mailboxAddress = readMailboxAddress(request.mailboxAddress);
      const grant = await core.stores.grants.get(tenantKey(context.tenantId, mailboxAddress));
      if (!grant) throw new NotFoundError('delegated grant', mailboxAddress);
      return { grant: toDelegatedGrant(grant) };
    },

    async listDelegatedGrants(request, context) {
      const prefix = `${context.tenantId}/`;
      const { pageSize, after } = readPage(request.page, prefix);
      const credentialsId = request.credentialsId ? readCredentialsId(request.credentialsId) : undefined;
      const found = await core.stores.grants.list({ prefix, after, limit: pageSize + 1 });
      const page = found.slice(0, pageSize);
      const last = found.length > pageSize ? page.at(-1) : undefined;
      return {
        grants: page
          .map(({ document }) => document)
          .filter(
            (grant) => request.state === DelegatedGrantState.DELEGATED_GRANT_STATE_UNSPECIFIED || grant.state === request.state,
          )
          .filter((grant) => credentialsId === undefined || grant.credentialsId === credentialsId)
          .map(toDelegatedGrant),
        nextPageToken: last ? encodePageToken(last.key) : '',
      };
    },

    async deleteDelegatedGrant(request, context) {
      const mailboxAddress = readMailboxAddress(request.mailboxAddress);
      if (!(await core.dropGrant(context.tenantId, mailboxAddress))) throw new NotFoundError('delegated grant', mailboxAddress);
      return {};
    },
  };
}
