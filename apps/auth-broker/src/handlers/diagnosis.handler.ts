import type { AuthBrokerServiceImplementation } from '@mailroute/contracts';
import type { TenantCallContext } from '@mailroute/platform';
import type { AuthBrokerCore } from '../auth-broker';
import { readCredentialsId } from '../credentials/credentials-spec';
import { diagnoseTenant } from '../diagnosis/tenant-diagnosis';

/** DiagnoseTenant: configuration problems are findings in the response, not call errors. */
export function createDiagnosisHandlers(
  core: AuthBrokerCore,
): Pick<AuthBrokerServiceImplementation<TenantCallContext>, 'diagnoseTenant'> {
  return {
    async diagnoseTenant(request, context) {
      const credentialsId = readCredentialsId(request.credentialsId);
      const record = await core.loadCredentials(context.tenantId, credentialsId);
      if (record) core.clouds.assertUsable(record);
      const diagnosis = await diagnoseTenant(
        {
          secretBox: core.secretBox,
          health: core.health,
          clock: core.clock,
          logger: core.logger,
          ...(core.metrics ? { observer: core.metrics } : {}),
        },
        record,
      );
      return { credentialsId, diagnosis };
    },
  };
}
