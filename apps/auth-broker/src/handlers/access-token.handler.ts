import { DiagnosticCode, type AccessTokenServiceImplementation } from '@mailroute/contracts';
import { FailedPreconditionError, isMailrouteError, ValidationError, type ServiceCallContext } from '@mailroute/platform';
import type { AuthBrokerCore } from '../auth-broker';
import { readCredentialsId } from '../credentials/credentials-spec';
import { findingFor } from '../diagnosis/findings';
import { tenantKey } from '../store/auth-broker.stores';
import { durationMs, readMailboxAddress, readTenantId } from './request-fields';

const defaultMinValidityMs = 5 * 60_000;

/**
 * GetAccessToken for mailroute services. Configuration problems are FAILED_PRECONDITION with the
 * fix in the message and the DiagnosticCode in `mailroute-error-code`; transient Entra ID trouble
 * is UNAVAILABLE with `retry-after-ms`.
 */
export function createAccessTokenHandlers(core: AuthBrokerCore): AccessTokenServiceImplementation<ServiceCallContext> {
  const precondition = (code: DiagnosticCode, subject: string) => {
    const finding = findingFor(code);
    return new FailedPreconditionError(`${subject}: ${finding.message} ${finding.remedy}`, { reason: DiagnosticCode[code] });
  };

  const served = <T>(tenantId: string, principal: 'app_only' | 'delegated', issue: () => Promise<T>): Promise<T> =>
    issue().then(
      (result) => (core.metrics?.tokenServed(tenantId, principal, 'ok'), result),
      (error: unknown) => {
        core.metrics?.tokenServed(tenantId, principal, isMailrouteError(error) ? error.code.toLowerCase() : 'internal');
        throw error;
      },
    );

  return {
    async getAccessToken(request) {
      const tenantId = readTenantId(request.tenantId);
      const minValidityMs = durationMs(request.minValidity) ?? defaultMinValidityMs;
      if (minValidityMs < 60_000 || minValidityMs > 30 * 60_000)
        throw new ValidationError('min_validity', 'must be between 1m and 30m');
      const options = { minValidityMs, forceRefresh: request.forceRefresh };
      const principal = request.principal;
      if (!principal) throw new ValidationError('principal', 'is required: app_only or delegated');

      if (principal.$case === 'appOnly') {
        const credentialsId = readCredentialsId(principal.value.credentialsId, 'app_only.credentials_id');
        return served(tenantId, 'app_only', async () => {
          const record = await core.loadCredentials(tenantId, credentialsId, true);
          if (!record)
            throw precondition(DiagnosticCode.DIAGNOSTIC_CODE_CREDENTIALS_NOT_FOUND, `tenant credentials "${credentialsId}"`);
          core.clouds.assertUsable(record);
          const token = await core.appTokens.getToken(record, options);
          return {
            accessToken: token.accessToken,
            tokenType: 'Bearer',
            expiresAt: token.expiresOn,
            graphEndpoint: record.graphEndpoint,
            directoryId: record.directoryId,
          };
        });
      }

      const mailboxAddress = readMailboxAddress(principal.value.mailboxAddress, 'delegated.mailbox_address');
      return served(tenantId, 'delegated', async () => {
        const grant = await core.stores.grants.get(tenantKey(tenantId, mailboxAddress));
        if (!grant) throw precondition(DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_MISSING, `mailbox ${mailboxAddress}`);
        const record = await core.loadCredentials(tenantId, grant.credentialsId, true);
        if (!record)
          throw precondition(DiagnosticCode.DIAGNOSTIC_CODE_CREDENTIALS_NOT_FOUND, `tenant credentials "${grant.credentialsId}"`);
        core.clouds.assertUsable(record);
        const token = await core.delegatedTokens.getToken(grant, record, options);
        return {
          accessToken: token.accessToken,
          tokenType: 'Bearer',
          expiresAt: token.expiresOn,
          graphEndpoint: record.graphEndpoint,
          directoryId: record.directoryId,
        };
      });
    },
  };
}
