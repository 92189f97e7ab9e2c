import {
  CheckOutcome,
  DiagnosisResult,
  DiagnosticCheck,
  DiagnosticCode,
  type Diagnosis,
  type DiagnosticFinding,
} from '@mailroute/contracts';
import type { AppCredentialsRecord } from '@mailroute/persistence';
import { isMailrouteError, type Logger, type SecretBox } from '@mailroute/platform';
import { appOnlyScope } from '../credentials/clouds';
import { daysUntil, expiryOf, expiryWarningDays, type CredentialHealthRecorder } from '../credentials/credential-health';
import { classifyEntraFailure } from '../entra/entra-failure';
import { createEntraNetwork } from '../entra/entra-network';
import { authorityOf, createConfidentialClient } from '../entra/msal-clients';
import type { TokenProviderObserver } from '../tokens/app-token.provider';
import { findingFor, passed, skipped } from './findings';
import { mailboxFinding, probeMailbox } from './mailbox-access-probe';

export interface TenantDiagnosisDeps {
  secretBox: SecretBox;
  health: CredentialHealthRecorder;
  clock: () => Date;
  logger: Logger;
  observer?: TokenProviderObserver;
}

/** The checks a tenant diagnosis runs, in order (proto DiagnosticCheck). */
const tokenChecks = [
  DiagnosticCheck.DIAGNOSTIC_CHECK_AUTHORITY_REACHABLE,
  DiagnosticCheck.DIAGNOSTIC_CHECK_TENANT_EXISTS,
  DiagnosticCheck.DIAGNOSTIC_CHECK_APP_REGISTERED,
  DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_ACCEPTED,
  DiagnosticCheck.DIAGNOSTIC_CHECK_TOKEN_ACQUIRED,
] as const;
const permissionChecks = [
  DiagnosticCheck.DIAGNOSTIC_CHECK_ADMIN_CONSENT,
  DiagnosticCheck.DIAGNOSTIC_CHECK_PERMISSION_MAIL_READ_WRITE,
  DiagnosticCheck.DIAGNOSTIC_CHECK_PERMISSION_MAIL_SEND,
] as const;

/**
 * Diagnoses tenant credentials the way an operator would: are they there, are they within their
 * validity, and does Entra ID issue a token with them (a fresh request, bypassing every cache, so
 * consent and permission changes show at once) carrying Mail.ReadWrite and Mail.Send. Each
 * problem is a finding naming the setup step that fixes it; the outcome also updates the
 * credentials' health.
 */
export async function diagnoseTenant(
  deps: TenantDiagnosisDeps,
  record: AppCredentialsRecord | undefined,
  mailboxAddresses: readonly string[] = [],
  /** Only delegated mailboxes are checked: a token without application permissions is expected then. */
  delegatedOnly = false,
): Promise<Diagnosis> {
  const checkedAt = deps.clock();
  const findings: DiagnosticFinding[] = [];
  if (!record) {
    findings.push(findingFor(DiagnosticCode.DIAGNOSTIC_CODE_CREDENTIALS_NOT_FOUND));
    findings.push(
      skipped(DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_EXPIRY),
      ...[...tokenChecks, ...permissionChecks].map(skipped),
    );
    return summarize(findings, checkedAt);
  }
  findings.push(
    passed(
      DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIALS_CONFIGURED,
      `Credentials "${record.credentialsId}" are configured for app ${record.clientId} in directory ${record.directoryId}.`,
    ),
  );

  const expiry = expiryFinding(record, checkedAt);
  findings.push(expiry);
  if (expiry.outcome === CheckOutcome.CHECK_OUTCOME_FAILED) {
    findings.push(...[...tokenChecks, ...permissionChecks].map(skipped));
    return summarize(findings, checkedAt);
  }

  const network = createEntraNetwork();
  let accessToken: string;
  try {
    const client = createConfidentialClient(record, deps.secretBox, network);
    const result = await client.acquireTokenByClientCredential({ scopes: [appOnlyScope(record)], skipCache: true });
    if (!result) throw new Error('MSAL returned no token');
    accessToken = result.accessToken;
    deps.observer?.entraRequest?.(record.tenantId, 'success');
  } catch (error) {
    if (isMailrouteError(error)) throw error;
    deps.observer?.entraRequest?.(record.tenantId, 'failure');
    const failure = classifyEntraFailure(error, network.lastProblem);
    if (failure.networkError)
      deps.logger.warn(
        { tenantId: record.tenantId, credentialsId: record.credentialsId, networkError: failure.networkError },
        'auth-broker: diagnosis could not reach the authority host',
      );
    if (!failure.transient) await deps.health.rejected(record, failure.finding, checkedAt);
    // Findings whose check comes after the token request (e.g. consent refused at token time) are
    // reported on TOKEN_ACQUIRED, the check that failed.
    const found = tokenChecks.indexOf(failure.finding.check as (typeof tokenChecks)[number]);
    const failedIndex = found === -1 ? tokenChecks.length - 1 : found;
    tokenChecks.forEach((check, index) => {
      if (index < failedIndex)
        findings.push(
          failure.transient && index > 0
            ? { ...skipped(check), message: 'Not checked: Entra ID did not answer.' }
            : passed(check, passedText(check, record)),
        );
      else if (index === failedIndex) findings.push({ ...failure.finding, check });
      else findings.push(skipped(check));
    });
    findings.push(...permissionChecks.map(skipped));
    return summarize(findings, checkedAt);
  }
  await deps.health.succeeded(record, checkedAt);
  findings.push(...tokenChecks.map((check) => passed(check, passedText(check, record))));
  // Each mailbox is read once with the same token: an app set up with RBAC for Applications has no mail
  // roles in its token, and only Graph's answers per mailbox show that Exchange grants them.
  const probes = await Promise.all(mailboxAddresses.map((address) => probeMailbox(record.graphEndpoint, accessToken, address)));
  const entraReadWrite = (rolesOf(accessToken) ?? []).some((role) => role.toLowerCase() === 'mail.readwrite');
  const rbacInUse = !entraReadWrite && probes.some((probe) => probe.kind === 'readable');
  if (delegatedOnly && (rolesOf(accessToken) ?? []).length === 0)
    findings.push(
      ...permissionChecks.map((check) => ({
        ...skipped(check),
        message: 'Not checked: the mailboxes checked use delegated access, which needs no application permissions.',
      })),
    );
  else findings.push(...permissionFindings(accessToken, rbacInUse ? record.clientId : undefined));
  findings.push(...probes.map((probe) => mailboxFinding(probe, { clientId: record.clientId, rbacInUse })));
  return summarize(findings, checkedAt);
}

function expiryFinding(record: AppCredentialsRecord, now: Date): DiagnosticFinding {
  const expiresAt = expiryOf(record);
  const days = daysUntil(expiresAt, now);
  const isSecret = record.credential.kind === 'client-secret';
  const details = { days_until_expiry: String(days), expires_at: expiresAt.toISOString() };
  if (record.credential.kind === 'certificate' && record.credential.notBefore.getTime() > now.getTime()) {
    return findingFor(DiagnosticCode.DIAGNOSTIC_CODE_CERTIFICATE_NOT_YET_VALID, {
      details: { not_before: record.credential.notBefore.toISOString() },
    });
  }
  if (expiresAt.getTime() <= now.getTime()) {
    return findingFor(
      isSecret ? DiagnosticCode.DIAGNOSTIC_CODE_SECRET_EXPIRED : DiagnosticCode.DIAGNOSTIC_CODE_CERTIFICATE_EXPIRED,
      {
        details,
        message: `The ${isSecret ? 'client secret' : 'certificate'} expired on ${expiresAt.toISOString().slice(0, 10)}: mail intake and sending for this tenant have stopped.`,
      },
    );
  }
  if (days < expiryWarningDays) {
    return findingFor(
      isSecret ? DiagnosticCode.DIAGNOSTIC_CODE_SECRET_EXPIRING_SOON : DiagnosticCode.DIAGNOSTIC_CODE_CERTIFICATE_EXPIRING_SOON,
      {
        outcome: CheckOutcome.CHECK_OUTCOME_WARNING,
        details,
        message: `The ${isSecret ? 'client secret' : 'certificate'} expires in ${days} day(s), on ${expiresAt.toISOString().slice(0, 10)}; then mail intake and sending for this tenant stop.`,
      },
    );
  }
  return passed(
    DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_EXPIRY,
    `The ${isSecret ? 'client secret' : 'certificate'} is valid for ${days} more days.`,
    details,
  );
}

function passedText(check: DiagnosticCheck, record: AppCredentialsRecord): string {
  switch (check) {
    case DiagnosticCheck.DIAGNOSTIC_CHECK_AUTHORITY_REACHABLE:
      return `${record.authorityHost} answered over trusted HTTPS.`;
    case DiagnosticCheck.DIAGNOSTIC_CHECK_TENANT_EXISTS:
      return `Entra ID knows the directory ${record.directoryId} (${authorityOf(record)}).`;
    case DiagnosticCheck.DIAGNOSTIC_CHECK_APP_REGISTERED:
      return `The app ${record.clientId} is registered and enabled in the directory.`;
    case DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_ACCEPTED:
      return `Entra ID accepted the ${record.credential.kind === 'client-secret' ? 'client secret' : 'certificate'}.`;
    default:
      return 'Entra ID issued an app-only token for Microsoft Graph.';
  }
}

/**
 * Admin consent and the two mail permissions, read from the token's `roles` claim. `rbacApp` (the client
 * id) when RBAC for Applications grants mail access: the permissions the token lacks are Exchange's then.
 */
function permissionFindings(accessToken: string, rbacApp?: string): DiagnosticFinding[] {
  const roles = rolesOf(accessToken);
  if (rbacApp !== undefined && roles !== undefined) return rbacPermissionFindings(roles, rbacApp);
  if (roles === undefined) {
    return permissionChecks.map((check) => ({
      ...findingFor(DiagnosticCode.DIAGNOSTIC_CODE_UNKNOWN_ERROR, { check, outcome: CheckOutcome.CHECK_OUTCOME_WARNING }),
      message: "The token's permissions could not be read (it is not a JWT); Graph calls will tell.",
    }));
  }
  if (roles.length === 0) {
    return [
      findingFor(DiagnosticCode.DIAGNOSTIC_CODE_ADMIN_CONSENT_MISSING, { details: { roles: '' } }),
      skipped(permissionChecks[1]),
      skipped(permissionChecks[2]),
    ];
  }
  const has = (role: string) => roles.some((granted) => granted.toLowerCase() === role.toLowerCase());
  const details = { roles: roles.join(' ') };
  return [
    passed(
      DiagnosticCheck.DIAGNOSTIC_CHECK_ADMIN_CONSENT,
      'An administrator granted consent for application permissions.',
      details,
    ),
    has('Mail.ReadWrite')
      ? passed(DiagnosticCheck.DIAGNOSTIC_CHECK_PERMISSION_MAIL_READ_WRITE, 'The app may read and change mail (Mail.ReadWrite).')
      : findingFor(DiagnosticCode.DIAGNOSTIC_CODE_MAIL_READ_WRITE_NOT_GRANTED, { details }),
    has('Mail.Send')
      ? passed(DiagnosticCheck.DIAGNOSTIC_CHECK_PERMISSION_MAIL_SEND, 'The app may send mail (Mail.Send).')
      : findingFor(DiagnosticCode.DIAGNOSTIC_CODE_MAIL_SEND_NOT_GRANTED, { details }),
  ];
}

function rbacPermissionFindings(roles: string[], clientId: string): DiagnosticFinding[] {
  const has = (role: string) => roles.some((granted) => granted.toLowerCase() === role.toLowerCase());
  const details = { roles: roles.join(' '), access_model: 'rbac-for-applications' };
  return [
    passed(
      DiagnosticCheck.DIAGNOSTIC_CHECK_ADMIN_CONSENT,
      roles.length === 0
        ? 'The token carries no tenant-wide application permissions: Exchange Online grants mail access per mailbox through RBAC for Applications (see the mailbox checks).'
        : 'An administrator granted consent for application permissions; Exchange Online grants mail access per mailbox through RBAC for Applications.',
      details,
    ),
    passed(
      DiagnosticCheck.DIAGNOSTIC_CHECK_PERMISSION_MAIL_READ_WRITE,
      'Mail.ReadWrite is granted per mailbox by an RBAC for Applications role assignment (Application Mail.ReadWrite).',
      details,
    ),
    has('Mail.Send')
      ? passed(DiagnosticCheck.DIAGNOSTIC_CHECK_PERMISSION_MAIL_SEND, 'The app may send mail (Mail.Send).', details)
      : {
          ...skipped(DiagnosticCheck.DIAGNOSTIC_CHECK_PERMISSION_MAIL_SEND),
          message: `Not checked: with RBAC for Applications, Graph shows Mail.Send only when sending. Test-ServicePrincipalAuthorization -Identity ${clientId} -Resource <mailbox> must list "Application Mail.Send" with InScope True.`,
          details,
        },
  ];
}

function rolesOf(accessToken: string): string[] | undefined {
  const payload = accessToken.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { roles?: unknown };
    return Array.isArray(claims.roles) ? claims.roles.filter((role): role is string => typeof role === 'string') : [];
  } catch {
    return undefined;
  }
}

/** The overall result of a set of findings: FAILED if any failed, else WARNING if any warned, else HEALTHY. */
export function summarize(findings: DiagnosticFinding[], checkedAt: Date): Diagnosis {
  const result = findings.some((finding) => finding.outcome === CheckOutcome.CHECK_OUTCOME_FAILED)
    ? DiagnosisResult.DIAGNOSIS_RESULT_FAILED
    : findings.some((finding) => finding.outcome === CheckOutcome.CHECK_OUTCOME_WARNING)
      ? DiagnosisResult.DIAGNOSIS_RESULT_WARNING
      : DiagnosisResult.DIAGNOSIS_RESULT_HEALTHY;
  return { result, findings, checkedAt };
}
