import type { AuthBrokerServiceImplementation } from '@mailroute/contracts';
import { ValidationError, type TenantCallContext } from '@mailroute/platform';
import type { AuthBrokerCore } from '../auth-broker';
import { readCredentialsId } from '../credentials/credentials-spec';
import { readMailboxAddress } from './request-fields';
import { delegateAccessFindings } from '../diagnosis/delegate-access';
import { diagnoseTenant, summarize } from '../diagnosis/tenant-diagnosis';

/** How many mailboxes one DiagnoseTenant call probes at most (one Graph request each). */
const maxProbedMailboxes = 50;

/** DiagnoseTenant: configuration problems are findings in the response, not call errors. */
export function createDiagnosisHandlers(
  core: AuthBrokerCore,
): Pick<AuthBrokerServiceImplementation<TenantCallContext>, 'diagnoseTenant'> {
  return {
    async diagnoseTenant(request, context) {
      const credentialsId = readCredentialsId(request.credentialsId);
      if (request.mailboxAddresses.length + request.delegatedMailboxAddresses.length > maxProbedMailboxes)
        throw new ValidationError(
          'mailbox_addresses',
          `at most ${maxProbedMailboxes} addresses with delegated_mailbox_addresses`,
        );
      const mailboxAddresses = [
        ...new Set(request.mailboxAddresses.map((address, index) => readMailboxAddress(address, `mailbox_addresses[${index}]`))),
      ];
      const delegatedAddresses = [
        ...new Set(
          request.delegatedMailboxAddresses.map((address, index) =>
            readMailboxAddress(address, `delegated_mailbox_addresses[${index}]`),
          ),
        ),
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
        mailboxAddresses.length === 0 && delegatedAddresses.length > 0,
      );
      if (delegatedAddresses.length === 0) return { credentialsId, diagnosis };
      const findings = [...diagnosis.findings, ...(await delegateAccessFindings(core, context.tenantId, delegatedAddresses))];
      return { credentialsId, diagnosis: summarize(findings, diagnosis.checkedAt ?? core.clock()) };
    },
  };
}
