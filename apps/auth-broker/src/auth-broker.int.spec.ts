import { Writable } from 'node:stream';
import { Metadata, Status, type ClientError } from 'nice-grpc';
import { MongoClient } from 'mongodb';
import {
  AccessTokenServiceDefinition,
  AuthBrokerServiceDefinition,
  AuthorityCloud,
  CheckOutcome,
  CredentialState,
  DelegatedGrantState,
  DelegatedSignInStatus,
  DiagnosisResult,
  DiagnosticCheck,
  DiagnosticCode,
  SetupStep,
  type TenantCredentialsSpec,
} from '@mailroute/contracts';
import { createGraphSandbox, type GraphSandbox, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import {
  createCallerAuthenticator,
  createEntraTokenVerifier,
  createGrpcClient,
  createLogger,
  createSecretBox,
  hashBearerCredential,
  startMetrics,
  type GrpcServer,
  type Metrics,
} from '@mailroute/platform';
import { metricValue, parsePrometheusText, randomId, testInfra } from '@mailroute/testing';
import { createAuthBrokerCore, type AuthBrokerCore } from './auth-broker';
import { createServer } from './server';
import { openMongoStores, type AuthBrokerStores } from './store/auth-broker.stores';

/** Every test gets its own sandbox tenant and mailroute tenant; one server, database and sandbox for the file. */
describe('auth-broker over gRPC against the graph sandbox (HTTPS) and FerretDB', () => {
  const keys = { old: { id: 'k-2025', key: Buffer.alloc(32, 7) }, current: { id: 'k-2026', key: Buffer.alloc(32, 9) } };
  const serviceToken = `mrs_${randomId('svc')}`;
  const logLines: string[] = [];
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;
  let stores: AuthBrokerStores;
  let databaseName: string;
  let core: AuthBrokerCore;
  let server: GrpcServer;
  let metrics: Metrics;
  let address: string;
  const apiKeys = new Map<string, string>();
  const handles: { close(): void }[] = [];

  /** An API key for `tenant` with `scopes`, registered with the server before it starts. */
  function apiKeyFor(tenant: string, scopes = 'credentials.read+credentials.write'): string {
    const name = `${tenant}|${scopes}`;
    let key = apiKeys.get(name);
    if (!key) {
      key = `mrk_${randomId('key')}`;
      apiKeys.set(name, key);
    }
    return key;
  }
  const tenants = Array.from({ length: 25 }, (_, i) => `tenant-${i}-${randomId('t')}`);
  let nextTenant = 0;
  const newTenant = () => tenants[nextTenant++] ?? '';
  for (const tenant of tenants) apiKeyFor(tenant);
  const readOnlyTenant = tenants[0] ?? '';
  apiKeyFor(readOnlyTenant, 'credentials.read');

  const bearer = (token: string) => ({ metadata: Metadata({ authorization: `Bearer ${token}` }) });
  const asTenant = (tenant: string) => bearer(apiKeyFor(tenant));
  const asService = () => bearer(serviceToken);

  function brokerClient() {
    const handle = createGrpcClient(AuthBrokerServiceDefinition, address, { deadlineMs: 60_000 });
    handles.push(handle);
    return handle.client;
  }
  function tokenClient() {
    const handle = createGrpcClient(AccessTokenServiceDefinition, address, { deadlineMs: 60_000 });
    handles.push(handle);
    return handle.client;
  }

  beforeAll(async () => {
    sandbox = createGraphSandbox({ trustCaInProcess: true, deviceCodeIntervalSeconds: 1 });
    endpoints = await sandbox.start();
    databaseName = randomId('auth-broker');
    stores = await openMongoStores({ url: testInfra().mongoUrl, database: databaseName });
    const logger = createLogger({
      name: 'auth-broker',
      level: 'debug',
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          logLines.push(...chunk.toString().split('\n').filter(Boolean));
          done();
        },
      }),
    });
    metrics = await startMetrics({ serviceName: 'auth-broker', port: 0 });
    core = createAuthBrokerCore({
      stores,
      secretBox: createSecretBox({ keys: [keys.current, keys.old], activeKeyId: keys.current.id }),
      logger,
      clock,
      meter: metrics.meter,
      allowedCloudOrigins: [endpoints.baseUrl],
      options: { credentialsCacheMs: 0, metricsScanIntervalMs: 3_600_000 },
    });
    const authenticator = createCallerAuthenticator({
      apiKeys: [...apiKeys].map(([name, key], index) => {
        const [tenantId = '', scopes = ''] = name.split('|');
        return { id: `key-${index}`, tenantId, scopes: scopes.split('+'), sha256: hashBearerCredential(key) };
      }),
      serviceTokens: [{ service: 'mailbox-fetch', sha256: hashBearerCredential(serviceToken) }],
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
    await metrics?.shutdown();
    const client = await MongoClient.connect(testInfra().mongoUrl);
    await client.db(databaseName).dropDatabase();
    await client.close();
    await stores?.close();
    await sandbox?.stop();
  });

  afterEach(() => {
    offsetMs = 0;
  });

  /** A sandbox directory with an app (Mail.ReadWrite + Mail.Send consented unless told otherwise) and a secret. */
  async function sandboxApp(
    app: Parameters<GraphSandboxEndpoints['admin']['createApp']>[1] = {},
    secret: { expiresInSeconds?: number } = {},
  ) {
    const suffix = randomId('d');
    const directory = await endpoints.admin.createTenant({ displayName: suffix, domain: `${suffix}.example` });
    const created = await endpoints.admin.createApp(directory.id, {
      displayName: 'mailroute',
      applicationPermissions: ['Mail.ReadWrite', 'Mail.Send'],
      ...app,
    });
    const added = await endpoints.admin.addSecret(directory.id, created.clientId, secret);
    const mailbox = `support@${directory.domains[0] ?? ''}`;
    await endpoints.admin.createMailbox(directory.id, { userPrincipalName: mailbox, displayName: 'Support' });
    return { directoryId: directory.id, clientId: created.clientId, secret: added.secretText, mailbox };
  }

  function secretSpec(
    app: { directoryId: string; clientId: string; secret: string },
    expiresInDays = 365,
  ): TenantCredentialsSpec {
    return {
      displayName: 'Contoso production',
      directoryId: app.directoryId,
      clientId: app.clientId,
      cloud: AuthorityCloud.AUTHORITY_CLOUD_CUSTOM,
      authorityHost: endpoints.baseUrl,
      graphEndpoint: endpoints.baseUrl,
      credential: {
        $case: 'clientSecret',
        value: { value: app.secret, expiresAt: new Date(Date.now() + expiresInDays * 86_400_000) },
      },
    };
  }

  async function caughtCall(action: () => Promise<unknown>): Promise<{ error: ClientError; trailer: Record<string, string> }> {
    const trailer: Record<string, string> = {};
    try {
      await action();
    } catch (error) {
      return { error: error as ClientError, trailer };
    }
    throw new Error('expected the call to fail');
  }

  /** Runs a call capturing its trailers (mailroute-error-code, retry-after-ms). */
  async function callWithTrailers<T>(
    call: (options: { metadata: Metadata; onTrailer: (trailer: Metadata) => void }) => Promise<T>,
    metadata: Metadata,
  ) {
    const trailer: Record<string, string> = {};
    const onTrailer = (received: Metadata) => {
      for (const [name, values] of received) trailer[name] = String(values[0] ?? '');
    };
    try {
      return { result: await call({ metadata, onTrailer }), trailer, error: undefined };
    } catch (error) {
      return { result: undefined, trailer, error: error as ClientError };
    }
  }

  async function stats(directoryId: string) {
    return endpoints.admin.stats(directoryId);
  }

  it('issues an app-only token with a client secret, and serves 200 concurrent callers from one Entra request', async () => {
    const tenant = newTenant();
    const app = await sandboxApp();
    const created = await brokerClient().createTenantCredentials({ credentialsId: '', spec: secretSpec(app) }, asTenant(tenant));
    expect(created.credentials).toMatchObject({
      credentialsId: 'default',
      state: CredentialState.CREDENTIAL_STATE_UNVERIFIED,
      encryptionKeyId: keys.current.id,
    });

    const tokens = tokenClient();
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        tokens.getAccessToken(
          { tenantId: tenant, principal: { $case: 'appOnly', value: { credentialsId: '' } }, forceRefresh: false },
          asService(),
        ),
      ),
    );
    expect(new Set(results.map((result) => result.accessToken)).size).toBe(1);
    expect(results[0]).toMatchObject({ tokenType: 'Bearer', graphEndpoint: endpoints.baseUrl, directoryId: app.directoryId });
    expect(results[0]?.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
    const claims = JSON.parse(Buffer.from(results[0]?.accessToken.split('.')[1] ?? '', 'base64url').toString()) as {
      roles: string[];
      appid: string;
    };
    expect(claims.roles).toEqual(expect.arrayContaining(['Mail.ReadWrite', 'Mail.Send']));
    expect((await stats(app.directoryId)).tokenRequests).toBe(1);
    // As metrics: 200 calls served, one of them from Entra ID, the rest from the token caches.
    const scraped = parsePrometheusText(await (await fetch(`http://127.0.0.1:${metrics.port}/metrics`)).text());
    expect(metricValue(scraped, 'mailroute_auth_token_requests_total', { tenant, principal: 'app_only', outcome: 'ok' })).toBe(
      200,
    );
    expect(metricValue(scraped, 'mailroute_auth_entra_token_requests_total', { tenant, outcome: 'success' })).toBe(1);

    const read = await brokerClient().getTenantCredentials({ credentialsId: 'default' }, asTenant(tenant));
    expect(read.credentials).toMatchObject({ state: CredentialState.CREDENTIAL_STATE_VALID, daysUntilExpiry: 364 });
    expect(read.credentials?.lastTokenAt).toBeInstanceOf(Date);
  });

  it('issues an app-only token with a certificate (client assertion)', async () => {
    const tenant = newTenant();
    const app = await sandboxApp();
    const certificate = await endpoints.admin.addCertificate(app.directoryId, app.clientId, {});
    const spec: TenantCredentialsSpec = {
      ...secretSpec(app),
      credential: {
        $case: 'certificate',
        value: {
          privateKeyPem: certificate.privateKeyPem ?? '',
          certificatePem: certificate.certificatePem ?? '',
          sendCertificateChain: false,
        },
      },
    };
    const created = await brokerClient().createTenantCredentials({ credentialsId: 'cert', spec }, asTenant(tenant));
    expect(created.credentials?.credential).toMatchObject({
      $case: 'certificate',
      value: { hasPrivateKey: true, thumbprintSha256: certificate.thumbprintSha256.toUpperCase() },
    });
    const token = await tokenClient().getAccessToken(
      { tenantId: tenant, principal: { $case: 'appOnly', value: { credentialsId: 'cert' } }, forceRefresh: false },
      asService(),
    );
    const claims = JSON.parse(Buffer.from(token.accessToken.split('.')[1] ?? '', 'base64url').toString()) as { appid: string };
    expect(claims.appid).toBe(app.clientId);
    expect((await stats(app.directoryId)).tokenRequests).toBe(1);
  });

  describe('diagnosis, in operator language with the setup step that fixes it', () => {
    async function diagnose(spec: TenantCredentialsSpec | undefined) {
      const tenant = newTenant();
      if (spec) await brokerClient().createTenantCredentials({ credentialsId: '', spec }, asTenant(tenant));
      const response = await brokerClient().diagnoseTenant({ credentialsId: '' }, asTenant(tenant));
      const diagnosis = response.diagnosis;
      if (!diagnosis) throw new Error('expected a diagnosis');
      const failed = diagnosis.findings.find((finding) => finding.outcome === CheckOutcome.CHECK_OUTCOME_FAILED);
      return { tenant, diagnosis, failed };
    }

    it('finds nothing wrong with a properly set-up app', async () => {
      const { diagnosis, failed } = await diagnose(secretSpec(await sandboxApp()));
      expect(failed).toBeUndefined();
      expect(diagnosis.result).toBe(DiagnosisResult.DIAGNOSIS_RESULT_HEALTHY);
      expect(diagnosis.findings.map((finding) => finding.check)).toEqual([
        DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIALS_CONFIGURED,
        DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_EXPIRY,
        DiagnosticCheck.DIAGNOSTIC_CHECK_AUTHORITY_REACHABLE,
        DiagnosticCheck.DIAGNOSTIC_CHECK_TENANT_EXISTS,
        DiagnosticCheck.DIAGNOSTIC_CHECK_APP_REGISTERED,
        DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_ACCEPTED,
        DiagnosticCheck.DIAGNOSTIC_CHECK_TOKEN_ACQUIRED,
        DiagnosticCheck.DIAGNOSTIC_CHECK_ADMIN_CONSENT,
        DiagnosticCheck.DIAGNOSTIC_CHECK_PERMISSION_MAIL_READ_WRITE,
        DiagnosticCheck.DIAGNOSTIC_CHECK_PERMISSION_MAIL_SEND,
      ]);
    });

    it('says when no credentials are configured', async () => {
      const { failed } = await diagnose(undefined);
      expect(failed).toMatchObject({
        code: DiagnosticCode.DIAGNOSTIC_CODE_CREDENTIALS_NOT_FOUND,
        setupStep: SetupStep.SETUP_STEP_ENTER_CREDENTIALS,
      });
    });

    const cases: Array<[string, () => Promise<TenantCredentialsSpec>, DiagnosticCheck, DiagnosticCode, SetupStep, RegExp]> = [
      [
        'an unknown tenant (directory)',
        async () => ({ ...secretSpec(await sandboxApp()), directoryId: '0b7e1a2c-0000-4000-8000-000000000000' }),
        DiagnosticCheck.DIAGNOSTIC_CHECK_TENANT_EXISTS,
        DiagnosticCode.DIAGNOSTIC_CODE_TENANT_NOT_FOUND,
        SetupStep.SETUP_STEP_ENTER_CREDENTIALS,
        /does not know the directory/,
      ],
      [
        'an unknown app',
        async () => ({ ...secretSpec(await sandboxApp()), clientId: '0b7e1a2c-1111-4000-8000-000000000000' }),
        DiagnosticCheck.DIAGNOSTIC_CHECK_APP_REGISTERED,
        DiagnosticCode.DIAGNOSTIC_CODE_APP_NOT_FOUND,
        SetupStep.SETUP_STEP_REGISTER_APP,
        /not an app registered/,
      ],
      [
        'a wrong secret (the secret ID pasted instead of its value)',
        async () => secretSpec({ ...(await sandboxApp()), secret: 'f3a9c1d2-5e6f-4a1b-9c8d-7e6f5a4b3c2d' }),
        DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_ACCEPTED,
        DiagnosticCode.DIAGNOSTIC_CODE_SECRET_INVALID,
        SetupStep.SETUP_STEP_ENTER_CREDENTIALS,
        /ID was entered instead of its Value/,
      ],
      [
        'a secret Entra ID says has expired',
        async () => secretSpec(await sandboxApp({}, { expiresInSeconds: -60 })),
        DiagnosticCheck.DIAGNOSTIC_CHECK_CREDENTIAL_ACCEPTED,
        DiagnosticCode.DIAGNOSTIC_CODE_SECRET_EXPIRED,
        SetupStep.SETUP_STEP_ADD_APP_CREDENTIAL,
        /expired/,
      ],
      [
        'missing admin consent',
        async () => secretSpec(await sandboxApp({ grantAdminConsent: false })),
        DiagnosticCheck.DIAGNOSTIC_CHECK_ADMIN_CONSENT,
        DiagnosticCode.DIAGNOSTIC_CODE_ADMIN_CONSENT_MISSING,
        SetupStep.SETUP_STEP_GRANT_ADMIN_CONSENT,
        /consent/,
      ],
      [
        'Mail.ReadWrite not granted',
        async () => secretSpec(await sandboxApp({ applicationPermissions: ['Mail.Send'] })),
        DiagnosticCheck.DIAGNOSTIC_CHECK_PERMISSION_MAIL_READ_WRITE,
        DiagnosticCode.DIAGNOSTIC_CODE_MAIL_READ_WRITE_NOT_GRANTED,
        SetupStep.SETUP_STEP_GRANT_API_PERMISSIONS,
        /Mail\.ReadWrite/,
      ],
      [
        'Mail.Send not granted',
        async () => secretSpec(await sandboxApp({ applicationPermissions: ['Mail.ReadWrite'] })),
        DiagnosticCheck.DIAGNOSTIC_CHECK_PERMISSION_MAIL_SEND,
        DiagnosticCode.DIAGNOSTIC_CODE_MAIL_SEND_NOT_GRANTED,
        SetupStep.SETUP_STEP_GRANT_API_PERMISSIONS,
        /Mail\.Send/,
      ],
    ];

    it.each(cases)('diagnoses %s and names the step that fixes it', async (_name, spec, check, code, step, message) => {
      const { diagnosis, failed } = await diagnose(await spec());
      expect(diagnosis.result).toBe(DiagnosisResult.DIAGNOSIS_RESULT_FAILED);
      expect(failed).toMatchObject({ check, code, setupStep: step });
      expect(failed?.message).toMatch(message);
      expect(failed?.remedy).toMatch(/^Setup step "/);
    });

    it('marks rejected credentials REJECTED with the finding as last failure', async () => {
      const { tenant } = await diagnose(secretSpec({ ...(await sandboxApp()), secret: 'wrong-secret-value' }));
      const read = await brokerClient().getTenantCredentials({ credentialsId: '' }, asTenant(tenant));
      expect(read.credentials).toMatchObject({
        state: CredentialState.CREDENTIAL_STATE_REJECTED,
        lastFailure: { code: DiagnosticCode.DIAGNOSTIC_CODE_SECRET_INVALID },
      });
    });
  });

  it('shows an expiring secret in the API and as metrics before it expires, and as EXPIRED after', async () => {
    const tenant = newTenant();
    const app = await sandboxApp();
    await brokerClient().createTenantCredentials({ credentialsId: '', spec: secretSpec(app, 10) }, asTenant(tenant));
    await tokenClient().getAccessToken(
      { tenantId: tenant, principal: { $case: 'appOnly', value: { credentialsId: '' } }, forceRefresh: false },
      asService(),
    );

    const before = await brokerClient().getTenantCredentials({ credentialsId: '' }, asTenant(tenant));
    expect(before.credentials).toMatchObject({ state: CredentialState.CREDENTIAL_STATE_EXPIRING_SOON, daysUntilExpiry: 9 });
    const warned = await brokerClient().diagnoseTenant({ credentialsId: '' }, asTenant(tenant));
    expect(warned.diagnosis?.result).toBe(DiagnosisResult.DIAGNOSIS_RESULT_WARNING);
    expect(warned.diagnosis?.findings[1]).toMatchObject({
      outcome: CheckOutcome.CHECK_OUTCOME_WARNING,
      code: DiagnosticCode.DIAGNOSTIC_CODE_SECRET_EXPIRING_SOON,
      details: { days_until_expiry: '9' },
    });
    await core.metrics?.refresh();
    const scraped = await (await fetch(`http://127.0.0.1:${metrics.port}/metrics`)).text();
    expect(scraped).toMatch(new RegExp(`mailroute_auth_credential_days_until_expiry\\{[^}]*tenant="${tenant}"[^}]*\\} 9`));
    expect(scraped).toMatch(new RegExp(`mailroute_auth_credential_expiry_warning\\{[^}]*tenant="${tenant}"[^}]*\\} 1`));
    expect(scraped).toMatch(
      new RegExp(`mailroute_auth_credential_state\\{[^}]*tenant="${tenant}"[^}]*state="expiring_soon"[^}]*\\} 1`),
    );
    expect(scraped).toMatch(/mailroute_auth_entra_token_requests_total\{[^}]*outcome="success"/);

    offsetMs = 11 * 86_400_000;
    const after = await brokerClient().getTenantCredentials({ credentialsId: '' }, asTenant(tenant));
    expect(after.credentials).toMatchObject({ state: CredentialState.CREDENTIAL_STATE_EXPIRED, daysUntilExpiry: -2 });
    const call = await callWithTrailers(
      (options) =>
        tokenClient().getAccessToken(
          { tenantId: tenant, principal: { $case: 'appOnly', value: { credentialsId: '' } }, forceRefresh: false },
          options,
        ),
      Metadata({ authorization: `Bearer ${serviceToken}` }),
    );
    expect(call.error?.code).toBe(Status.FAILED_PRECONDITION);
    expect(call.error?.details).toMatch(/has expired.*create a new client secret/);
    expect(call.trailer['mailroute-error-code']).toBe('DIAGNOSTIC_CODE_SECRET_EXPIRED');
    const failures = parsePrometheusText(await (await fetch(`http://127.0.0.1:${metrics.port}/metrics`)).text());
    expect(
      metricValue(failures, 'mailroute_auth_token_requests_total', {
        tenant,
        principal: 'app_only',
        outcome: 'failed_precondition',
      }),
    ).toBe(1);
    await core.metrics?.refresh();
    const later = await (await fetch(`http://127.0.0.1:${metrics.port}/metrics`)).text();
    expect(later).toMatch(new RegExp(`mailroute_auth_credential_state\\{[^}]*tenant="${tenant}"[^}]*state="expired"[^}]*\\} 1`));
  });

  it('answers configuration problems with FAILED_PRECONDITION (fix in the message) and Entra outages with UNAVAILABLE and retry-after-ms', async () => {
    const tenant = newTenant();
    const app = await sandboxApp();
    await brokerClient().createTenantCredentials(
      { credentialsId: 'wrong', spec: secretSpec({ ...app, secret: 'not-the-secret' }) },
      asTenant(tenant),
    );
    const metadata = Metadata({ authorization: `Bearer ${serviceToken}` });
    const wrong = await callWithTrailers(
      (options) =>
        tokenClient().getAccessToken(
          { tenantId: tenant, principal: { $case: 'appOnly', value: { credentialsId: 'wrong' } }, forceRefresh: false },
          options,
        ),
      metadata,
    );
    expect(wrong.error?.code).toBe(Status.FAILED_PRECONDITION);
    expect(wrong.error?.details).toMatch(/rejected the client secret.*Setup step "Enter credentials"/);
    expect(wrong.trailer['mailroute-error-code']).toBe('DIAGNOSTIC_CODE_SECRET_INVALID');

    const missing = await callWithTrailers(
      (options) =>
        tokenClient().getAccessToken(
          { tenantId: tenant, principal: { $case: 'appOnly', value: { credentialsId: 'nope' } }, forceRefresh: false },
          options,
        ),
      metadata,
    );
    expect(missing.error?.code).toBe(Status.FAILED_PRECONDITION);
    expect(missing.trailer['mailroute-error-code']).toBe('DIAGNOSTIC_CODE_CREDENTIALS_NOT_FOUND');

    await brokerClient().createTenantCredentials({ credentialsId: 'flaky', spec: secretSpec(app) }, asTenant(tenant));
    const fault = await endpoints.admin.addFault({
      tenantId: app.directoryId,
      endpoint: 'entra.token',
      status: 503,
      retryAfterSeconds: 7,
      times: 1,
    });
    const outage = await callWithTrailers(
      (options) =>
        tokenClient().getAccessToken(
          { tenantId: tenant, principal: { $case: 'appOnly', value: { credentialsId: 'flaky' } }, forceRefresh: false },
          options,
        ),
      metadata,
    );
    await endpoints.admin.removeFault(fault.id).catch(() => undefined);
    expect(outage.error?.code).toBe(Status.UNAVAILABLE);
    expect(outage.trailer['retry-after-ms']).toBe('7000');
    expect(outage.trailer['mailroute-error-code']).toBe('DIAGNOSTIC_CODE_TRANSIENT_ERROR');
    const read = await brokerClient().getTenantCredentials({ credentialsId: 'flaky' }, asTenant(tenant));
    expect(read.credentials?.state).toBe(CredentialState.CREDENTIAL_STATE_UNVERIFIED);
  });

  it('never returns, logs or stores a secret, private key or token in clear text', async () => {
    const tenant = newTenant();
    const app = await sandboxApp();
    const certificate = await endpoints.admin.addCertificate(app.directoryId, app.clientId, {});
    const client = brokerClient();
    const responses: unknown[] = [];
    responses.push(await client.createTenantCredentials({ credentialsId: 'default', spec: secretSpec(app) }, asTenant(tenant)));
    const certSpec: TenantCredentialsSpec = {
      ...secretSpec(app),
      credential: {
        $case: 'certificate',
        value: {
          privateKeyPem: certificate.privateKeyPem ?? '',
          certificatePem: certificate.certificatePem ?? '',
          sendCertificateChain: false,
        },
      },
    };
    responses.push(await client.createTenantCredentials({ credentialsId: 'cert', spec: certSpec }, asTenant(tenant)));
    responses.push(await client.getTenantCredentials({ credentialsId: 'default' }, asTenant(tenant)));
    responses.push(await client.listTenantCredentials({ state: CredentialState.CREDENTIAL_STATE_UNSPECIFIED }, asTenant(tenant)));
    responses.push(await client.diagnoseTenant({ credentialsId: 'default' }, asTenant(tenant)));
    const token = await tokenClient().getAccessToken(
      { tenantId: tenant, principal: { $case: 'appOnly', value: { credentialsId: '' } }, forceRefresh: false },
      asService(),
    );
    await tokenClient().getAccessToken(
      { tenantId: tenant, principal: { $case: 'appOnly', value: { credentialsId: 'cert' } }, forceRefresh: false },
      asService(),
    );
    responses.push(
      await client.updateTenantCredentials(
        { credentialsId: 'default', spec: secretSpec(app), updateMask: ['client_secret'], etag: '' },
        asTenant(tenant),
      ),
    );
    // A failing acquisition logs too: make one.
    await client.createTenantCredentials(
      { credentialsId: 'bad', spec: secretSpec({ ...app, secret: `${app.secret}x` }) },
      asTenant(tenant),
    );
    await tokenClient()
      .getAccessToken(
        { tenantId: tenant, principal: { $case: 'appOnly', value: { credentialsId: 'bad' } }, forceRefresh: false },
        asService(),
      )
      .catch(() => undefined);

    const keyBody = (certificate.privateKeyPem ?? '').split('\n').filter((line) => line.length > 40)[1] ?? 'missing';
    const needles = [app.secret, keyBody, token.accessToken.split('.')[2] ?? 'missing'];
    const apiText = JSON.stringify(responses);
    const logText = logLines.join('\n');
    const mongo = await MongoClient.connect(testInfra().mongoUrl);
    let storedText = '';
    try {
      const db = mongo.db(databaseName);
      for (const collection of await db.listCollections().toArray())
        storedText += JSON.stringify(await db.collection(collection.name).find({}).toArray());
    } finally {
      await mongo.close();
    }
    expect(storedText).toContain('aes-256-gcm');
    expect(logText).toContain('auth-broker: Entra ID refused an app-only token');
    for (const needle of needles) {
      expect(needle.length).toBeGreaterThan(20);
      expect(apiText).not.toContain(needle);
      expect(logText).not.toContain(needle);
      expect(storedText).not.toContain(needle);
    }
    expect(storedText).not.toContain('BEGIN PRIVATE KEY');
  });

  it('opens secrets sealed with an older key of the ring and seals new ones with the active key', async () => {
    const tenant = newTenant();
    const app = await sandboxApp();
    const oldCore = createAuthBrokerCore({
      stores,
      secretBox: createSecretBox({ keys: [keys.old], activeKeyId: keys.old.id }),
      logger: createLogger({ name: 'old', level: 'silent' }),
    });
    const before = await brokerClient().createTenantCredentials(
      { credentialsId: 'rotating', spec: secretSpec(app) },
      asTenant(tenant),
    );
    expect(before.credentials?.encryptionKeyId).toBe(keys.current.id);
    // Re-seal the secret with the old key as an earlier deployment would have.
    const record = await stores.credentials.get(tenant, 'rotating');
    if (record?.credential.kind !== 'client-secret') throw new Error('expected a secret');
    const sealed = oldCore.secretBox.seal(app.secret, `credentials/${tenant}/rotating/client-secret`);
    await stores.credentials.replace({ ...record, credential: { ...record.credential, secret: sealed } }, new Date());
    await oldCore.close();
    const read = await brokerClient().getTenantCredentials({ credentialsId: 'rotating' }, asTenant(tenant));
    expect(read.credentials?.encryptionKeyId).toBe(keys.old.id);
    await expect(
      tokenClient().getAccessToken(
        { tenantId: tenant, principal: { $case: 'appOnly', value: { credentialsId: 'rotating' } }, forceRefresh: false },
        asService(),
      ),
    ).resolves.toMatchObject({ tokenType: 'Bearer' });
    const rotated = await brokerClient().updateTenantCredentials(
      { credentialsId: 'rotating', spec: secretSpec(app), updateMask: ['client_secret'], etag: read.credentials?.etag ?? '' },
      asTenant(tenant),
    );
    expect(rotated.credentials?.encryptionKeyId).toBe(keys.current.id);
  });

  it('keeps tenants apart on every AuthBrokerService call', async () => {
    const [a, b] = [newTenant(), newTenant()];
    const app = await sandboxApp({ delegatedPermissions: ['Mail.ReadWrite', 'Mail.Send'], allowPublicClient: true });
    const client = brokerClient();
    const created = await client.createTenantCredentials({ credentialsId: 'default', spec: secretSpec(app) }, asTenant(a));
    const etag = created.credentials?.etag ?? '';
    const started = await client.startDelegatedSignIn({ mailboxAddress: app.mailbox, credentialsId: '' }, asTenant(a));
    await endpoints.admin.approveDeviceCode(started.userCode, app.mailbox);
    await client.completeDelegatedSignIn({ signInId: started.signInId, wait: { seconds: 20, nanos: 0 } }, asTenant(a));

    const notFound = async (action: () => Promise<unknown>) =>
      expect((await caughtCall(action)).error.code).toBe(Status.NOT_FOUND);
    await notFound(() => client.getTenantCredentials({ credentialsId: 'default' }, asTenant(b)));
    await notFound(() =>
      client.updateTenantCredentials(
        {
          credentialsId: 'default',
          spec: { ...secretSpec(app), displayName: 'hijacked' },
          updateMask: ['display_name'],
          etag: '',
        },
        asTenant(b),
      ),
    );
    await notFound(() => client.deleteTenantCredentials({ credentialsId: 'default', etag: '' }, asTenant(b)));
    await notFound(() => client.deleteTenantCredentials({ credentialsId: 'default', etag }, asTenant(b)));
    await notFound(() => client.getDelegatedGrant({ mailboxAddress: app.mailbox }, asTenant(b)));
    await notFound(() => client.deleteDelegatedGrant({ mailboxAddress: app.mailbox }, asTenant(b)));
    await notFound(() => client.completeDelegatedSignIn({ signInId: started.signInId }, asTenant(b)));
    expect((await client.listTenantCredentials({ state: 0 }, asTenant(b))).credentials).toEqual([]);
    expect((await client.listDelegatedGrants({ state: 0, credentialsId: '' }, asTenant(b))).grants).toEqual([]);
    const diagnosis = await client.diagnoseTenant({ credentialsId: 'default' }, asTenant(b));
    expect(diagnosis.diagnosis?.findings[0]?.code).toBe(DiagnosticCode.DIAGNOSTIC_CODE_CREDENTIALS_NOT_FOUND);
    const signIn = await caughtCall(() =>
      client.startDelegatedSignIn({ mailboxAddress: app.mailbox, credentialsId: '' }, asTenant(b)),
    );
    expect(signIn.error.code).toBe(Status.FAILED_PRECONDITION);

    // Tenant A's data is untouched.
    expect((await client.getTenantCredentials({ credentialsId: 'default' }, asTenant(a))).credentials?.displayName).toBe(
      'Contoso production',
    );
    expect((await client.getDelegatedGrant({ mailboxAddress: app.mailbox }, asTenant(a))).grant?.state).toBe(
      DelegatedGrantState.DELEGATED_GRANT_STATE_ACTIVE,
    );
  });

  it('refuses callers without a credential, workload-manager keys on AccessTokenService, services on AuthBrokerService, and missing scopes', async () => {
    const tenant = newTenant();
    const request = {
      tenantId: tenant,
      principal: { $case: 'appOnly' as const, value: { credentialsId: '' } },
      forceRefresh: false,
    };
    expect((await caughtCall(() => tokenClient().getAccessToken(request))).error.code).toBe(Status.UNAUTHENTICATED);
    expect((await caughtCall(() => tokenClient().getAccessToken(request, bearer('mrs_forged-token')))).error.code).toBe(
      Status.UNAUTHENTICATED,
    );
    expect((await caughtCall(() => tokenClient().getAccessToken(request, asTenant(tenant)))).error.code).toBe(
      Status.PERMISSION_DENIED,
    );
    expect((await caughtCall(() => brokerClient().listTenantCredentials({ state: 0 }, asService()))).error.code).toBe(
      Status.PERMISSION_DENIED,
    );
    const readOnly = bearer(apiKeyFor(readOnlyTenant, 'credentials.read'));
    await expect(brokerClient().listTenantCredentials({ state: 0 }, readOnly)).resolves.toBeDefined();
    const refused = await caughtCall(() =>
      brokerClient().createTenantCredentials(
        {
          credentialsId: 'x',
          spec: secretSpec({ directoryId: 'contoso.example', clientId: '0b7e1a2c-1111-4000-8000-000000000000', secret: 's' }),
        },
        readOnly,
      ),
    );
    expect(refused.error.code).toBe(Status.PERMISSION_DENIED);
  });

  it('names the offending field of malformed requests', async () => {
    const tenant = newTenant();
    const app = await sandboxApp();
    const client = brokerClient();
    const invalid = async (spec: TenantCredentialsSpec, field: string, credentialsId = '') => {
      const { error } = await caughtCall(() => client.createTenantCredentials({ credentialsId, spec }, asTenant(tenant)));
      expect(error.code).toBe(Status.INVALID_ARGUMENT);
      expect(error.details.startsWith(field)).toBe(true);
    };
    await invalid({ ...secretSpec(app), directoryId: 'common' }, 'spec.directory_id');
    await invalid({ ...secretSpec(app), clientId: 'my-app' }, 'spec.client_id');
    await invalid({ ...secretSpec(app), authorityHost: 'http://127.0.0.1:1' }, 'spec.authority_host');
    await invalid({ ...secretSpec(app), cloud: AuthorityCloud.AUTHORITY_CLOUD_GLOBAL }, 'spec.authority_host');
    await invalid(
      {
        ...secretSpec(app),
        credential: { $case: 'clientSecret', value: { value: 'abc', expiresAt: new Date(Date.now() - 1000) } },
      },
      'spec.client_secret.expires_at',
    );
    await invalid(
      {
        ...secretSpec(app),
        credential: {
          $case: 'certificate',
          value: { privateKeyPem: 'nope', certificatePem: 'nope', sendCertificateChain: false },
        },
      },
      'spec.certificate.private_key_pem',
    );
    await invalid({ ...secretSpec(app), credential: undefined }, 'spec.client_secret');
    await invalid(secretSpec(app), 'credentials_id', 'Bad_Id');
    const { error } = await caughtCall(() =>
      tokenClient().getAccessToken(
        {
          tenantId: tenant,
          principal: { $case: 'appOnly', value: { credentialsId: '' } },
          minValidity: { seconds: 5, nanos: 0 },
          forceRefresh: false,
        },
        asService(),
      ),
    );
    expect(error.details).toMatch(/^min_validity/);
  });

  it('updates with an etag, refuses a stale one with ABORTED, and drops cached tokens when the secret changes', async () => {
    const tenant = newTenant();
    const app = await sandboxApp();
    const client = brokerClient();
    const created = await client.createTenantCredentials({ credentialsId: '', spec: secretSpec(app) }, asTenant(tenant));
    const request = {
      tenantId: tenant,
      principal: { $case: 'appOnly' as const, value: { credentialsId: '' } },
      forceRefresh: false,
    };
    await tokenClient().getAccessToken(request, asService());
    const renamed = await client.updateTenantCredentials(
      {
        credentialsId: '',
        spec: { ...secretSpec(app), displayName: 'Renamed' },
        updateMask: ['display_name'],
        etag: created.credentials?.etag ?? '',
      },
      asTenant(tenant),
    );
    expect(renamed.credentials).toMatchObject({ displayName: 'Renamed', state: CredentialState.CREDENTIAL_STATE_VALID });
    const stale = await caughtCall(() =>
      client.updateTenantCredentials(
        { credentialsId: '', spec: secretSpec(app), updateMask: ['display_name'], etag: created.credentials?.etag ?? '' },
        asTenant(tenant),
      ),
    );
    expect(stale.error.code).toBe(Status.ABORTED);
    await tokenClient().getAccessToken(request, asService());
    expect((await stats(app.directoryId)).tokenRequests).toBe(1);
    const second = await endpoints.admin.addSecret(app.directoryId, app.clientId);
    const rotated = await client.updateTenantCredentials(
      { credentialsId: '', spec: secretSpec({ ...app, secret: second.secretText }), updateMask: ['client_secret'], etag: '' },
      asTenant(tenant),
    );
    expect(rotated.credentials?.state).toBe(CredentialState.CREDENTIAL_STATE_UNVERIFIED);
    await tokenClient().getAccessToken(request, asService());
    expect((await stats(app.directoryId)).tokenRequests).toBe(2);
    await client.deleteTenantCredentials({ credentialsId: 'default', etag: rotated.credentials?.etag ?? '' }, asTenant(tenant));
    expect((await caughtCall(() => tokenClient().getAccessToken(request, asService()))).error.code).toBe(
      Status.FAILED_PRECONDITION,
    );
  });

  it('signs a delegated mailbox in with a device code, refreshes it with a rotated refresh token, and reports a revoked grant', async () => {
    const tenant = newTenant();
    const app = await sandboxApp({
      applicationPermissions: [],
      delegatedPermissions: ['User.Read', 'Mail.ReadWrite', 'Mail.Send'],
      allowPublicClient: true,
    });
    const client = brokerClient();
    await client.createTenantCredentials({ credentialsId: '', spec: secretSpec(app) }, asTenant(tenant));
    const started = await client.startDelegatedSignIn(
      { mailboxAddress: app.mailbox.toUpperCase(), credentialsId: '' },
      asTenant(tenant),
    );
    expect(started).toMatchObject({
      userCode: expect.stringMatching(/^[A-Z0-9]{9}$/),
      verificationUri: `${endpoints.baseUrl}/devicelogin`,
    });
    const pending = await client.completeDelegatedSignIn({ signInId: started.signInId }, asTenant(tenant));
    expect(pending.status).toBe(DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_PENDING);
    await endpoints.admin.approveDeviceCode(started.userCode, app.mailbox);
    const completed = await client.completeDelegatedSignIn(
      { signInId: started.signInId, wait: { seconds: 20, nanos: 0 } },
      asTenant(tenant),
    );
    expect(completed.status).toBe(DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_COMPLETED);
    expect(completed.grant).toMatchObject({
      mailboxAddress: app.mailbox,
      signedInUser: app.mailbox,
      state: DelegatedGrantState.DELEGATED_GRANT_STATE_ACTIVE,
    });
    expect(completed.grant?.grantedScopes).toEqual(expect.arrayContaining(['Mail.ReadWrite', 'Mail.Send']));

    const delegated = {
      tenantId: tenant,
      principal: { $case: 'delegated' as const, value: { mailboxAddress: app.mailbox } },
      forceRefresh: false,
    };
    const first = await tokenClient().getAccessToken(delegated, asService());
    const claims = JSON.parse(Buffer.from(first.accessToken.split('.')[1] ?? '', 'base64url').toString()) as { scp: string };
    expect(claims.scp).toMatch(/Mail\.ReadWrite/);
    const cacheBefore = await stores.tokenCache.get(`delegated/${tenant}/${app.mailbox}`);
    offsetMs = 57 * 60_000; // the stored token now has less than the default 5 min left: redeem the refresh token
    const refreshed = await tokenClient().getAccessToken(delegated, asService());
    expect(refreshed.accessToken).not.toBe(first.accessToken);
    expect((await stats(app.directoryId)).tokenRequestsByGrant).toMatchObject({
      device_code: expect.any(Number),
      refresh_token: 1,
    });
    const cacheAfter = await stores.tokenCache.get(`delegated/${tenant}/${app.mailbox}`);
    expect(cacheAfter?.sealed.ciphertext).not.toBe(cacheBefore?.sealed.ciphertext);
    expect(
      (await client.getDelegatedGrant({ mailboxAddress: app.mailbox }, asTenant(tenant))).grant?.lastRefreshedAt,
    ).toBeInstanceOf(Date);

    await endpoints.admin.revokeSessions(app.directoryId, app.mailbox);
    offsetMs = 100 * 60_000;
    const revoked = await callWithTrailers(
      (options) => tokenClient().getAccessToken(delegated, options),
      Metadata({ authorization: `Bearer ${serviceToken}` }),
    );
    expect(revoked.error?.code).toBe(Status.FAILED_PRECONDITION);
    expect(revoked.trailer['mailroute-error-code']).toBe('DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED');
    expect(revoked.error?.details).toMatch(/StartDelegatedSignIn/);
    const grant = await client.getDelegatedGrant({ mailboxAddress: app.mailbox }, asTenant(tenant));
    expect(grant.grant).toMatchObject({
      state: DelegatedGrantState.DELEGATED_GRANT_STATE_SIGN_IN_REQUIRED,
      lastFailure: {
        code: DiagnosticCode.DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_EXPIRED,
        setupStep: SetupStep.SETUP_STEP_DELEGATED_SIGN_IN,
        details: { aadsts: '50173' },
      },
    });
    const listed = await client.listDelegatedGrants(
      { state: DelegatedGrantState.DELEGATED_GRANT_STATE_SIGN_IN_REQUIRED, credentialsId: '' },
      asTenant(tenant),
    );
    expect(listed.grants.map((item) => item.mailboxAddress)).toEqual([app.mailbox]);
    await client.deleteDelegatedGrant({ mailboxAddress: app.mailbox }, asTenant(tenant));
    const gone = await callWithTrailers(
      (options) => tokenClient().getAccessToken(delegated, options),
      Metadata({ authorization: `Bearer ${serviceToken}` }),
    );
    expect(gone.trailer['mailroute-error-code']).toBe('DIAGNOSTIC_CODE_DELEGATED_SIGN_IN_MISSING');
  });

  it('a delegate signing in for a shared mailbox gets the .Shared scopes, and without consent to them fails naming them', async () => {
    const tenant = newTenant();
    const app = await sandboxApp({
      applicationPermissions: [],
      delegatedPermissions: ['User.Read', 'Mail.ReadWrite', 'Mail.Send'],
      allowPublicClient: true,
    });
    const domain = app.mailbox.split('@')[1] ?? '';
    const shared = `billing@${domain}`;
    const delegate = `anna@${domain}`;
    await endpoints.admin.createMailbox(app.directoryId, { userPrincipalName: shared, userPurpose: 'shared' });
    await endpoints.admin.createMailbox(app.directoryId, { userPrincipalName: delegate });
    await endpoints.admin.grantMailboxPermission(app.directoryId, shared, {
      user: delegate,
      accessRights: ['FullAccess', 'SendAs'],
    });
    const client = brokerClient();
    await client.createTenantCredentials({ credentialsId: '', spec: secretSpec(app) }, asTenant(tenant));
    const signIn = async () => {
      const started = await client.startDelegatedSignIn({ mailboxAddress: shared, credentialsId: '' }, asTenant(tenant));
      await endpoints.admin.approveDeviceCode(started.userCode, delegate);
      const outcome = await client.completeDelegatedSignIn(
        { signInId: started.signInId, wait: { seconds: 20, nanos: 0 } },
        asTenant(tenant),
      );
      return { started, outcome };
    };

    // The sign-in says what the admin must consent to.
    const refused = await signIn();
    expect(refused.started.requiredScopes).toEqual(['Mail.ReadWrite', 'Mail.Send']);
    expect(refused.started.delegateScopes).toEqual(['Mail.ReadWrite.Shared', 'Mail.Send.Shared']);
    expect(refused.outcome.status).toBe(DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_FAILED);
    expect(refused.outcome.failure?.message).toContain(`${delegate} signed in for ${shared}, which is not their own mailbox`);
    expect(refused.outcome.failure?.remedy).toContain('Mail.ReadWrite.Shared, Mail.Send.Shared');
    expect(refused.outcome.failure?.remedy).toContain(`Add-MailboxPermission`);

    await endpoints.admin.setConsent(app.directoryId, app.clientId, {
      delegatedPermissions: ['User.Read', 'Mail.ReadWrite', 'Mail.Send', 'Mail.ReadWrite.Shared', 'Mail.Send.Shared'],
    });
    const { outcome } = await signIn();
    expect(outcome.status).toBe(DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_COMPLETED);
    expect(outcome.grant).toMatchObject({ mailboxAddress: shared, signedInUser: delegate });
    expect(outcome.grant?.grantedScopes).toEqual(expect.arrayContaining(['Mail.ReadWrite.Shared', 'Mail.Send.Shared']));
    const delegated = {
      tenantId: tenant,
      principal: { $case: 'delegated' as const, value: { mailboxAddress: shared } },
      forceRefresh: false,
    };
    const scopesOf = (token: string) =>
      (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { scp: string }).scp.split(' ');
    expect(scopesOf((await tokenClient().getAccessToken(delegated, asService())).accessToken)).toEqual(
      expect.arrayContaining(['Mail.ReadWrite.Shared', 'Mail.Send.Shared']),
    );
    // A refresh asks for the same .Shared scopes.
    const forced = await tokenClient().getAccessToken({ ...delegated, forceRefresh: true }, asService());
    expect(scopesOf(forced.accessToken)).toEqual(expect.arrayContaining(['Mail.ReadWrite.Shared', 'Mail.Send.Shared']));
  });

  it('reports a declined device-code sign-in as DECLINED', async () => {
    const tenant = newTenant();
    const app = await sandboxApp({
      applicationPermissions: [],
      delegatedPermissions: ['Mail.ReadWrite', 'Mail.Send'],
      allowPublicClient: true,
    });
    await brokerClient().createTenantCredentials({ credentialsId: '', spec: secretSpec(app) }, asTenant(tenant));
    const started = await brokerClient().startDelegatedSignIn(
      { mailboxAddress: app.mailbox, credentialsId: '' },
      asTenant(tenant),
    );
    await endpoints.admin.approveDeviceCode(started.userCode, app.mailbox, true);
    const outcome = await brokerClient().completeDelegatedSignIn(
      { signInId: started.signInId, wait: { seconds: 20, nanos: 0 } },
      asTenant(tenant),
    );
    expect(outcome.status).toBe(DelegatedSignInStatus.DELEGATED_SIGN_IN_STATUS_DECLINED);
    expect(outcome.failure?.setupStep).toBe(SetupStep.SETUP_STEP_DELEGATED_SIGN_IN);
  });
});
