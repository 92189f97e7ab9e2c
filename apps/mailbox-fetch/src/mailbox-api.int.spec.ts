import {
  CheckOutcome,
  DiagnosisResult,
  DiagnosticCheck,
  DiagnosticCode,
  Mailbox,
  MailboxFetchServiceDefinition,
  PostProcessingAction,
  SetupStep,
} from '@mailroute/contracts';
import { createGraphMailClient, mailboxAccessAdvice } from '@mailroute/graph-mail';
import { InProcessEventBus } from '@mailroute/messaging';
import {
  createCallerAuthenticator,
  createEntraTokenVerifier,
  createGrpcClient,
  createLogger,
  hashBearerCredential,
  type GrpcServer,
} from '@mailroute/platform';
import {
  createSandboxMailTenant,
  createSandboxTokenProvider,
  randomId,
  startTestGraphSandbox,
  type SandboxMailTenant,
} from '@mailroute/testing';
import { Metadata, Status, type ClientError } from 'nice-grpc';
import { createMailboxDiagnosis } from './diagnosis/mailbox-diagnosis';
import { createMailboxFetchCore, type MailboxFetchCore } from './mailbox-fetch';
import { createServer } from './server';
import { openEmbeddedStores } from './store/mailbox-fetch.stores';

describe('MailboxFetchService over gRPC', () => {
  const logger = createLogger({ name: 'mailbox-api-test', level: 'silent' });
  const tenantA = randomId('tenant');
  const tenantB = randomId('tenant');
  const keyA = `mrk_${randomId('a')}`;
  const keyB = `mrk_${randomId('b')}`;
  const tenantRbac = randomId('tenant');
  const keyRbac = `mrk_${randomId('rbac')}`;
  const tenants = new Map<string, SandboxMailTenant>();
  let started: Awaited<ReturnType<typeof startTestGraphSandbox>>;
  let sandboxTenant: SandboxMailTenant;
  let core: MailboxFetchCore;
  let server: GrpcServer;
  let client: ReturnType<typeof createGrpcClient<typeof MailboxFetchServiceDefinition>>;
  const as = (key: string) => ({ metadata: Metadata({ authorization: `Bearer ${key}` }) });

  beforeAll(async () => {
    started = await startTestGraphSandbox();
    sandboxTenant = await createSandboxMailTenant(started.endpoints, { mailboxCount: 3 });
    tenants.set(tenantA, sandboxTenant);
    await started.endpoints.admin.createAccessPolicy(sandboxTenant.directoryId, {
      appId: sandboxTenant.clientId,
      accessRight: 'DenyAccess',
      policyScopeGroupId: `blocked@${sandboxTenant.domain}`,
      members: [sandboxTenant.mailboxes[2] ?? ''],
    });
    const graph = createGraphMailClient({ tokens: createSandboxTokenProvider(started.endpoints, tenants) });
    core = createMailboxFetchCore({
      stores: openEmbeddedStores({ path: ':memory:' }),
      graph,
      bus: new InProcessEventBus(),
      logger,
      replicaId: 'api-test',
    });
    const scopes = ['mailboxes.read', 'mailboxes.write'];
    const authenticator = createCallerAuthenticator({
      apiKeys: [
        { id: 'a', tenantId: tenantA, scopes, sha256: hashBearerCredential(keyA) },
        { id: 'b', tenantId: tenantB, scopes, sha256: hashBearerCredential(keyB) },
        { id: 'rbac', tenantId: tenantRbac, scopes, sha256: hashBearerCredential(keyRbac) },
      ],
    });
    server = createServer({
      logger,
      core,
      diagnosis: createMailboxDiagnosis({ core, graph }),
      authenticator,
      supervisorVerifier: createEntraTokenVerifier({ directories: new Map(), audience: [] }),
    });
    client = createGrpcClient(MailboxFetchServiceDefinition, `127.0.0.1:${await server.listen('127.0.0.1', 0)}`);
  });

  afterAll(async () => {
    client.close();
    await server.shutdown(1_000);
    await started.sandbox.stop();
  });

  it('rejects invalid mailboxes with INVALID_ARGUMENT naming the field', async () => {
    const cases: [object, string][] = [
      [{ mailboxId: 'Bad_Id', mailbox: { address: 'a@b.example' } }, 'mailbox_id'],
      [{ mailbox: { address: 'not an address' } }, 'mailbox.address'],
      [
        { mailbox: { address: 'a@b.example', postProcessing: { action: PostProcessingAction.POST_PROCESSING_ACTION_MOVE } } },
        'mailbox.post_processing.move_to',
      ],
      [{ mailbox: { address: 'a@b.example', pollInterval: { seconds: 1, nanos: 0 } } }, 'mailbox.poll_interval'],
      [{ mailbox: { address: 'a@b.example', initialSync: { mode: 2, backfillDays: 0 } } }, 'mailbox.initial_sync.backfill_days'],
    ];
    for (const [request, field] of cases) {
      const error = (await client.client.createMailbox(request, as(keyA)).catch((e: unknown) => e)) as ClientError;
      expect({ field, code: error.code, details: error.details }).toEqual({
        field,
        code: Status.INVALID_ARGUMENT,
        details: expect.stringContaining(field),
      });
    }
  });

  it("creates, reads, updates and lists mailboxes of the caller's tenant only", async () => {
    const created = await client.client.createMailbox(
      { mailboxId: 'support', mailbox: { address: sandboxTenant.mailboxes[0] ?? '' } },
      as(keyA),
    );
    expect(created.mailbox).toMatchObject({
      mailboxId: 'support',
      credentialsId: 'default',
      enabled: true,
      postProcessing: { action: PostProcessingAction.POST_PROCESSING_ACTION_MARK_READ },
    });
    const duplicate = (await client.client
      .createMailbox({ mailboxId: 'other', mailbox: { address: (sandboxTenant.mailboxes[0] ?? '').toUpperCase() } }, as(keyA))
      .catch((e: unknown) => e)) as ClientError;
    expect(duplicate.code).toBe(Status.ALREADY_EXISTS);
    const other = (await client.client.getMailbox({ mailboxId: 'support' }, as(keyB)).catch((e: unknown) => e)) as ClientError;
    expect(other.code).toBe(Status.NOT_FOUND);
    const updated = await client.client.updateMailbox(
      { mailboxId: 'support', mailbox: { displayName: 'Support', enabled: false }, updateMask: ['display_name', 'enabled'] },
      as(keyA),
    );
    expect(updated.mailbox).toMatchObject({ displayName: 'Support', enabled: false });
    const stale = (await client.client
      .updateMailbox(
        { mailboxId: 'support', mailbox: { displayName: 'x' }, updateMask: ['display_name'], etag: 'stale' },
        as(keyA),
      )
      .catch((e: unknown) => e)) as ClientError;
    expect(stale.code).toBe(Status.ABORTED);
    const disabledSync = (await client.client
      .syncNow({ mailboxId: 'support' }, as(keyA))
      .catch((e: unknown) => e)) as ClientError;
    expect(disabledSync.code).toBe(Status.FAILED_PRECONDITION);
    expect((await client.client.listMailboxes({}, as(keyA))).mailboxes.map((m) => m.mailboxId)).toEqual(['support']);
    expect((await client.client.listMailboxes({}, as(keyB))).mailboxes).toEqual([]);
  });

  it('refuses update_mask paths that are unknown, output only or immutable, and writes nothing (the etag stays)', async () => {
    await client.client.createMailbox(
      { mailboxId: 'masked', mailbox: { address: sandboxTenant.mailboxes[1] ?? '', displayName: 'Before' } },
      as(keyA),
    );
    const before = (await client.client.getMailbox({ mailboxId: 'masked' }, as(keyA))).mailbox;
    const paths = [
      'no_such_field',
      'etag',
      'kind',
      'mailbox_id',
      'sync_status',
      'created_at',
      'updated_at',
      'address',
      'post_processing.action',
      'display_name.x',
    ];
    for (const path of paths) {
      const error = (await client.client
        .updateMailbox(
          {
            mailboxId: 'masked',
            mailbox: { displayName: 'After', address: 'other@example.com' },
            updateMask: ['display_name', path],
          },
          as(keyA),
        )
        .catch((e: unknown) => e)) as ClientError;
      expect({ path, code: error.code, details: error.details?.startsWith('update_mask:') }).toEqual({
        path,
        code: Status.INVALID_ARGUMENT,
        details: true,
      });
    }
    const after = (await client.client.getMailbox({ mailboxId: 'masked' }, as(keyA))).mailbox;
    expect({ displayName: after?.displayName, etag: after?.etag, address: after?.address }).toEqual({
      displayName: 'Before',
      etag: before?.etag,
      address: before?.address,
    });
  });

  it('pages ListMailboxes and ListSyncStatuses with page tokens, and rejects a forged token naming the field', async () => {
    // tenant B has no mailboxes from the other tests.
    const key = keyB;
    for (const id of ['page-a', 'page-b', 'page-c'])
      await client.client.createMailbox({ mailboxId: id, mailbox: { address: `${id}@paging.example` } }, as(key));
    const first = await client.client.listMailboxes({ page: { pageSize: 2, pageToken: '' } }, as(key));
    expect(first.mailboxes.map((m) => m.mailboxId)).toEqual(['page-a', 'page-b']);
    expect(first.nextPageToken).not.toBe('');
    const second = await client.client.listMailboxes({ page: { pageSize: 2, pageToken: first.nextPageToken } }, as(key));
    expect(second.mailboxes.map((m) => m.mailboxId)).toEqual(['page-c']);
    expect(second.nextPageToken).toBe('');
    const statuses = await client.client.listSyncStatuses({ page: { pageSize: 2, pageToken: '' } }, as(key));
    expect(statuses.statuses.map((s) => s.mailboxId)).toEqual(['page-a', 'page-b']);
    const rest = await client.client.listSyncStatuses({ page: { pageSize: 2, pageToken: statuses.nextPageToken } }, as(key));
    expect(rest.statuses.map((s) => s.mailboxId)).toEqual(['page-c']);
    const forged = (await client.client
      .listMailboxes({ page: { pageSize: 2, pageToken: 'not a token!' } }, as(key))
      .catch((e: unknown) => e)) as ClientError;
    expect({ code: forged.code, details: forged.details }).toEqual({
      code: Status.INVALID_ARGUMENT,
      details: expect.stringContaining('page.page_token'),
    });
  });

  it('diagnoses a mailbox outside the application access policy in operator language', async () => {
    const response = await client.client.diagnoseMailboxAccess(
      { target: { $case: 'candidate', value: Mailbox.fromPartial({ address: sandboxTenant.mailboxes[2] ?? '' }) } },
      as(keyA),
    );
    expect(response.diagnosis?.result).toBe(DiagnosisResult.DIAGNOSIS_RESULT_FAILED);
    const failed = response.diagnosis?.findings.find((f) => f.outcome === CheckOutcome.CHECK_OUTCOME_FAILED);
    expect(failed).toMatchObject({
      check: DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS,
      code: DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_OUTSIDE_ACCESS_POLICY,
    });
    expect(failed?.message).toMatch(/application access policy/);
    const healthy = await client.client.diagnoseMailboxAccess(
      { target: { $case: 'candidate', value: Mailbox.fromPartial({ address: sandboxTenant.mailboxes[1] ?? '' }) } },
      as(keyA),
    );
    expect(healthy.diagnosis?.result).toBe(DiagnosisResult.DIAGNOSIS_RESULT_HEALTHY);
    const missing = await client.client.diagnoseMailboxAccess(
      { target: { $case: 'candidate', value: Mailbox.fromPartial({ address: `ghost@${sandboxTenant.domain}` }) } },
      as(keyA),
    );
    expect(missing.diagnosis?.findings.find((f) => f.outcome === CheckOutcome.CHECK_OUTCOME_FAILED)?.code).toBe(
      DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_NOT_FOUND,
    );
  });

  const readFailure = async (key: string, address: string) => {
    const response = await client.client.diagnoseMailboxAccess(
      { target: { $case: 'candidate', value: Mailbox.fromPartial({ address }) } },
      as(key),
    );
    expect(response.diagnosis?.result).toBe(DiagnosisResult.DIAGNOSIS_RESULT_FAILED);
    return response.diagnosis?.findings.find((f) => f.outcome === CheckOutcome.CHECK_OUTCOME_FAILED);
  };

  it('diagnoses an unlicensed user and an inactive mailbox by name, with the remedies tenant diagnose gives', async () => {
    const unlicensed = `unlicensed@${sandboxTenant.domain}`;
    const former = `former@${sandboxTenant.domain}`;
    await started.endpoints.admin.createMailbox(sandboxTenant.directoryId, { userPrincipalName: unlicensed });
    await started.endpoints.admin.setRecipient(sandboxTenant.directoryId, unlicensed, { exchangeLicensed: false });
    await started.endpoints.admin.createMailbox(sandboxTenant.directoryId, { userPrincipalName: former, mailboxEnabled: false });

    const notLicensed = await readFailure(keyA, unlicensed);
    expect(notLicensed).toMatchObject({
      check: DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_EXISTS,
      code: DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_NOT_LICENSED,
      setupStep: SetupStep.SETUP_STEP_CONFIGURE_MAILBOX,
    });
    expect(notLicensed?.message).toContain('the user holds no Exchange Online license');
    expect(notLicensed?.remedy).toContain(`Set-Mailbox ${unlicensed} -Type Shared`);
    const inactive = await readFailure(keyA, former);
    expect(inactive).toMatchObject({
      code: DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_INACTIVE,
      setupStep: SetupStep.SETUP_STEP_CONFIGURE_MAILBOX,
    });
    expect(inactive?.remedy).toContain(`Undo-SoftDeletedMailbox ${former}`);
    // The same words as auth-broker's tenant diagnose: both take them from graph-mail.
    expect(inactive?.remedy).toBe(mailboxAccessAdvice('inactive', { address: former, appId: sandboxTenant.clientId }).remedy);
  });

  it('names the application access policy exclusion with its PowerShell remedy', async () => {
    const outside = await readFailure(keyA, sandboxTenant.mailboxes[2] ?? '');
    expect(outside?.code).toBe(DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_OUTSIDE_ACCESS_POLICY);
    expect(outside?.message).toContain('"Access to OData is disabled."');
    expect(outside?.remedy).toContain(`Test-ApplicationAccessPolicy -Identity ${sandboxTenant.mailboxes[2] ?? ''}`);
  });

  it('says a mailbox outside the RBAC for Applications scope cannot be told from a missing permission, and how to tell', async () => {
    // An app with no Entra mail permission, granted Mail.ReadWrite / Mail.Send by RBAC for Applications on a scope
    // that holds box0 only: box1 gets Graph's plain 403 ErrorAccessDenied, the answer a missing permission gets.
    const rbac = await createSandboxMailTenant(started.endpoints, { mailboxCount: 2, applicationPermissions: [] });
    tenants.set(tenantRbac, rbac);
    const admin = started.endpoints.admin;
    await admin.setRecipient(rbac.directoryId, rbac.mailboxes[0] ?? '', { customAttributes: { CustomAttribute1: 'mailroute' } });
    await admin.createManagementScope(rbac.directoryId, {
      name: 'mailroute mailboxes',
      recipientRestrictionFilter: "CustomAttribute1 -eq 'mailroute'",
    });
    for (const role of ['Application Mail.ReadWrite', 'Application Mail.Send'] as const)
      await admin.assignApplicationRole(rbac.directoryId, {
        app: rbac.clientId,
        role,
        customResourceScope: 'mailroute mailboxes',
      });

    const inScope = await client.client.diagnoseMailboxAccess(
      { target: { $case: 'candidate', value: Mailbox.fromPartial({ address: rbac.mailboxes[0] ?? '' }) } },
      as(keyRbac),
    );
    expect(
      inScope.diagnosis?.findings.find((f) => f.check === DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS)?.outcome,
    ).toBe(CheckOutcome.CHECK_OUTCOME_PASSED);
    const outside = rbac.mailboxes[1] ?? '';
    const denied = await readFailure(keyRbac, outside);
    expect(denied).toMatchObject({
      check: DiagnosticCheck.DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS,
      code: DiagnosticCode.DIAGNOSTIC_CODE_MAILBOX_ACCESS_DENIED,
      setupStep: SetupStep.SETUP_STEP_SCOPE_MAILBOX_ACCESS,
      details: expect.objectContaining({ graph_error_code: 'ErrorAccessDenied', http_status: '403' }),
    });
    expect(denied?.message).toContain('an RBAC for Applications management scope leaves');
    expect(denied?.message).toContain('Graph gives both the same answer');
    expect(denied?.message).not.toContain('OData');
    expect(denied?.remedy).toContain(`mailroute tenant diagnose --mailboxes ${outside}`);
    expect(denied?.remedy).toContain(`Test-ServicePrincipalAuthorization -Identity ${rbac.clientId} -Resource ${outside}`);
    expect(denied?.remedy).toContain(`Set-Mailbox ${outside} -CustomAttribute1 mailroute`);
  });
});
