import { Writable } from 'node:stream';
import { Metadata, Status, type ClientError } from 'nice-grpc';
import { MongoClient } from 'mongodb';
import {
  AuthBrokerServiceDefinition,
  AuthorityCloud,
  CheckOutcome,
  DiagnosisResult,
  DiagnosticCheck,
  DiagnosticCode,
  SetupStep,
  type DiagnosticFinding,
} from '@mailroute/contracts';
import { createGraphSandbox, type GraphSandbox, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import {
  createCallerAuthenticator,
  createEntraTokenVerifier,
  createGrpcClient,
  createLogger,
  createSecretBox,
  hashBearerCredential,
  type GrpcServer,
} from '@mailroute/platform';
import { randomId, testInfra } from '@mailroute/testing';
import { createAuthBrokerCore, type AuthBrokerCore } from './auth-broker';
import { createServer } from './server';
import { openMongoStores, type AuthBrokerStores } from './store/auth-broker.stores';

/**
 * `DiagnoseTenant` with mailboxes: each mailbox's finding names the real cause and the PowerShell that
 * fixes it — against the graph sandbox over HTTPS (real MSAL in the auth-broker, Exchange's RBAC for
 * Applications and application access policies emulated), FerretDB and real gRPC.
 */
describe('tenant diagnosis per mailbox: the real cause and its remedy', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;
  let stores: AuthBrokerStores;
  let databaseName: string;
  let core: AuthBrokerCore;
  let server: GrpcServer;
  let address: string;
  const tenants = Array.from({ length: 12 }, () => randomId('tenant'));
  const keys = new Map(tenants.map((tenant) => [tenant, `mrk_${randomId('key')}`]));
  let next = 0;
  const handles: { close(): void }[] = [];

  beforeAll(async () => {
    sandbox = createGraphSandbox({ trustCaInProcess: true });
    endpoints = await sandbox.start();
    databaseName = randomId('auth-broker-mailboxes');
    stores = await openMongoStores({ url: testInfra().mongoUrl, database: databaseName });
    const logger = createLogger({
      name: 'auth-broker',
      level: 'warn',
      destination: new Writable({ write: (_c, _e, done) => done() }),
    });
    core = createAuthBrokerCore({
      stores,
      secretBox: createSecretBox({ keys: [{ id: 'k1', key: Buffer.alloc(32, 3) }], activeKeyId: 'k1' }),
      logger,
      clock: () => new Date(),
      allowedCloudOrigins: [endpoints.baseUrl],
      options: { credentialsCacheMs: 0, metricsScanIntervalMs: 3_600_000 },
    });
    const authenticator = createCallerAuthenticator({
      apiKeys: [...keys].map(([tenantId, key], index) => ({
        id: `key-${index}`,
        tenantId,
        scopes: ['credentials.read', 'credentials.write'],
        sha256: hashBearerCredential(key),
      })),
      serviceTokens: [],
    });
    server = createServer({
      logger,
      core,
      authenticator,
      supervisorVerifier: createEntraTokenVerifier({ directories: new Map(), audience: [] }),
    });
    address = `127.0.0.1:${await server.listen('127.0.0.1', 0)}`;
  });

  afterAll(async () => {
    for (const handle of handles) handle.close();
    await server?.shutdown(1_000);
    await core?.close();
    const client = await MongoClient.connect(testInfra().mongoUrl);
    await client.db(databaseName).dropDatabase();
    await client.close();
    await stores?.close();
    await sandbox?.stop();
  });

  function client() {
    const handle = createGrpcClient(AuthBrokerServiceDefinition, address, { deadlineMs: 60_000 });
    handles.push(handle);
    return handle.client;
  }

  /** A sandbox directory with `support@` (routed) and `ceo@` (not routed), an app with `permissions` consented in Entra. */
  async function directory(permissions: Array<'Mail.ReadWrite' | 'Mail.Send' | 'User.Read.All'>) {
    const suffix = randomId('d');
    const created = await endpoints.admin.createTenant({ displayName: suffix, domain: `${suffix}.example` });
    const domain = created.domains[0] ?? '';
    const app = await endpoints.admin.createApp(created.id, { displayName: 'mailroute', applicationPermissions: permissions });
    const secret = await endpoints.admin.addSecret(created.id, app.clientId);
    const support = `support@${domain}`;
    const ceo = `ceo@${domain}`;
    for (const mailbox of [support, ceo]) await endpoints.admin.createMailbox(created.id, { userPrincipalName: mailbox });
    return { directoryId: created.id, clientId: app.clientId, secret: secret.secretText, support, ceo, domain };
  }

  /** RBAC for Applications as docs/real-tenant.md sets it up: a CustomAttribute1 scope and two role assignments. */
  async function scopeWithRbac(dir: Awaited<ReturnType<typeof directory>>) {
    await endpoints.admin.setRecipient(dir.directoryId, dir.support, { customAttributes: { CustomAttribute1: 'mailroute' } });
    await endpoints.admin.createManagementScope(dir.directoryId, {
      name: 'mailroute mailboxes',
      recipientRestrictionFilter: "CustomAttribute1 -eq 'mailroute'",
    });
    for (const role of ['Application Mail.ReadWrite', 'Application Mail.Send'] as const)
      await endpoints.admin.assignApplicationRole(dir.directoryId, {
        app: dir.clientId,
        role,
        customResourceScope: 'mailroute mailboxes',
      });
  }

  async function diagnose(dir: Awaited<ReturnType<typeof directory>>, mailboxes: string[]) {
    const tenant = tenants[next++] ?? '';
    const options = { metadata: Metadata({ authorization: `Bearer ${keys.get(tenant) ?? ''}` }) };
    await client().createTenantCredentials(
      {
        credentialsId: '',
        spec: {
          displayName: 'Contoso',
          directoryId: dir.directoryId,
          clientId: dir.clientId,
          cloud: AuthorityCloud.AUTHORITY_CLOUD_CUSTOM,
          authorityHost: endpoints.baseUrl,
          graphEndpoint: endpoints.baseUrl,
          credential: { $case: 'clientSecret', value: { value: dir.secret, expiresAt: new Date(Date.now() + 365 * 86_400_000) } },
        },
      },
      options,
    );
    const response = await client().diagnoseTenant({ credentialsId: '', mailboxAddresses: mailboxes }, options);
    const diagnosis = response.diagnosis;
    if (!diagnosis) throw new Error('expected a diagnosis');
    const mailbox = (address: string): DiagnosticFinding | undefined =>
      diagnosis.findings.find((finding) => finding.details['mailbox'] === address);
    return { diagnosis, mailbox, options };
  }

  it('reports an app set up with RBAC for Applications (no Entra mail permission) as HEALTHY', async () => {
    const dir = await directory([]);
    await scopeWithRbac(dir);
    const { diagnosis, mailbox } = await diagnose(dir, [dir.support]);
    expect(diagnosis.findings.filter((finding) => finding.outcome === CheckOutcome.CHECK_OUTCOME_FAILED)).toEqual([]);
    expect(diagnosis.result).toBe(DiagnosisResult.DIAGNOSIS_RESULT_HEALTHY);
    expect(
      diagnosis.findings.find((finding) => finding.check === DiagnosticCheck.DIAGNOSTIC_CHECK_ADMIN_CONSENT)?.message,
    ).toMatch(/RBAC for Applications/);
    expect(mailbox(dir.support)).toMatchObject({
      outcome: CheckOutcome.CHECK_OUTCOME_PASSED,
      code: DiagnosticCode.DIAGNOSTIC_CODE_OK,
    });
    expect(
      diagnosis.findings.find((finding) => finding.check === DiagnosticCheck.DIAGNOSTIC_CHECK_PERMISSION_MAIL_SEND)?.message,
    ).toContain(`Test-ServicePrincipalAuthorization -Identity ${dir.clientId}`);
  });

  it('names a mailbox outside the RBAC scope, with New-ManagementScope / New-ManagementRoleAssignment / Test-ServicePrincipalAuthorization', async () => {
    const dir = await directory([]);
    await scopeWithRbac(dir);
    const { diagnosis, mailbox } = await diagnose(dir, [dir.support, dir.ceo]);
    expect(diagnosis.result).toBe(DiagnosisResult.DIAGNOSIS_RESULT_FAILED);
    expect(mailbox(dir.support)?.outcome).toBe(CheckOutcome.CHECK_OUTCOME_PASSED);
    const outside = mailbox(dir.ceo);
    expect(outside).toMatchObject({
      check: DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS,
      outcome: CheckOutcome.CHECK_OUTCOME_FAILED,
      code: DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_OUTSIDE_RBAC_SCOPE,
      setupStep: SetupStep.SETUP_STEP_SCOPE_MAILBOX_ACCESS,
      details: { mailbox: dir.ceo },
    });
    expect(outside?.remedy).toContain(
      `New-ManagementRoleAssignment -App ${dir.clientId} -Role "Application Mail.ReadWrite" -CustomResourceScope`,
    );
    expect(outside?.remedy).toContain('New-ManagementScope');
    expect(outside?.remedy).toContain(`Test-ServicePrincipalAuthorization -Identity ${dir.clientId} -Resource ${dir.ceo}`);
  });

  it('names a mailbox excluded by an application access policy, with Test-ApplicationAccessPolicy / New-ApplicationAccessPolicy', async () => {
    const dir = await directory(['Mail.ReadWrite', 'Mail.Send']);
    await endpoints.admin.createAccessPolicy(dir.directoryId, {
      appId: dir.clientId,
      accessRight: 'RestrictAccess',
      policyScopeGroupId: `mailroute-mailboxes@${dir.domain}`,
      members: [dir.support],
    });
    const { diagnosis, mailbox } = await diagnose(dir, [dir.support, dir.ceo]);
    expect(diagnosis.result).toBe(DiagnosisResult.DIAGNOSIS_RESULT_FAILED);
    expect(mailbox(dir.support)?.outcome).toBe(CheckOutcome.CHECK_OUTCOME_PASSED);
    expect(mailbox(dir.ceo)).toMatchObject({
      code: DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_OUTSIDE_ACCESS_POLICY,
      setupStep: SetupStep.SETUP_STEP_SCOPE_MAILBOX_ACCESS,
    });
    expect(mailbox(dir.ceo)?.remedy).toContain(`Test-ApplicationAccessPolicy -Identity ${dir.ceo} -AppId ${dir.clientId}`);
    expect(mailbox(dir.ceo)?.remedy).toContain('New-ApplicationAccessPolicy');
  });

  it('names missing permission or consent when neither Entra nor Exchange grants mail access', async () => {
    const dir = await directory(['User.Read.All']);
    const { diagnosis, mailbox } = await diagnose(dir, [dir.support]);
    expect(diagnosis.result).toBe(DiagnosisResult.DIAGNOSIS_RESULT_FAILED);
    expect(
      diagnosis.findings.find((finding) => finding.check === DiagnosticCheck.DIAGNOSTIC_CHECK_PERMISSION_MAIL_READ_WRITE)?.code,
    ).toBe(DiagnosticCode.DIAGNOSTIC_CODE_MAIL_READ_WRITE_NOT_GRANTED);
    expect(mailbox(dir.support)).toMatchObject({
      code: DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_ACCESS_DENIED,
      setupStep: SetupStep.SETUP_STEP_GRANT_API_PERMISSIONS,
    });
    expect(mailbox(dir.support)?.remedy).toMatch(/Mail\.ReadWrite and Mail\.Send and grant admin consent/);
    expect(mailbox(dir.support)?.remedy).toContain(`New-ManagementRoleAssignment -App ${dir.clientId}`);
  });

  it('keeps reporting missing admin consent for a token without roles and without RBAC role assignments', async () => {
    const dir = await directory([]);
    const { diagnosis, mailbox } = await diagnose(dir, [dir.support]);
    expect(diagnosis.findings.find((finding) => finding.check === DiagnosticCheck.DIAGNOSTIC_CHECK_ADMIN_CONSENT)?.code).toBe(
      DiagnosticCode.DIAGNOSTIC_CODE_ADMIN_CONSENT_MISSING,
    );
    expect(mailbox(dir.support)).toMatchObject({
      code: DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_ACCESS_DENIED,
      setupStep: SetupStep.SETUP_STEP_GRANT_ADMIN_CONSENT,
    });
    expect(mailbox(dir.support)?.remedy).toMatch(/grant admin consent for Mail\.ReadWrite and Mail\.Send/);
  });

  it('tells an unlicensed user mailbox from an inactive one and from an unknown address, each with its remedy', async () => {
    const dir = await directory(['Mail.ReadWrite', 'Mail.Send']);
    const former = `former@${dir.domain}`;
    const unknown = `nobody@${dir.domain}`;
    await endpoints.admin.createMailbox(dir.directoryId, { userPrincipalName: former, mailboxEnabled: false });
    await endpoints.admin.setRecipient(dir.directoryId, dir.ceo, { exchangeLicensed: false });
    const { mailbox } = await diagnose(dir, [dir.support, dir.ceo, former, unknown]);
    expect(mailbox(dir.support)?.outcome).toBe(CheckOutcome.CHECK_OUTCOME_PASSED);
    expect(mailbox(dir.ceo)).toMatchObject({
      code: DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_NOT_LICENSED,
      setupStep: SetupStep.SETUP_STEP_CONFIGURE_MAILBOX,
    });
    expect(mailbox(dir.ceo)?.remedy).toMatch(/license that includes Exchange Online.*Set-Mailbox .* -Type Shared/);
    expect(mailbox(former)).toMatchObject({ code: DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_INACTIVE });
    expect(mailbox(former)?.remedy).toContain(`Undo-SoftDeletedMailbox ${former}`);
    expect(mailbox(unknown)).toMatchObject({ code: DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_NOT_FOUND });
  });

  it('names a delegate without Full Access on a shared mailbox (Add-MailboxPermission), and passes once it is granted', async () => {
    const suffix = randomId('d');
    const created = await endpoints.admin.createTenant({ displayName: suffix, domain: `${suffix}.example` });
    const domain = created.domains[0] ?? '';
    const app = await endpoints.admin.createApp(created.id, {
      displayName: 'mailroute',
      applicationPermissions: [],
      delegatedPermissions: ['User.Read', 'Mail.ReadWrite', 'Mail.Send', 'Mail.ReadWrite.Shared', 'Mail.Send.Shared'],
      allowPublicClient: true,
    });
    const secret = await endpoints.admin.addSecret(created.id, app.clientId);
    const shared = `billing@${domain}`;
    const delegate = `lead@${domain}`;
    await endpoints.admin.createMailbox(created.id, { userPrincipalName: shared, userPurpose: 'shared' });
    await endpoints.admin.createMailbox(created.id, { userPrincipalName: delegate });
    const dir = {
      directoryId: created.id,
      clientId: app.clientId,
      secret: secret.secretText,
      support: shared,
      ceo: delegate,
      domain,
    };
    const { options } = await diagnose(dir, []);
    const started = await client().startDelegatedSignIn({ mailboxAddress: shared, credentialsId: '' }, options);
    await endpoints.admin.approveDeviceCode(started.userCode, delegate);
    const completed = await client().completeDelegatedSignIn(
      { signInId: started.signInId, wait: { seconds: 20, nanos: 0 } },
      options,
    );
    expect(completed.grant).toMatchObject({ mailboxAddress: shared, signedInUser: delegate });

    const denied = await client().diagnoseTenant({ credentialsId: '', delegatedMailboxAddresses: [shared] }, options);
    const finding = denied.diagnosis?.findings.find((each) => each.details['mailbox'] === shared);
    expect(denied.diagnosis?.result).toBe(DiagnosisResult.DIAGNOSIS_RESULT_FAILED);
    expect(finding).toMatchObject({
      check: DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS,
      code: DiagnosticCode.DIAGNOSTIC_CODE_DELEGATE_FULL_ACCESS_MISSING,
      setupStep: SetupStep.SETUP_STEP_DELEGATED_SIGN_IN,
      details: expect.objectContaining({ signed_in_user: delegate }),
    });
    expect(finding?.remedy).toContain(`Add-MailboxPermission -Identity ${shared} -User ${delegate} -AccessRights FullAccess`);
    expect(finding?.remedy).toContain(`Add-RecipientPermission -Identity ${shared} -Trustee ${delegate} -AccessRights SendAs`);

    await endpoints.admin.grantMailboxPermission(created.id, shared, { user: delegate, accessRights: ['FullAccess'] });
    const granted = await client().diagnoseTenant({ credentialsId: '', delegatedMailboxAddresses: [shared] }, options);
    const mailboxFindings = granted.diagnosis?.findings.filter((each) => each.details['mailbox'] === shared) ?? [];
    expect(mailboxFindings).toEqual([
      expect.objectContaining({
        check: DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS,
        outcome: CheckOutcome.CHECK_OUTCOME_PASSED,
      }),
      expect.objectContaining({
        check: DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_SEND_ACCESS,
        outcome: CheckOutcome.CHECK_OUTCOME_SKIPPED,
      }),
    ]);
    expect(mailboxFindings[1]?.message).toContain(
      `Add-RecipientPermission -Identity ${shared} -Trustee ${delegate} -AccessRights SendAs`,
    );
    expect(granted.diagnosis?.result).toBe(DiagnosisResult.DIAGNOSIS_RESULT_HEALTHY);
  });

  it('refuses more than 50 mailboxes or a malformed address, naming the field', async () => {
    const dir = await directory(['Mail.ReadWrite']);
    const tenant = tenants[next++] ?? '';
    const options = { metadata: Metadata({ authorization: `Bearer ${keys.get(tenant) ?? ''}` }) };
    const tooMany = await client()
      .diagnoseTenant(
        { credentialsId: '', mailboxAddresses: Array.from({ length: 51 }, (_, i) => `m${i}@${dir.domain}`) },
        options,
      )
      .catch((error: ClientError) => error);
    expect(tooMany).toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringContaining('mailbox_addresses') });
    const malformed = await client()
      .diagnoseTenant({ credentialsId: '', mailboxAddresses: [dir.support, 'not an address'] }, options)
      .catch((error: ClientError) => error);
    expect(malformed).toMatchObject({ code: Status.INVALID_ARGUMENT, details: expect.stringContaining('mailbox_addresses[1]') });
  });
});
