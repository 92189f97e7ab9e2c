import type { AuthBrokerServiceImplementation } from '@mailroute/contracts';
import { ValidationError, type TenantCallContext } from '@mailroute/platform';
import type { AuthBrokerCore } from '../auth-broker';
import { readCredentialsId } from '../credentials/credentials-spec';
import { readMailboxAddress } from './request-fields';
import { diagnoseTenant } from '../diagnosis/tenant-diagnosis';

/** How many mailboxes one DiagnoseTenant call probes at most (one Graph request each). */
const maxProbedMailboxes = 50;

/** DiagnoseTenant: configuration problems are findings in the response, not call errors. */
export function createDiagnosisHandlers(
  core: AuthBrokerCore,
): Pick<AuthBrokerServiceImplementation<TenantCallContext>, 'diagnoseTenant'> {
  return {
    async diagnoseTenant(request, context) {
      const credentialsId = readCredentialsId(request.credentialsId);
      if (request.mailboxAddresses.length > maxProbedMailboxes)
        throw new ValidationError('mailbox_addresses', `at most ${maxProbedMailboxes} addresses`);
      const mailboxAddresses = [
        ...new Set(request.mailboxAddresses.map((address, index) => readMailboxAddress(address, `mailbox_addresses[${index}]`))),
      ];
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
        mailboxAddresses,
      );
      return { credentialsId, diagnosis };
    },
  };
}
