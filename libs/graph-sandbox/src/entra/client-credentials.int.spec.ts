import type { ClientAuthError } from '@azure/msal-node';
import { ServerError } from '@azure/msal-node';
import type { GraphError } from '@microsoft/microsoft-graph-client';
import type { GraphSandbox, GraphSandboxEndpoints } from '../server';
import {
  caught,
  createAppGraphClient,
  createGraphClient,
  createMsalClient,
  createTestTenant,
  graphDefaultScope,
  startTestSandbox,
  required,
  decodeClaims,
} from '../testing/sandbox.fixture';

describe('Entra client credentials against the sandbox (real MSAL over HTTPS)', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;

  beforeAll(async () => {
    ({ sandbox, endpoints } = await startTestSandbox());
  });
  afterAll(() => sandbox.stop());

  it('issues a token for a client secret and MSAL serves later calls from its cache', async () => {
    const tenant = await createTestTenant(endpoints);
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: tenant.secret.secretText });
    const first = await msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] });
    const second = await msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] });
    const third = await msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] });
    expect(first?.fromCache).toBe(false);
    expect(second?.fromCache).toBe(true);
    expect(third?.accessToken).toBe(first?.accessToken);
    const stats = await endpoints.admin.stats(tenant.tenantId);
    expect(stats.tokenRequests).toBe(1);
    expect(stats.tokenRequestsByGrant).toEqual({ client_credentials: 1 });
  });

  it('puts the granted roles, tid, aud and exp in the access token', async () => {
    const tenant = await createTestTenant(endpoints, {
      applicationPermissions: ['Mail.ReadWrite', 'Mail.Send', 'User.Read.All'],
    });
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: tenant.secret.secretText });
    const result = await msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] });
    const claims = decodeClaims(required(result).accessToken);
    expect(claims).toMatchObject({
      aud: 'https://graph.microsoft.com',
      tid: tenant.tenantId,
      appid: tenant.app.clientId,
      roles: ['Mail.ReadWrite', 'Mail.Send', 'User.Read.All'],
      idtyp: 'app',
    });
    expect(claims['exp']).toBeGreaterThan(Date.now() / 1000 + 3000);
  });

  it('issues a token for a certificate-signed client assertion', async () => {
    const tenant = await createTestTenant(endpoints);
    const certificate = await endpoints.admin.addCertificate(tenant.tenantId, tenant.app.clientId);
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, {
      clientCertificate: { thumbprintSha256: certificate.thumbprintSha256, privateKey: required(certificate.privateKeyPem) },
    });
    const result = await msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] });
    const claims = decodeClaims(required(result).accessToken);
    expect(claims['appidacr']).toBe('2');
    const inbox = await createAppGraphClient(endpoints, msal).api(`/users/${tenant.mailbox}/mailFolders/inbox`).get();
    expect(inbox.displayName).toBe('Inbox');
  });

  it('refuses an assertion signed by a certificate the app does not have (AADSTS700027)', async () => {
    const tenant = await createTestTenant(endpoints);
    const other = await createTestTenant(endpoints);
    const foreign = await endpoints.admin.addCertificate(other.tenantId, other.app.clientId);
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, {
      clientCertificate: { thumbprintSha256: foreign.thumbprintSha256, privateKey: required(foreign.privateKeyPem) },
    });
    const error = await caught<ServerError>(() => msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] }));
    expect(error).toBeInstanceOf(ServerError);
    expect(Number(error.errorNo)).toBe(700027);
    expect(error.errorCode).toBe('invalid_client');
  });

  it('answers a wrong secret with AADSTS7000215 (401 invalid_client)', async () => {
    const tenant = await createTestTenant(endpoints);
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: tenant.secret.keyId });
    const error = await caught<ServerError>(() => msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] }));
    expect(error).toBeInstanceOf(ServerError);
    expect(Number(error.errorNo)).toBe(7000215);
    expect(error.status).toBe(401);
    expect(error.errorMessage).toMatch(/AADSTS7000215: Invalid client secret provided/);
  });

  it('answers an expired secret with AADSTS7000222', async () => {
    const tenant = await createTestTenant(endpoints);
    const expired = await endpoints.admin.addSecret(tenant.tenantId, tenant.app.clientId, { expiresInSeconds: -60 });
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: expired.secretText });
    const error = await caught<ServerError>(() => msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] }));
    expect(Number(error.errorNo)).toBe(7000222);
    expect(error.errorMessage).toMatch(/client secret keys for app '.*' are expired/);
  });

  it('answers an unknown client id with AADSTS700016', async () => {
    const tenant = await createTestTenant(endpoints);
    const msal = createMsalClient(endpoints, tenant.tenantId, '11111111-2222-3333-4444-555555555555', {
      clientSecret: tenant.secret.secretText,
    });
    const error = await caught<ServerError>(() => msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] }));
    expect(Number(error.errorNo)).toBe(700016);
  });

  it('answers an unknown tenant with AADSTS90002, which MSAL reports as endpoints_resolution_error', async () => {
    const unknown = '99999999-8888-7777-6666-555555555555';
    const msal = createMsalClient(endpoints, unknown, '11111111-2222-3333-4444-555555555555', { clientSecret: 'x' });
    const error = await caught<ClientAuthError>(() => msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] }));
    expect(error.errorCode).toBe('endpoints_resolution_error');
    const response = await fetch(`${endpoints.baseUrl}/${unknown}/v2.0/.well-known/openid-configuration`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_tenant', error_codes: [90002] });
  });

  it('refuses a client-credentials scope without /.default (AADSTS1002012)', async () => {
    const tenant = await createTestTenant(endpoints);
    const response = await fetch(`${endpoints.baseUrl}/${tenant.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: tenant.app.clientId,
        client_secret: tenant.secret.secretText,
        scope: 'Mail.Read',
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_scope', error_codes: [1002012] });
  });

  it('issues a token without roles when admin consent is missing, and Graph answers 401 for it', async () => {
    const tenant = await createTestTenant(endpoints, { grantAdminConsent: false });
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: tenant.secret.secretText });
    const result = await msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] });
    const claims = decodeClaims(required(result).accessToken);
    expect(claims['roles']).toBeUndefined();
    const error = await caught<GraphError>(() =>
      createAppGraphClient(endpoints, msal).api(`/users/${tenant.mailbox}/messages`).get(),
    );
    expect(error.statusCode).toBe(401);
    expect(error.code).toBe('InvalidAuthenticationToken');
    expect(error.message).toBe('Either scp or roles claim need to be present in the token.');
  });

  it('answers 403 ErrorAccessDenied when the consented roles lack Mail.*, until a new token is issued after consent', async () => {
    const tenant = await createTestTenant(endpoints, { applicationPermissions: ['User.Read.All'] });
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: tenant.secret.secretText });
    const graph = createAppGraphClient(endpoints, msal);
    const denied = await caught<GraphError>(() => graph.api(`/users/${tenant.mailbox}/messages`).get());
    expect(denied.statusCode).toBe(403);
    expect(denied.code).toBe('ErrorAccessDenied');
    expect(denied.message).toBe('Access is denied. Check credentials and try again.');

    await endpoints.admin.setConsent(tenant.tenantId, tenant.app.clientId, {
      applicationPermissions: ['User.Read.All', 'Mail.ReadWrite'],
    });
    // The cached token keeps the roles it was minted with.
    expect((await caught<GraphError>(() => graph.api(`/users/${tenant.mailbox}/messages`).get())).statusCode).toBe(403);
    const fresh = await msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope], skipCache: true });
    const list = await createGraphClient(endpoints, async () => required(fresh).accessToken)
      .api(`/users/${tenant.mailbox}/messages`)
      .get();
    expect(list.value).toEqual([]);
  });

  it('answers a disabled app with AADSTS7000112', async () => {
    const tenant = await createTestTenant(endpoints);
    await endpoints.admin.updateApp(tenant.tenantId, tenant.app.clientId, { enabled: false });
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: tenant.secret.secretText });
    const error = await caught<ServerError>(() => msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] }));
    expect(Number(error.errorNo)).toBe(7000112);
  });

  it('answers an injected token-endpoint 503 in Entra JSON with Retry-After', async () => {
    const tenant = await createTestTenant(endpoints);
    const fault = await endpoints.admin.addFault({
      tenantId: tenant.tenantId,
      endpoint: 'entra.token',
      status: 503,
      retryAfterSeconds: 2,
      times: 1,
    });
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: tenant.secret.secretText });
    const error = await caught<ServerError>(() => msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] }));
    expect(error).toBeInstanceOf(ServerError);
    expect(Number(error.errorNo)).toBe(90033);
    expect((await endpoints.admin.faults()).value.find((rule) => rule.id === fault.id)).toBeUndefined();
  });
});
