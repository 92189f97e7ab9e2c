import { createHash, randomBytes } from 'node:crypto';
import type { GraphSandboxEndpoints } from '@mailroute/graph-sandbox';

export interface SpaSignInOptions {
  /** Authority segment: the directory (tenant) id, a domain, or `organizations`. */
  authority: string;
  clientId: string;
  /** A SPA redirect URI registered on the app; its origin is sent as `Origin` on the token request. */
  redirectUri: string;
  user: string;
  password: string;
  /** Default `openid profile offline_access`. */
  scope?: string;
}

export interface SpaTokens {
  idToken: string;
  accessToken: string;
  refreshToken?: string;
}

/**
 * Signs a user in as a single-page app does against the graph sandbox, over HTTP without a browser:
 * the sign-in page's form (user name and password) with a PKCE S256 challenge, then the code redeemed
 * with the redirect URI's `Origin` — what msal-browser does in the page. For Node-side tests that need a
 * console user's ID token (with its app roles); the browser tests drive the real page instead.
 */
export async function signInAsSpa(
  endpoints: Pick<GraphSandboxEndpoints, 'baseUrl'>,
  options: SpaSignInOptions,
): Promise<SpaTokens> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const scope = options.scope ?? 'openid profile offline_access';
  const base = `${endpoints.baseUrl}/${options.authority}/oauth2/v2.0`;
  const authorize = new URL(`${base}/authorize`);
  for (const [name, value] of Object.entries({
    client_id: options.clientId,
    response_type: 'code',
    redirect_uri: options.redirectUri,
    scope,
    response_mode: 'fragment',
    state: randomBytes(8).toString('hex'),
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }))
    authorize.searchParams.set(name, value);
  const signIn = await fetch(authorize, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login: options.user, passwd: options.password }).toString(),
  });
  const location = signIn.headers.get('location');
  if (signIn.status !== 302 || !location)
    throw new Error(`sign-in of ${options.user} failed: ${signIn.status} ${await signIn.text()}`);
  const answer = new URLSearchParams(new URL(location).hash.slice(1));
  const code = answer.get('code');
  if (!code) throw new Error(`sign-in of ${options.user} returned no code: ${answer.get('error_description') ?? location}`);
  const token = await fetch(`${base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded;charset=utf-8', origin: new URL(options.redirectUri).origin },
    body: new URLSearchParams({
      client_id: options.clientId,
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: options.redirectUri,
      scope,
    }).toString(),
  });
  const body = (await token.json()) as {
    id_token?: string;
    access_token?: string;
    refresh_token?: string;
    error_description?: string;
  };
  if (!token.ok || !body.id_token || !body.access_token)
    throw new Error(`code redemption for ${options.user} failed: ${body.error_description ?? token.status}`);
  return {
    idToken: body.id_token,
    accessToken: body.access_token,
    ...(body.refresh_token ? { refreshToken: body.refresh_token } : {}),
  };
}

export interface SignedInDirectory {
  /** The sandbox tenant's id: the tokens' `tid`. */
  directoryId: string;
  domain: string;
  /** Each user's ID token, by the name given. */
  idTokens: Record<string, string>;
}

/**
 * A sandbox directory with the desktop app registered (SPA redirect URI, app roles Supervisor and Agent, an
 * `access_as_user` API scope) under `clientId`, and one mailbox user per entry of `users` holding the roles
 * given, each signed in as the console does (signInAsSpa). The same `clientId` in several directories is a
 * multi-tenant app.
 */
export async function createSignedInDirectory(
  endpoints: Pick<GraphSandboxEndpoints, 'baseUrl' | 'admin'>,
  options: { name: string; clientId: string; redirectUri: string; password: string; users: Record<string, string[]> },
): Promise<SignedInDirectory> {
  const { clientId, redirectUri, password } = options;
  const domain = `${options.name}.example`;
  const tenant = await endpoints.admin.createTenant({ displayName: options.name, domain });
  await endpoints.admin.createApp(tenant.id, {
    clientId,
    displayName: 'mailroute desktop',
    delegatedPermissions: ['User.Read'],
    spaRedirectUris: [redirectUri],
    appRoles: [{ value: 'Supervisor' }, { value: 'Agent' }],
    apiScopes: ['access_as_user'],
  });
  const idTokens: Record<string, string> = {};
  for (const [user, roles] of Object.entries(options.users)) {
    const upn = `${user}@${domain}`;
    await endpoints.admin.createMailbox(tenant.id, { userPrincipalName: upn, password });
    await endpoints.admin.assignAppRoles(tenant.id, clientId, upn, roles);
    idTokens[user] = (await signInAsSpa(endpoints, { authority: tenant.id, clientId, redirectUri, user: upn, password })).idToken;
  }
  return { directoryId: tenant.id, domain, idTokens };
}
