import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppRegistration, Mailbox, Tenant } from '../model/model.types';
import { newGuid } from '../shared/ids';
import type { SandboxContext } from '../shared/sandbox-context';
import { aadsts } from './aadsts';
import { formParams } from './entra-http';
import type { GrantStore } from './grant-store';
import { escapeHtml, renderFormPost, renderSignInPage, sendPage } from './sign-in-pages';
import { isSpaRedirectUri } from './spa-client';
import { toClientInfo } from './token-issuer';

type AuthorizeRoute = { Params: { tenant: string }; Querystring: Record<string, string | undefined> };

export interface AuthorizeRouteOptions {
  /** Authority segments that name no tenant (`common`, `organizations`, `consumers`). */
  multiTenantSegments: ReadonlySet<string>;
  /** The home tenant of a client id, for multi-tenant segments. */
  tenantOfApp(clientId: string): Tenant | undefined;
}

function samePassword(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * The browser side of "Sign in with Microsoft": `/authorize` (GET shows the sign-in page, POST checks the
 * password and redirects with a code), `/logout` and the device-code page. A user created without a
 * password is signed in by `login_hint` alone (scripts, the CLI's tests); one with a password always
 * goes through the form, and `prompt=none` (no session in a sandbox) answers `login_required` for them.
 */
export function registerAuthorizeRoutes(
  scope: FastifyInstance,
  context: SandboxContext,
  grants: GrantStore,
  options: AuthorizeRouteOptions,
): void {
  const { state, clock } = context;
  const isMultiTenant = (segment: string) => options.multiTenantSegments.has(segment.toLowerCase());

  /** The tenant, app and redirect URI of a request, or the error page Entra shows before it trusts the redirect URI. */
  const resolveRequest = (
    request: FastifyRequest<AuthorizeRoute>,
  ): { problem: string } | { tenant: Tenant; client: AppRegistration; redirectUri: string } => {
    const query = request.query;
    const segment = request.params.tenant;
    const clientId = query['client_id']?.toLowerCase() ?? '';
    const tenant = isMultiTenant(segment) ? options.tenantOfApp(clientId) : state.resolveTenant(segment);
    if (!tenant) return { problem: aadsts.tenantNotFound(segment).message };
    const client = tenant.apps.get(clientId);
    if (!client) return { problem: aadsts.appNotFound(clientId, segment).message };
    const redirectUri = query['redirect_uri'] ?? '';
    if (!client.redirectUris.includes(redirectUri) && !isSpaRedirectUri(client, redirectUri))
      return { problem: aadsts.redirectUriMismatch(redirectUri, client.clientId).message };
    return { tenant, client, redirectUri };
  };

  /** Sends the browser back to the redirect URI with `fields`, in the requested response mode. */
  const respond = (reply: FastifyReply, query: AuthorizeRoute['Querystring'], redirectUri: string, fields: URLSearchParams) => {
    if (query['state']) fields.set('state', query['state']);
    const mode = query['response_mode'] ?? 'query';
    if (mode === 'form_post') return reply.type('text/html; charset=utf-8').send(renderFormPost(redirectUri, fields));
    const separator = mode === 'fragment' ? '#' : redirectUri.includes('?') ? '&' : '?';
    return reply.redirect(`${redirectUri}${separator}${fields.toString()}`, 302);
  };

  const issueCode = (
    reply: FastifyReply,
    query: AuthorizeRoute['Querystring'],
    tenant: Tenant,
    client: AppRegistration,
    redirectUri: string,
    user: Mailbox,
  ) => {
    const grant = grants.addAuthCode({
      tenantId: tenant.id,
      clientId: client.clientId,
      userId: user.id,
      redirectUri,
      scopes: (query['scope'] ?? '').split(/\s+/).filter(Boolean),
      ...(query['code_challenge']
        ? { codeChallenge: query['code_challenge'], codeChallengeMethod: query['code_challenge_method'] ?? 'plain' }
        : {}),
      ...(query['nonce'] ? { nonce: query['nonce'] } : {}),
      expiresMs: clock() + 10 * 60_000,
      spa: isSpaRedirectUri(client, redirectUri),
    });
    return respond(
      reply,
      query,
      redirectUri,
      new URLSearchParams({ code: grant.code, client_info: toClientInfo(user), session_state: newGuid() }),
    );
  };

  const signInPage = (
    request: FastifyRequest<AuthorizeRoute>,
    reply: FastifyReply,
    tenant: Tenant,
    client: AppRegistration,
    status: number,
    username?: string,
    error?: string,
  ) => {
    const pickUrl = (account: Mailbox) => {
      const url = new URL(`${context.baseUrl()}${request.url}`);
      url.searchParams.set('login_hint', account.userPrincipalName);
      return url.pathname + url.search;
    };
    const accounts = [...tenant.mailboxes.values()];
    const page = renderSignInPage({
      action: request.url,
      tenantName: tenant.displayName,
      appName: client.displayName,
      accounts,
      pickUrl,
      ...(username ? { username } : {}),
      ...(error ? { error } : {}),
    });
    return sendPage(reply, status, 'Sign in to your account', page);
  };

  scope.get<AuthorizeRoute>('/:tenant/oauth2/v2.0/authorize', async (request, reply) => {
    const resolved = resolveRequest(request);
    if ('problem' in resolved) return sendPage(reply, 400, 'Sign in', `<p>${escapeHtml(resolved.problem)}</p>`);
    const { tenant, client, redirectUri } = resolved;
    const query = request.query;
    const prompt = query['prompt'];
    const hinted = query['login_hint'] ? state.findMailbox(tenant, query['login_hint']) : undefined;
    const passwordless = hinted !== undefined && hinted.password === undefined;
    if (passwordless && prompt !== 'login' && prompt !== 'select_account')
      return issueCode(reply, query, tenant, client, redirectUri, hinted);
    if (prompt === 'none') {
      const error = aadsts.loginRequired();
      return respond(reply, query, redirectUri, new URLSearchParams({ error: error.error, error_description: error.message }));
    }
    return signInPage(request, reply, tenant, client, 200, query['login_hint']);
  });

  scope.post<AuthorizeRoute>('/:tenant/oauth2/v2.0/authorize', async (request, reply) => {
    const resolved = resolveRequest(request);
    if ('problem' in resolved) return sendPage(reply, 400, 'Sign in', `<p>${escapeHtml(resolved.problem)}</p>`);
    const { client, redirectUri } = resolved;
    const form = formParams(request.body);
    const login = (form.get('login') ?? '').trim().slice(0, 256);
    // Home realm discovery: on `organizations`/`common` the user's own tenant signs them in, if the app is there.
    const candidates = isMultiTenant(request.params.tenant)
      ? [...state.tenants.values()].filter((tenant) => tenant.apps.has(client.clientId))
      : [resolved.tenant];
    const user = login ? state.findMailboxByAddress(login) : undefined;
    const tenant = candidates.find((candidate) => candidate.id === user?.tenantId);
    // Entra shows these on the page itself (200), as a person sees them.
    if (!user || !tenant)
      return signInPage(
        request,
        reply,
        resolved.tenant,
        client,
        200,
        login,
        aadsts.userNotFound(login, resolved.tenant.id).message,
      );
    if (user.password !== undefined && !samePassword(form.get('passwd') ?? '', user.password))
      return signInPage(request, reply, tenant, client, 200, login, aadsts.invalidPassword().message);
    return issueCode(reply, request.query, tenant, tenant.apps.get(client.clientId) ?? client, redirectUri, user);
  });

  scope.get<AuthorizeRoute>('/:tenant/oauth2/v2.0/logout', async (request, reply) => {
    const target = request.query['post_logout_redirect_uri'];
    const segment = request.params.tenant;
    const tenants = isMultiTenant(segment) ? [...state.tenants.values()] : [state.resolveTenant(segment)].filter(Boolean);
    // Entra returns to post_logout_redirect_uri only when it is a registered redirect URI.
    const registered = tenants.some((tenant) =>
      [...(tenant?.apps.values() ?? [])].some(
        (app) => target && (app.redirectUris.includes(target) || isSpaRedirectUri(app, target)),
      ),
    );
    if (target && registered) {
      const logoutState = request.query['state'];
      const separator = target.includes('?') ? '&' : '?';
      return reply.redirect(logoutState ? `${target}${separator}state=${encodeURIComponent(logoutState)}` : target, 302);
    }
    return sendPage(reply, 200, 'Signed out', '<p>You have signed out of graph-sandbox.</p>');
  });

  // The page a device-code message points at: enter the code and the account that signs in.
  scope.get('/devicelogin', async (_request, reply) =>
    sendPage(
      reply,
      200,
      'Enter code',
      '<h1>graph-sandbox device login</h1><form method="post"><label>Code <input name="user_code"></label> <label>Account <input name="login_hint" placeholder="user@domain"></label> <button>Sign in</button></form>',
    ),
  );
  scope.post('/devicelogin', async (request, reply) => {
    const params = formParams(request.body);
    const grant = grants.deviceCodeByUserCode(params.get('user_code') ?? '');
    const tenant = grant?.tenantId ? state.tenants.get(grant.tenantId) : undefined;
    const mailbox = tenant ? state.findMailbox(tenant, params.get('login_hint') ?? '') : undefined;
    if (!grant || !mailbox || clock() > grant.expiresMs)
      return sendPage(reply, 400, 'Device login', '<p>That code or account is not valid.</p>');
    grant.userId = mailbox.id;
    return sendPage(reply, 200, 'Device login', '<p>You have signed in. You may close this window.</p>');
  });
}
