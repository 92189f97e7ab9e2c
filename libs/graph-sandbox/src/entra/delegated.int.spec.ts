import { createPublicKey, verify } from 'node:crypto';
import { CryptoProvider, type AuthError } from '@azure/msal-node';
import type { GraphSandbox, GraphSandboxEndpoints } from '../server';
import {
  caught,
  createGraphClient,
  createMsalClient,
  createMsalPublicClient,
  createTestTenant,
  startTestSandbox,
  type TestTenant,
  required,
} from '../testing/sandbox.fixture';

const redirectUri = 'http://localhost:3000/auth/callback';

describe('delegated sign-in (auth code, refresh, device code) and ID tokens', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;

  beforeAll(async () => {
    ({ sandbox, endpoints } = await startTestSandbox({ deviceCodeIntervalSeconds: 1 }));
  });
  afterAll(() => sandbox.stop());

  async function delegatedTenant(grantAdminConsent = true): Promise<TestTenant> {
    return createTestTenant(endpoints, {
      applicationPermissions: [],
      delegatedPermissions: ['User.Read', 'Mail.ReadWrite', 'Mail.Send'],
      redirectUris: [redirectUri],
      grantAdminConsent,
      allowPublicClient: true,
    });
  }

  /** Runs the browser leg: GET the authorize URL MSAL built and take the code from the redirect. */
  async function signIn(tenant: TestTenant, user: string) {
    const msal = createMsalClient(endpoints, tenant.tenantId, tenant.app.clientId, { clientSecret: tenant.secret.secretText });
    const pkce = await new CryptoProvider().generatePkceCodes();
    const url = await msal.getAuthCodeUrl({
      scopes: ['Mail.ReadWrite'],
      redirectUri,
      loginHint: user,
      codeChallenge: pkce.challenge,
      codeChallengeMethod: 'S256',
      state: 'st-1',
    });
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    expect(location.searchParams.get('state')).toBe('st-1');
    return { msal, code: location.searchParams.get('code') ?? '', verifier: pkce.verifier };
  }

  it('signs a user in with the auth-code flow (PKCE) and issues a verifiable ID token and a delegated Graph token', async () => {
    const tenant = await delegatedTenant();
    const { msal, code, verifier } = await signIn(tenant, tenant.mailbox);
    const result = await msal.acquireTokenByCode({ code, scopes: ['Mail.ReadWrite'], redirectUri, codeVerifier: verifier });
    expect(result.account?.username).toBe(tenant.mailbox);
    expect(result.account?.tenantId).toBe(tenant.tenantId);
    expect(result.scopes).toEqual(expect.arrayContaining(['Mail.ReadWrite']));

    const jwks = (await (await fetch(`${endpoints.baseUrl}/${tenant.tenantId}/discovery/v2.0/keys`)).json()) as {
      keys: Array<Record<string, unknown>>;
    };
    const [headerPart, payloadPart, signature] = result.idToken.split('.') as [string, string, string];
    const header = JSON.parse(Buffer.from(headerPart, 'base64url').toString()) as { kid: string; alg: string };
    const jwk = jwks.keys.find((key) => key['kid'] === header.kid);
    expect(header.alg).toBe('RS256');
    const key = createPublicKey({ key: jwk as never, format: 'jwk' });
    expect(verify('sha256', Buffer.from(`${headerPart}.${payloadPart}`), key, Buffer.from(signature, 'base64url'))).toBe(true);
    const claims = JSON.parse(Buffer.from(payloadPart, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({
      iss: `${endpoints.baseUrl}/${tenant.tenantId}/v2.0`,
      aud: tenant.app.clientId,
      tid: tenant.tenantId,
      preferred_username: tenant.mailbox,
      ver: '2.0',
    });

    const graph = createGraphClient(endpoints, async () => result.accessToken);
    expect((await graph.api('/me/mailFolders/inbox').get()).displayName).toBe('Inbox');
  });

  it('refuses to redeem a code twice (AADSTS54005) and a wrong PKCE verifier (AADSTS50148)', async () => {
    const tenant = await delegatedTenant();
    const first = await signIn(tenant, tenant.mailbox);
    const wrong = await caught<AuthError>(() =>
      first.msal.acquireTokenByCode({ code: first.code, scopes: ['Mail.ReadWrite'], redirectUri, codeVerifier: 'x'.repeat(43) }),
    );
    expect(wrong.errorMessage).toMatch(/AADSTS50148/);
    const second = await signIn(tenant, tenant.mailbox);
    await second.msal.acquireTokenByCode({
      code: second.code,
      scopes: ['Mail.ReadWrite'],
      redirectUri,
      codeVerifier: second.verifier,
    });
    const again = await caught<AuthError>(() =>
      second.msal.acquireTokenByCode({
        code: second.code,
        scopes: ['Mail.ReadWrite'],
        redirectUri,
        codeVerifier: second.verifier,
      }),
    );
    expect(again.errorMessage).toMatch(/AADSTS54005/);
  });

  it('refreshes with the refresh token, and answers a revoked one with AADSTS50173', async () => {
    const tenant = await delegatedTenant();
    const { msal, code, verifier } = await signIn(tenant, tenant.mailbox);
    const result = await msal.acquireTokenByCode({ code, scopes: ['Mail.ReadWrite'], redirectUri, codeVerifier: verifier });
    const cached = await msal.acquireTokenSilent({ account: required(result.account), scopes: ['Mail.ReadWrite'] });
    expect(cached.fromCache).toBe(true);
    const refreshed = await msal.acquireTokenSilent({
      account: required(result.account),
      scopes: ['Mail.ReadWrite'],
      forceRefresh: true,
    });
    expect(refreshed.fromCache).toBe(false);
    expect((await endpoints.admin.stats(tenant.tenantId)).tokenRequestsByGrant).toMatchObject({
      authorization_code: 1,
      refresh_token: 1,
    });

    await endpoints.admin.revokeSessions(tenant.tenantId, tenant.mailbox);
    const error = await caught<AuthError>(() =>
      msal.acquireTokenSilent({ account: required(result.account), scopes: ['Mail.ReadWrite'], forceRefresh: true }),
    );
    expect(error.name).toBe('InteractionRequiredAuthError');
    expect(error.errorMessage).toMatch(/AADSTS50173/);
  });

  it('answers a sign-in to an app nobody consented to with AADSTS65001 (consent_required)', async () => {
    const tenant = await delegatedTenant(false);
    const { msal, code, verifier } = await signIn(tenant, tenant.mailbox);
    const error = await caught<AuthError>(() =>
      msal.acquireTokenByCode({ code, scopes: ['Mail.ReadWrite'], redirectUri, codeVerifier: verifier }),
    );
    expect(error.name).toBe('InteractionRequiredAuthError');
    expect(error.subError).toBe('consent_required');
    expect(error.errorMessage).toMatch(/AADSTS65001: The user or administrator has not consented/);
  });

  it('completes the device-code flow once the user approves the code', async () => {
    const tenant = await delegatedTenant();
    const pca = createMsalPublicClient(endpoints, tenant.tenantId, tenant.app.clientId);
    let message = '';
    const result = await pca.acquireTokenByDeviceCode({
      scopes: ['Mail.ReadWrite'],
      deviceCodeCallback: (response) => {
        message = response.message;
        void endpoints.admin.approveDeviceCode(response.userCode, tenant.mailbox);
      },
    });
    expect(message).toMatch(/enter the code [A-Z0-9]{9} to authenticate/);
    expect(result?.account?.username).toBe(tenant.mailbox);
    expect((await endpoints.admin.stats(tenant.tenantId)).tokenRequestsByGrant['device_code']).toBeGreaterThanOrEqual(1);
  });
});
