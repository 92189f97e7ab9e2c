import { createHash, randomBytes } from 'node:crypto';
import { demoProfile } from '../admin/demo-profile';
import type { GraphSandbox, GraphSandboxEndpoints } from '../server';
import { decodeClaims, startTestSandbox, uniqueSuffix } from '../testing/sandbox.fixture';

// Single-page apps as Entra treats them: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
// (#redirect-uris-for-single-page-apps-spas; the AADSTS9002325/9002326/9002327 texts as Entra answers them,
// e.g. AzureAD/microsoft-authentication-library-for-js#2482), app roles in ID tokens:
// https://learn.microsoft.com/entra/identity-platform/howto-add-app-roles-in-apps.

const spaOrigin = 'http://127.0.0.1:18080';
const spaRedirectUri = `${spaOrigin}/`;
const webRedirectUri = 'http://localhost:3000/auth/callback';
const password = 'correct horse battery staple';

interface Pkce {
  verifier: string;
  challenge: string;
}

function newPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

describe('single-page apps: auth code + PKCE, CORS on the token endpoint, app roles, the password page', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;
  let clockOffsetMs = 0;

  beforeAll(async () => {
    ({ sandbox, endpoints } = await startTestSandbox({ clock: () => Date.now() + clockOffsetMs }));
  });
  afterAll(() => sandbox.stop());
  afterEach(() => {
    clockOffsetMs = 0;
  });

  /** A tenant with a desktop app (SPA + web redirect URIs, roles Supervisor/Agent) and three users with passwords. */
  async function spaTenant() {
    const suffix = uniqueSuffix();
    const tenant = await endpoints.admin.createTenant({ displayName: `SPA ${suffix}`, domain: `spa${suffix}.example` });
    const domain = tenant.domains[0] ?? '';
    const app = await endpoints.admin.createApp(tenant.id, {
      displayName: 'mailroute desktop',
      delegatedPermissions: ['User.Read'],
      redirectUris: [webRedirectUri],
      spaRedirectUris: [spaRedirectUri],
      appRoles: [{ value: 'Supervisor' }, { value: 'Agent' }],
      apiScopes: ['access_as_user'],
      allowPublicClient: true,
    });
    const users = {
      supervisor: `sam@${domain}`,
      agent: `carol@${domain}`,
      noRole: `erin@${domain}`,
      passwordless: `pat@${domain}`,
    };
    for (const upn of [users.supervisor, users.agent, users.noRole])
      await endpoints.admin.createMailbox(tenant.id, { userPrincipalName: upn, password });
    await endpoints.admin.createMailbox(tenant.id, { userPrincipalName: users.passwordless });
    await endpoints.admin.assignAppRoles(tenant.id, app.clientId, users.supervisor, ['Supervisor']);
    await endpoints.admin.assignAppRoles(tenant.id, app.clientId, users.agent, ['Agent']);
    return { tenantId: tenant.id, clientId: app.clientId, users };
  }

  type SpaTenant = Awaited<ReturnType<typeof spaTenant>>;

  function authorizeUrl(
    tenant: SpaTenant,
    options: { redirectUri?: string; pkce?: Pkce | 'none'; method?: string; scope?: string; extra?: Record<string, string> } = {},
  ) {
    const url = new URL(`${endpoints.baseUrl}/${tenant.tenantId}/oauth2/v2.0/authorize`);
    url.searchParams.set('client_id', tenant.clientId);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('redirect_uri', options.redirectUri ?? spaRedirectUri);
    url.searchParams.set('scope', options.scope ?? 'openid profile offline_access');
    url.searchParams.set('response_mode', 'fragment');
    url.searchParams.set('state', 'st-spa');
    url.searchParams.set('nonce', 'n-spa');
    if (options.pkce !== 'none') {
      url.searchParams.set('code_challenge', (options.pkce ?? newPkce()).challenge);
      url.searchParams.set('code_challenge_method', options.method ?? 'S256');
    }
    for (const [name, value] of Object.entries(options.extra ?? {})) url.searchParams.set(name, value);
    return url;
  }

  /** Posts the sign-in form as the browser does, and returns the answer without following the redirect. */
  function submitSignIn(url: URL, login: string, passwd: string) {
    return fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ login, passwd }).toString(),
    });
  }

  /** The parameters of the redirect back to the app (fragment or query). */
  function redirectParams(response: Response): URLSearchParams {
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location') ?? '');
    return new URLSearchParams(location.hash ? location.hash.slice(1) : location.search);
  }

  async function signInCode(
    tenant: SpaTenant,
    user: string,
    pkce: Pkce,
    options: { redirectUri?: string; method?: string; scope?: string } = {},
  ) {
    const params = redirectParams(await submitSignIn(authorizeUrl(tenant, { pkce, ...options }), user, password));
    expect(params.get('state')).toBe('st-spa');
    return params.get('code') ?? '';
  }

  function redeem(tenant: SpaTenant, body: Record<string, string>, origin?: string) {
    return fetch(`${endpoints.baseUrl}/${tenant.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8', ...(origin ? { origin } : {}) },
      body: new URLSearchParams({ client_id: tenant.clientId, ...body }).toString(),
    });
  }

  function redeemCode(tenant: SpaTenant, code: string, verifier: string, origin?: string, redirectUri = spaRedirectUri) {
    return redeem(
      tenant,
      {
        grant_type: 'authorization_code',
        code,
        code_verifier: verifier,
        redirect_uri: redirectUri,
        scope: 'openid profile offline_access',
      },
      origin,
    );
  }

  async function entraError(
    response: Response,
  ): Promise<{ status: number; error: string; description: string; codes: number[] }> {
    const body = (await response.json()) as { error: string; error_description: string; error_codes: number[] };
    return { status: response.status, error: body.error, description: body.error_description, codes: body.error_codes };
  }

  it('shows a sign-in page that asks demo users for their password, and refuses a wrong one with AADSTS50126', async () => {
    const tenant = await spaTenant();
    const page = await fetch(authorizeUrl(tenant));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('name="login"');
    expect(html).toContain('type="password"');
    expect(html).toContain(tenant.users.supervisor);

    // login_hint of a user with a password fills the form in; it does not sign in by itself.
    const hinted = await fetch(authorizeUrl(tenant, { extra: { login_hint: tenant.users.supervisor } }), { redirect: 'manual' });
    expect(hinted.status).toBe(200);
    expect(await hinted.text()).toContain(`value="${tenant.users.supervisor}"`);

    const wrong = await submitSignIn(authorizeUrl(tenant), tenant.users.supervisor, 'not the password');
    expect(wrong.status).toBe(200);
    expect(wrong.headers.get('location')).toBeNull();
    expect(await wrong.text()).toContain('AADSTS50126: Error validating credentials due to invalid username or password.');

    const unknown = await submitSignIn(authorizeUrl(tenant), `nobody@${tenant.users.supervisor.split('@')[1]}`, password);
    expect(unknown.status).toBe(200);
    expect(await unknown.text()).toContain('AADSTS50034');

    const right = redirectParams(await submitSignIn(authorizeUrl(tenant), tenant.users.supervisor, password));
    expect(right.get('code')).toMatch(/^1\.A/);
    expect(right.get('client_info')).toBeTruthy();
  });

  it('answers prompt=none for a user with a password with login_required (AADSTS50058) at the redirect URI', async () => {
    const tenant = await spaTenant();
    const params = redirectParams(
      await fetch(authorizeUrl(tenant, { extra: { prompt: 'none', login_hint: tenant.users.agent } }), { redirect: 'manual' }),
    );
    expect(params.get('error')).toBe('login_required');
    expect(params.get('error_description')).toMatch(/^AADSTS50058:/);
    expect(params.get('state')).toBe('st-spa');
  });

  it('redeems a SPA code cross-origin with CORS for the SPA origin, an ID token with the user roles and a 24-hour refresh token', async () => {
    const tenant = await spaTenant();
    const pkce = newPkce();
    const code = await signInCode(tenant, tenant.users.supervisor, pkce);
    const response = await redeemCode(tenant, code, pkce.verifier, spaOrigin);
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(spaOrigin);
    const body = (await response.json()) as Record<string, unknown>;
    const claims = decodeClaims(String(body['id_token']));
    expect(claims).toMatchObject({
      aud: tenant.clientId,
      tid: tenant.tenantId,
      preferred_username: tenant.users.supervisor,
      nonce: 'n-spa',
      roles: ['Supervisor'],
    });
    expect(body['refresh_token_expires_in']).toBeGreaterThan(86_400 - 60);
    expect(body['refresh_token_expires_in']).toBeLessThanOrEqual(86_400);

    const agentPkce = newPkce();
    const agentCode = await signInCode(tenant, tenant.users.agent, agentPkce);
    const agent = (await (await redeemCode(tenant, agentCode, agentPkce.verifier, spaOrigin)).json()) as Record<string, unknown>;
    expect(decodeClaims(String(agent['id_token']))['roles']).toEqual(['Agent']);

    const nobodyPkce = newPkce();
    const nobodyCode = await signInCode(tenant, tenant.users.noRole, nobodyPkce);
    const nobody = (await (await redeemCode(tenant, nobodyCode, nobodyPkce.verifier, spaOrigin)).json()) as Record<
      string,
      unknown
    >;
    expect(decodeClaims(String(nobody['id_token']))).not.toHaveProperty('roles');
  });

  it("issues an access token for the app's own API with aud = client id, scp and the user's roles; one resource per request", async () => {
    const tenant = await spaTenant();
    const apiScope = `api://${tenant.clientId}/access_as_user`;
    const pkce = newPkce();
    const code = await signInCode(tenant, tenant.users.supervisor, pkce, { scope: `${apiScope} openid profile offline_access` });
    const response = await redeem(
      tenant,
      {
        grant_type: 'authorization_code',
        code,
        code_verifier: pkce.verifier,
        redirect_uri: spaRedirectUri,
        scope: `${apiScope} openid profile offline_access`,
      },
      spaOrigin,
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(String(body['scope']).split(' ')).toContain(apiScope);
    expect(decodeClaims(String(body['access_token']))).toMatchObject({
      aud: tenant.clientId,
      iss: `${endpoints.baseUrl}/${tenant.tenantId}/v2.0`,
      azp: tenant.clientId,
      scp: 'access_as_user',
      roles: ['Supervisor'],
      preferred_username: tenant.users.supervisor,
      ver: '2.0',
    });
    // Graph refuses a token for another audience.
    const graph = await fetch(`${endpoints.baseUrl}/v1.0/me/mailFolders/inbox`, {
      headers: { authorization: `Bearer ${String(body['access_token'])}` },
    });
    expect(graph.status).toBe(401);
    // The refresh token renews it (msal-browser's acquireTokenSilent for the API scope).
    const refreshed = await redeem(
      tenant,
      {
        grant_type: 'refresh_token',
        refresh_token: String(body['refresh_token']),
        scope: `${apiScope} openid profile offline_access`,
      },
      spaOrigin,
    );
    expect(decodeClaims(String(((await refreshed.json()) as Record<string, unknown>)['access_token']))['roles']).toEqual([
      'Supervisor',
    ]);

    const mixedPkce = newPkce();
    const mixedCode = await signInCode(tenant, tenant.users.supervisor, mixedPkce, { scope: `${apiScope} User.Read` });
    const mixed = await entraError(
      await redeem(
        tenant,
        {
          grant_type: 'authorization_code',
          code: mixedCode,
          code_verifier: mixedPkce.verifier,
          redirect_uri: spaRedirectUri,
          scope: `${apiScope} User.Read`,
        },
        spaOrigin,
      ),
    );
    expect(mixed.codes).toEqual([28000]);
    const unknownPkce = newPkce();
    const unknownCode = await signInCode(tenant, tenant.users.supervisor, unknownPkce, {
      scope: `api://${tenant.clientId}/nope`,
    });
    const unknown = await entraError(
      await redeem(
        tenant,
        {
          grant_type: 'authorization_code',
          code: unknownCode,
          code_verifier: unknownPkce.verifier,
          redirect_uri: spaRedirectUri,
          scope: `api://${tenant.clientId}/nope`,
        },
        spaOrigin,
      ),
    );
    expect(unknown.codes).toEqual([70011]);
  });

  it('keeps a SPA refresh token to 24 hours from the sign-in: refreshing carries the expiry over, then AADSTS70008', async () => {
    const tenant = await spaTenant();
    const pkce = newPkce();
    const code = await signInCode(tenant, tenant.users.agent, pkce);
    const first = (await (await redeemCode(tenant, code, pkce.verifier, spaOrigin)).json()) as Record<string, unknown>;

    clockOffsetMs = 20 * 3600_000;
    const refreshed = await redeem(
      tenant,
      { grant_type: 'refresh_token', refresh_token: String(first['refresh_token']), scope: 'openid profile offline_access' },
      spaOrigin,
    );
    expect(refreshed.status).toBe(200);
    const second = (await refreshed.json()) as Record<string, unknown>;
    expect(second['refresh_token_expires_in']).toBeLessThanOrEqual(4 * 3600);

    clockOffsetMs = 24 * 3600_000 + 60_000;
    const late = await entraError(
      await redeem(tenant, { grant_type: 'refresh_token', refresh_token: String(second['refresh_token']) }, spaOrigin),
    );
    expect(late.codes).toEqual([70008]);
  });

  it('requires PKCE with S256 for SPA codes (AADSTS9002325) and refuses a wrong verifier (AADSTS50148)', async () => {
    const tenant = await spaTenant();
    const withoutPkce = redirectParams(await submitSignIn(authorizeUrl(tenant, { pkce: 'none' }), tenant.users.agent, password));
    const missing = await entraError(
      await redeem(
        tenant,
        { grant_type: 'authorization_code', code: withoutPkce.get('code') ?? '', redirect_uri: spaRedirectUri, scope: 'openid' },
        spaOrigin,
      ),
    );
    expect(missing).toMatchObject({ status: 400, error: 'invalid_request', codes: [9002325] });
    expect(missing.description).toMatch(
      /^AADSTS9002325: Proof Key for Code Exchange is required for cross-origin authorization code redemption\./,
    );

    const plain: Pkce = { verifier: 'p'.repeat(43), challenge: 'p'.repeat(43) };
    const plainCode = await signInCode(tenant, tenant.users.agent, plain, { method: 'plain' });
    expect((await entraError(await redeemCode(tenant, plainCode, plain.verifier, spaOrigin))).codes).toEqual([9002325]);

    const pkce = newPkce();
    const code = await signInCode(tenant, tenant.users.agent, pkce);
    const wrong = await entraError(await redeemCode(tenant, code, newPkce().verifier, spaOrigin));
    expect(wrong.codes).toEqual([50148]);
  });

  it('refuses a SPA code or refresh token redeemed without Origin (AADSTS9002327)', async () => {
    const tenant = await spaTenant();
    const pkce = newPkce();
    const code = await signInCode(tenant, tenant.users.agent, pkce);
    const refused = await entraError(await redeemCode(tenant, code, pkce.verifier));
    expect(refused).toMatchObject({ status: 400, error: 'invalid_request', codes: [9002327] });
    expect(refused.description).toMatch(
      /^AADSTS9002327: Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests\./,
    );

    const tokens = (await (await redeemCode(tenant, code, pkce.verifier, spaOrigin)).json()) as Record<string, unknown>;
    const refresh = await entraError(
      await redeem(tenant, { grant_type: 'refresh_token', refresh_token: String(tokens['refresh_token']) }),
    );
    expect(refresh.codes).toEqual([9002327]);
  });

  it('refuses a cross-origin redemption by a non-SPA client (AADSTS9002326), readable by the page but with no token', async () => {
    const tenant = await spaTenant();
    const pkce = newPkce();
    const code = await signInCode(tenant, tenant.users.agent, pkce, { redirectUri: webRedirectUri });
    const response = await redeemCode(tenant, code, pkce.verifier, 'https://evil.example', webRedirectUri);
    // The page may read the refusal (msal-browser shows it), as Entra lets it.
    expect(response.headers.get('access-control-allow-origin')).toBe('https://evil.example');
    const refused = await entraError(response);
    expect(refused).toMatchObject({ status: 400, error: 'invalid_request', codes: [9002326] });
    expect(refused.description).toMatch(
      /^AADSTS9002326: Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type\. Request origin: 'https:\/\/evil\.example'\./,
    );
    // The same code from a server (no Origin) is the web platform's normal redemption.
    const server = await redeemCode(tenant, code, pkce.verifier, undefined, webRedirectUri);
    expect(server.status).toBe(200);

    const secret = await endpoints.admin.addSecret(tenant.tenantId, tenant.clientId);
    const clientCredentials = await redeem(
      tenant,
      { grant_type: 'client_credentials', client_secret: secret.secretText, scope: 'https://graph.microsoft.com/.default' },
      spaOrigin,
    );
    expect((await entraError(clientCredentials)).codes).toEqual([9002326]);
  });

  it('answers CORS preflights and token responses for SPA redirect URI origins only; metadata for any origin', async () => {
    const tenant = await spaTenant();
    const tokenUrl = `${endpoints.baseUrl}/${tenant.tenantId}/oauth2/v2.0/token`;
    const preflight = (origin: string) =>
      fetch(tokenUrl, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const allowed = await preflight(spaOrigin);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(spaOrigin);
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
    const other = await preflight('http://127.0.0.1:9999');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    // A SPA code redeemed from an origin that is not the app's gets its answer without CORS: the browser withholds it.
    const pkce = newPkce();
    const code = await signInCode(tenant, tenant.users.agent, pkce);
    const foreign = await redeemCode(tenant, code, pkce.verifier, 'http://127.0.0.1:9999');
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();

    for (const path of [`/${tenant.tenantId}/v2.0/.well-known/openid-configuration`, `/${tenant.tenantId}/discovery/v2.0/keys`]) {
      const metadata = await fetch(`${endpoints.baseUrl}${path}`, { headers: { origin: spaOrigin } });
      expect(metadata.status).toBe(200);
      expect(metadata.headers.get('access-control-allow-origin')).toBe('*');
    }
  });

  it('signs users of the web platform without a password in by login_hint, as before', async () => {
    const tenant = await spaTenant();
    const pkce = newPkce();
    const params = redirectParams(
      await fetch(authorizeUrl(tenant, { pkce, redirectUri: webRedirectUri, extra: { login_hint: tenant.users.passwordless } }), {
        redirect: 'manual',
      }),
    );
    const response = await redeemCode(tenant, params.get('code') ?? '', pkce.verifier, undefined, webRedirectUri);
    expect(response.status).toBe(200);
  });

  it('seeds the demo desktop app as a SPA with roles, demo users with the password, and a second tenant signed in through organizations', async () => {
    const demo = await startTestSandbox({ profile: 'demo', consoleRedirectUris: [spaRedirectUri] });
    try {
      const app = await demo.endpoints.admin.getApp(demoProfile.tenantId, demoProfile.desktopClientId);
      expect(app.spaRedirectUris).toEqual([spaRedirectUri]);
      expect(app.appRoles.map((role) => role.value)).toEqual(['Supervisor', 'Agent']);
      expect(demo.endpoints.demo?.users.map((user) => user.userPrincipalName)).toEqual(
        expect.arrayContaining([
          demoProfile.consoleUsers.supervisor,
          demoProfile.consoleUsers.agent,
          demoProfile.otherTenant.user,
        ]),
      );

      const other: SpaTenant = {
        tenantId: 'organizations',
        clientId: demoProfile.desktopClientId,
        users: { supervisor: '', agent: '', noRole: '', passwordless: '' },
      };
      const sign = async (user: string) => {
        const pkce = newPkce();
        const url = new URL(authorizeUrl(other, { pkce }).toString().replace(endpoints.baseUrl, demo.endpoints.baseUrl));
        const wrong = await submitSignIn(url, user, 'wrong');
        expect(await wrong.text()).toContain('AADSTS50126');
        const params = redirectParams(await submitSignIn(url, user, demoProfile.password));
        const response = await fetch(`${demo.endpoints.baseUrl}/organizations/oauth2/v2.0/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', origin: spaOrigin },
          body: new URLSearchParams({
            client_id: demoProfile.desktopClientId,
            grant_type: 'authorization_code',
            code: params.get('code') ?? '',
            code_verifier: pkce.verifier,
            redirect_uri: spaRedirectUri,
            scope: 'openid profile',
          }).toString(),
        });
        expect(response.status).toBe(200);
        return decodeClaims(String(((await response.json()) as Record<string, unknown>)['id_token']));
      };
      expect(await sign(demoProfile.consoleUsers.supervisor)).toMatchObject({ tid: demoProfile.tenantId, roles: ['Supervisor'] });
      expect(await sign(demoProfile.otherTenant.user)).toMatchObject({
        tid: demoProfile.otherTenant.tenantId,
        roles: ['Agent', 'Supervisor'],
      });
    } finally {
      await demo.sandbox.stop();
    }
  });
});
