import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  AuthorityCloud,
  CheckOutcome,
  CreateTenantCredentialsResponse,
  CredentialState,
  DiagnoseTenantResponse,
  DiagnosisResult,
  GetTenantCredentialsResponse,
  ListTenantCredentialsResponse,
  MailboxAccessMode,
  MailboxSyncState,
  UpdateTenantCredentialsResponse,
  type TenantCredentials,
  type TenantCredentialsSpec,
} from '@mailroute/contracts';
import { flag, requireStr, str, type Command, type CommandContext, type OptionSpec } from '../command';
import { CliError, UsageError } from '../errors';
import { formatDiagnosis, formatFindingAdvice, formatTime, keyValues, table } from '../format';
import { readSecretLine } from '../stdin';
import { enumChoices, enumLabel, parseEnum, parseInstant } from '../values';

const specOptions: Record<string, OptionSpec> = {
  id: { type: 'string', value: '<credentials-id>', description: 'credentials id (default "default")' },
  name: { type: 'string', value: '<text>', description: 'display name for operators' },
  directory: { type: 'string', value: '<tenant-id|domain>', description: 'Entra ID directory (tenant) id or verified domain' },
  'client-id': { type: 'string', value: '<guid>', description: 'Application (client) ID of the app registration' },
  'client-secret-stdin': {
    type: 'boolean',
    description: 'read the client secret Value from the first line of stdin (or set MAILROUTE_CLIENT_SECRET)',
  },
  'secret-expires': {
    type: 'string',
    value: '<date>',
    description: 'when the secret expires, as Entra shows it: 2027-05-31 or +730d (required with a secret)',
  },
  certificate: {
    type: 'string',
    value: '<file.pem>',
    description: 'certificate uploaded to the app registration (PEM), instead of a secret',
  },
  'private-key': { type: 'string', value: '<file.pem>', description: 'its unencrypted private key (PEM), with --certificate' },
  'send-chain': { type: 'boolean', description: 'send the certificate chain (x5c) for subject-name/issuer authentication' },
  cloud: {
    type: 'string',
    value: `<${enumChoices(AuthorityCloud, 'AUTHORITY_CLOUD').join('|')}>`,
    description: 'cloud of the app registration (default global)',
  },
  'authority-host': {
    type: 'string',
    value: '<https://host>',
    description: 'authority base URL (cloud custom only, e.g. the graph sandbox)',
  },
  'graph-endpoint': { type: 'string', value: '<https://host>', description: 'Graph base URL (cloud custom only)' },
};

/** The secret from MAILROUTE_CLIENT_SECRET or stdin; never from a flag (flags end up in shell history and process lists). */
async function clientSecret(context: CommandContext): Promise<string | undefined> {
  if (flag(context.values, 'client-secret-stdin')) return readSecretLine(context.io.stdin);
  const fromEnv = context.io.env['MAILROUTE_CLIENT_SECRET'];
  return fromEnv && fromEnv.length > 0 ? fromEnv : undefined;
}

/** Reads a PEM file; relative paths are taken from where the user ran `npm run` (INIT_CWD), not the repository root. */
async function readPem(context: CommandContext, file: string, option: string): Promise<string> {
  const full = path.resolve(context.io.env['INIT_CWD'] ?? process.cwd(), file);
  try {
    return await readFile(full, 'utf8');
  } catch (error) {
    throw new CliError(`${option}: cannot read ${full} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Builds the spec from the options given, and the update-mask paths they name. */
async function buildSpec(context: CommandContext, creating: boolean): Promise<{ spec: TenantCredentialsSpec; paths: string[] }> {
  const { values } = context;
  const paths: string[] = [];
  const spec: TenantCredentialsSpec = {
    displayName: '',
    directoryId: '',
    clientId: '',
    cloud: AuthorityCloud.AUTHORITY_CLOUD_UNSPECIFIED,
    authorityHost: '',
    graphEndpoint: '',
  };
  const text = (
    option: string,
    field: 'displayName' | 'directoryId' | 'clientId' | 'authorityHost' | 'graphEndpoint',
    path: string,
  ) => {
    const value = str(values, option);
    if (value === undefined) return;
    spec[field] = value;
    paths.push(path);
  };
  text('name', 'displayName', 'display_name');
  text('directory', 'directoryId', 'directory_id');
  text('client-id', 'clientId', 'client_id');
  text('authority-host', 'authorityHost', 'authority_host');
  text('graph-endpoint', 'graphEndpoint', 'graph_endpoint');
  const cloud = str(values, 'cloud');
  if (cloud !== undefined) {
    spec.cloud = parseEnum<AuthorityCloud>(AuthorityCloud, 'AUTHORITY_CLOUD', cloud, '--cloud');
    paths.push('cloud');
  }
  const secret = await clientSecret(context);
  const certificate = str(values, 'certificate');
  if (secret !== undefined && certificate !== undefined)
    throw new UsageError('give either a client secret or --certificate, not both');
  if (secret !== undefined) {
    const expires = str(values, 'secret-expires');
    if (!expires)
      throw new UsageError('--secret-expires is required with a client secret (Entra ID shows it next to the secret)');
    spec.credential = {
      $case: 'clientSecret',
      value: { value: secret, expiresAt: parseInstant(expires, '--secret-expires', context.now()) },
    };
    paths.push('client_secret');
  } else if (certificate !== undefined) {
    const keyFile = requireStr(values, 'private-key');
    spec.credential = {
      $case: 'certificate',
      value: {
        certificatePem: await readPem(context, certificate, '--certificate'),
        privateKeyPem: await readPem(context, keyFile, '--private-key'),
        sendCertificateChain: flag(values, 'send-chain'),
      },
    };
    paths.push('certificate');
  } else if (creating) {
    throw new UsageError(
      'a credential is required: --client-secret-stdin (or MAILROUTE_CLIENT_SECRET) with --secret-expires, or --certificate with --private-key',
    );
  }
  return { spec, paths };
}

function credentialsView(credentials: TenantCredentials | undefined): string {
  if (!credentials) return 'no credentials returned';
  const credential = credentials.credential;
  const lines = keyValues([
    ['credentials', credentials.credentialsId],
    ['name', credentials.displayName],
    ['directory', credentials.directoryId],
    ['client id', credentials.clientId],
    ['cloud', enumLabel(AuthorityCloud, 'AUTHORITY_CLOUD', credentials.cloud)],
    ['authority', credentials.authorityHost],
    ['graph', credentials.graphEndpoint],
    [
      'credential',
      credential?.$case === 'clientSecret'
        ? 'client secret (stored, never shown)'
        : credential?.$case === 'certificate'
          ? `certificate ${credential.value.thumbprintSha1}`
          : '',
    ],
    ['state', enumLabel(CredentialState, 'CREDENTIAL_STATE', credentials.state)],
    ['expires', formatTime(credentials.expiresAt)],
    ['days until expiry', credentials.expiresAt ? credentials.daysUntilExpiry : undefined],
    ['last token', formatTime(credentials.lastTokenAt)],
    ['encryption key', credentials.encryptionKeyId],
  ]);
  return credentials.lastFailure
    ? `${lines}\n\nlast failure:\n${formatFindingAdvice(credentials.lastFailure).join('\n')}`
    : lines;
}

export const credentialsCommands: Command[] = [
  {
    path: ['credentials', 'add'],
    summary: "store a tenant's Entra ID app credentials in auth-broker (then run `tenant diagnose`)",
    options: specOptions,
    details: [
      'example (secret):  printf %s "$SECRET_VALUE" | mailroute credentials add --directory contoso.onmicrosoft.com \\',
      '                     --client-id 11111111-2222-3333-4444-555555555555 --client-secret-stdin --secret-expires 2027-05-31',
      'example (certificate):  mailroute credentials add --directory <tenant-id> --client-id <guid> --certificate app.pem --private-key app-key.pem',
    ].join('\n'),
    async run(context) {
      const { spec } = await buildSpec(context, true);
      if (!spec.directoryId) throw new UsageError('--directory is required');
      if (!spec.clientId) throw new UsageError('--client-id is required');
      const response = await context.clients
        .authBroker()
        .createTenantCredentials({ credentialsId: str(context.values, 'id') ?? '', spec });
      context.print(
        CreateTenantCredentialsResponse.toJSON(response),
        () =>
          `${credentialsView(response.credentials)}\n\nstored; verify with: mailroute tenant diagnose${response.credentials?.credentialsId && response.credentials.credentialsId !== 'default' ? ` --credentials ${response.credentials.credentialsId}` : ''}`,
      );
    },
  },
  {
    path: ['credentials', 'update'],
    summary: 'change stored credentials, e.g. rotate the client secret before it expires',
    options: {
      ...specOptions,
      etag: { type: 'string', value: '<etag>', description: 'fail with ABORTED if they changed since this etag' },
    },
    async run(context) {
      const { spec, paths } = await buildSpec(context, false);
      if (paths.length === 0)
        throw new UsageError(
          'nothing to change: give at least one of --name, --directory, --client-id, a secret, --certificate, --cloud',
        );
      const response = await context.clients.authBroker().updateTenantCredentials({
        credentialsId: str(context.values, 'id') ?? '',
        spec,
        updateMask: paths,
        etag: str(context.values, 'etag') ?? '',
      });
      context.print(
        UpdateTenantCredentialsResponse.toJSON(response),
        () => `${credentialsView(response.credentials)}\n\nupdated: ${paths.join(', ')}`,
      );
    },
  },
  {
    path: ['credentials', 'list'],
    summary: "list the tenant's credentials with their state and expiry",
    async run(context) {
      const response = await context.clients
        .authBroker()
        .listTenantCredentials({ page: { pageSize: 500, pageToken: '' }, state: CredentialState.CREDENTIAL_STATE_UNSPECIFIED });
      context.print(ListTenantCredentialsResponse.toJSON(response), () =>
        table(
          ['ID', 'DIRECTORY', 'CLIENT ID', 'STATE', 'EXPIRES', 'DAYS'],
          response.credentials.map((c) => [
            c.credentialsId,
            c.directoryId,
            c.clientId,
            enumLabel(CredentialState, 'CREDENTIAL_STATE', c.state),
            formatTime(c.expiresAt),
            c.expiresAt ? c.daysUntilExpiry : '',
          ]),
        ),
      );
    },
  },
  {
    path: ['credentials', 'show'],
    summary: 'show one set of credentials (secrets are never returned)',
    options: { id: specOptions['id'] as OptionSpec },
    async run(context) {
      const response = await context.clients
        .authBroker()
        .getTenantCredentials({ credentialsId: str(context.values, 'id') ?? '' });
      context.print(GetTenantCredentialsResponse.toJSON(response), () => credentialsView(response.credentials));
    },
  },
  {
    path: ['tenant', 'diagnose'],
    summary: 'acquire a fresh token with the credentials and report, check by check, what is wrong and which setup step fixes it',
    options: {
      credentials: { type: 'string', value: '<credentials-id>', description: 'credentials to diagnose (default "default")' },
      mailboxes: {
        type: 'string',
        value: '<a@x,b@x|none>',
        description:
          'mailboxes to check access to (default: the app-only mailboxes mailbox-fetch routes with these credentials, at most 50)',
      },
    },
    async run(context) {
      const credentialsId = str(context.values, 'credentials') ?? '';
      const { mailboxAddresses, delegatedMailboxAddresses } = await mailboxesToProbe(context, credentialsId);
      const response = await context.clients
        .authBroker()
        .diagnoseTenant({ credentialsId, mailboxAddresses, delegatedMailboxAddresses });
      context.print(DiagnoseTenantResponse.toJSON(response), () => {
        const findings = response.diagnosis?.findings ?? [];
        const failing = findings.filter((finding) => finding.outcome === CheckOutcome.CHECK_OUTCOME_FAILED);
        // formatDiagnosis explains the first failure; every further failing mailbox gets its own remedy.
        const more = failing.slice(1).filter((finding) => finding.details['mailbox']);
        return [
          formatDiagnosis(`tenant credentials "${response.credentialsId}"`, response.diagnosis),
          ...more.map((finding) => ['', ...formatFindingAdvice(finding)].join('\n')),
        ].join('\n');
      });
      return diagnosisExitCode(response.diagnosis?.result);
    },
  },
];

/**
 * The mailboxes `tenant diagnose` asks auth-broker to read: `--mailboxes a@x,b@x` (app-only), `--mailboxes none`,
 * or by default the mailboxes mailbox-fetch routes with these credentials — app-only ones with the app's token,
 * delegated ones through their grant (none when mailbox-fetch is unreachable). At most 50.
 */
async function mailboxesToProbe(
  context: CommandContext,
  credentialsId: string,
): Promise<{ mailboxAddresses: string[]; delegatedMailboxAddresses: string[] }> {
  const given = str(context.values, 'mailboxes');
  if (given === 'none') return { mailboxAddresses: [], delegatedMailboxAddresses: [] };
  if (given)
    return {
      mailboxAddresses: given
        .split(',')
        .map((address) => address.trim())
        .filter(Boolean),
      delegatedMailboxAddresses: [],
    };
  const wanted = credentialsId || 'default';
  try {
    const response = await context.clients.mailboxFetch().listMailboxes({
      page: { pageSize: 500, pageToken: '' },
      addressContains: '',
      syncState: MailboxSyncState.MAILBOX_SYNC_STATE_UNSPECIFIED,
    });
    const routed = response.mailboxes.filter((mailbox) => (mailbox.credentialsId || 'default') === wanted).slice(0, 50);
    const delegated = (mailbox: { accessMode: MailboxAccessMode }) =>
      mailbox.accessMode === MailboxAccessMode.MAILBOX_ACCESS_MODE_DELEGATED;
    return {
      mailboxAddresses: routed.filter((mailbox) => !delegated(mailbox)).map((mailbox) => mailbox.address),
      delegatedMailboxAddresses: routed.filter(delegated).map((mailbox) => mailbox.address),
    };
  } catch {
    return { mailboxAddresses: [], delegatedMailboxAddresses: [] };
  }
}

/** 0 when healthy or only warnings, 3 when a check failed (scripts can branch on it). */
export function diagnosisExitCode(result: number | undefined): number {
  return result === DiagnosisResult.DIAGNOSIS_RESULT_FAILED ? 3 : 0;
}
