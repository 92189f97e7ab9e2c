import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EntraError } from '../errors';
import type { AppRegistration, Mailbox, Tenant } from '../model/model.types';
import { applyFaults, type SandboxContext } from '../shared/sandbox-context';
import { aadsts } from './aadsts';
import { registerAuthorizeRoutes } from './authorize.routes';
import { authenticateClient, type ClientCredentialKind } from './client-auth';
import { formParams, sendEntraError } from './entra-http';
import type { GrantStore } from './grant-store';
import {
  allowCrossOrigin,
  answerPreflight,
  checkRedemptionOrigin,
  checkSpaPkce,
  spaOrigins,
  tenantSpaOrigins,
} from './spa-client';
import { checkClientCredentialsScope, checkDelegatedConsent, parseDelegatedScopes, type DelegatedScopes } from './scopes';
import { toClientInfo } from './token-issuer';

/** Authority segments that name no tenant. Client credentials refuse them (AADSTS50059). */
const multiTenantSegments = new Set(['common', 'organizations', 'consumers']);
const deviceCodeGrantTypes = new Set(['device_code', 'urn:ietf:params:oauth:grant-type:device_code']);

type TenantParams = { Params: { tenant: string } };

/** Registers the Entra ID endpoints (discovery, JWKS, token, device code, authorize, logout) at the root. */
export function registerEntraRoutes(app: FastifyInstance, context: SandboxContext, grants: GrantStore): void {
  const { state, issuer, clock } = context;

  const resolveTenant = (segment: string): Tenant => {
    const tenant = state.resolveTenant(segment);
    if (!tenant) throw aadsts.tenantNotFound(segment);
    return tenant;
  };

  /** The home tenant of a client id, for `common`/`organizations` authorities. */
  const tenantOfApp = (clientId: string | null): Tenant | undefined => {
    if (!clientId) return undefined;
    for (const tenant of state.tenants.values()) if (tenant.apps.has(clientId.toLowerCase())) return tenant;
    return undefined;
  };

  const acceptedAudiences = (tenant: Tenant, segment: string): Set<string> => {
    const base = context.baseUrl().toLowerCase();
    return new Set([tenant.id, ...tenant.domains, segment.toLowerCase()].map((name) => `${base}/${name}/oauth2/v2.0/token`));
  };

  const count = (tenant: Tenant, grantType: string, clientId: string | null): void => {
    tenant.stats.tokenRequests += 1;
    tenant.stats.tokenRequestsByGrant[grantType] = (tenant.stats.tokenRequestsByGrant[grantType] ?? 0) + 1;
    const client = clientId?.toLowerCase() ?? '(none)';
    tenant.stats.tokenRequestsByClient[client] = (tenant.stats.tokenRequestsByClient[client] ?? 0) + 1;
  };

  const openIdConfiguration = (segment: string) => {
    const base = context.baseUrl();
    const tenantPart = multiTenantSegments.has(segment.toLowerCase()) ? segment.toLowerCase() : resolveTenant(segment).id;
    const issuerTenant = multiTenantSegments.has(tenantPart) ? '{tenantid}' : tenantPart;
    return {
      token_endpoint: `${base}/${tenantPart}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/${tenantPart}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/${issuerTenant}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${base}/oidc/userinfo`,
      authorization_endpoint: `${base}/${tenantPart}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/${tenantPart}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/${tenantPart}/oauth2/v2.0/logout`,
      claims_supported: [
        'sub',
        'iss',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'acr',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'at_hash',
        'c_hash',
        'email',
      ],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'graph-sandbox.invalid',
      cloud_graph_host_name: new URL(base).host,
      msgraph_host: new URL(base).host,
    };
  };

  /**
   * The answer to a delegated grant. A SPA's refresh token expires 24 hours after the sign-in, and
   * refreshing carries that expiry over (`refresh_token_expires_in` tells MSAL); ID tokens carry the
   * user's app roles on the client app.
   */
  const delegatedResponse = async (
    tenant: Tenant,
    client: AppRegistration,
    mailbox: Mailbox,
    scopes: DelegatedScopes,
    credential: ClientCredentialKind,
    session: { nonce?: string; spa: boolean; refreshExpiresMs?: number },
  ): Promise<Record<string, unknown>> => {
    if (mailbox.userPurpose === 'shared') throw aadsts.userDisabled();
    const api = scopes.api;
    const accessScopes = api
      ? api.scopes.map((name) => `api://${api.app.clientId}/${name}`)
      : scopes.graph.length > 0
        ? scopes.graph
        : ['User.Read'];
    const access = api
      ? await issuer.issueApiToken(tenant, client, api.app, mailbox, api.scopes)
      : await issuer.issueUserToken(tenant, client, mailbox, accessScopes, credential);
    tenant.stats.tokensIssued += 1;
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      scope: [...accessScopes, ...[...scopes.oidc].filter((scope) => scope !== 'offline_access')].join(' '),
      expires_in: access.expiresIn,
      ext_expires_in: access.expiresIn,
      access_token: access.token,
      client_info: toClientInfo(mailbox),
    };
    if (scopes.oidc.has('offline_access')) {
      const lifetimeSeconds = session.spa
        ? context.settings.spaRefreshTokenLifetimeSeconds
        : context.settings.refreshTokenLifetimeSeconds;
      const expiresMs = session.refreshExpiresMs ?? clock() + lifetimeSeconds * 1000;
      body['refresh_token'] = grants.addRefreshToken({
        tenantId: tenant.id,
        clientId: client.clientId,
        userId: mailbox.id,
        scopes: api ? accessScopes : scopes.graph,
        expiresMs,
        spa: session.spa,
      }).token;
      if (session.spa) body['refresh_token_expires_in'] = Math.max(0, Math.floor((expiresMs - clock()) / 1000));
    }
    if (scopes.oidc.has('openid')) body['id_token'] = (await issuer.issueIdToken(tenant, client, mailbox, session.nonce)).token;
    return body;
  };

  const handleToken = async (request: FastifyRequest<TenantParams>, reply: FastifyReply): Promise<unknown> => {
    const params = formParams(request.body);
    const segment = request.params.tenant;
    const grantType = params.get('grant_type');
    if (!grantType) throw aadsts.missingParameter('grant_type');
    const multiTenant = multiTenantSegments.has(segment.toLowerCase());
    if (multiTenant && grantType === 'client_credentials') throw aadsts.tenantIdRequired();

    let tenant: Tenant;
    if (!multiTenant) tenant = resolveTenant(segment);
    else {
      const grantTenant =
        grantType === 'authorization_code'
          ? grants.authCode(params.get('code') ?? '')?.tenantId
          : grantType === 'refresh_token'
            ? grants.refreshToken(params.get('refresh_token') ?? '')?.tenantId
            : deviceCodeGrantTypes.has(grantType)
              ? grants.deviceCode(params.get('device_code') ?? '')?.tenantId
              : undefined;
      const found = grantTenant ? state.tenants.get(grantTenant) : tenantOfApp(params.get('client_id'));
      if (!found) throw aadsts.invalidGrant();
      tenant = found;
    }
    const clientId = params.get('client_id');
    count(tenant, grantType, clientId);

    const fault = await applyFaults(context, request, reply, {
      endpoint: 'entra.token',
      tenantId: tenant.id,
      ...(clientId ? { appId: clientId.toLowerCase() } : {}),
    });
    if (fault === 'dropped') return reply;
    // The token endpoint takes the transient answers only (429, 5xx); Graph's permanent ones (400/403/404) do not apply here.
    if (fault?.status !== undefined && fault.status >= 429) throw aadsts.transient(fault.status, fault.retryAfterSeconds);

    const authOptions = (allowPublic: boolean, spa = false) => ({
      clock,
      acceptedAudiences: acceptedAudiences(tenant, segment),
      allowPublic,
      spa,
    });
    const origin = typeof request.headers.origin === 'string' ? request.headers.origin : undefined;

    switch (grantType) {
      case 'client_credentials': {
        checkRedemptionOrigin(reply, origin, false);
        const { app: client, credential } = await authenticateClient(tenant, params, authOptions(false));
        checkClientCredentialsScope(params.get('scope'), tenant);
        const token = await issuer.issueAppToken(tenant, client, credential === 'certificate' ? 'certificate' : 'secret');
        tenant.stats.tokensIssued += 1;
        return { token_type: 'Bearer', expires_in: token.expiresIn, ext_expires_in: token.expiresIn, access_token: token.token };
      }
      case 'authorization_code': {
        const grant = grants.authCode(params.get('code') ?? '');
        checkRedemptionOrigin(reply, origin, grant?.spa ?? false);
        const { app: client, credential } = await authenticateClient(tenant, params, authOptions(true, grant?.spa));
        if (!grant || grant.clientId !== client.clientId || grant.tenantId !== tenant.id) throw aadsts.invalidGrant();
        checkSpaPkce(grant);
        if (grant.redeemed) throw aadsts.codeRedeemed();
        if (clock() > grant.expiresMs) throw aadsts.grantExpired();
        if (params.get('redirect_uri') !== grant.redirectUri)
          throw aadsts.redirectUriMismatch(params.get('redirect_uri') ?? '', client.clientId);
        if (grant.codeChallenge) {
          const verifier = params.get('code_verifier') ?? '';
          const computed =
            grant.codeChallengeMethod === 'plain' ? verifier : createHash('sha256').update(verifier).digest('base64url');
          if (computed !== grant.codeChallenge) throw aadsts.pkceMismatch();
        }
        grant.redeemed = true;
        const mailbox = state.findMailbox(tenant, grant.userId);
        if (!mailbox) throw aadsts.invalidGrant();
        const scopes = parseDelegatedScopes(grant.scopes.join(' '), client, mailbox.id, tenant);
        checkDelegatedConsent(client, mailbox.id, scopes.graph);
        return delegatedResponse(tenant, client, mailbox, scopes, credential, {
          spa: grant.spa,
          ...(grant.nonce ? { nonce: grant.nonce } : {}),
        });
      }
      case 'refresh_token': {
        const grant = grants.refreshToken(params.get('refresh_token') ?? '');
        checkRedemptionOrigin(reply, origin, grant?.spa ?? false);
        const { app: client, credential } = await authenticateClient(tenant, params, authOptions(true, grant?.spa));
        if (!grant || grant.clientId !== client.clientId || grant.tenantId !== tenant.id) throw aadsts.invalidGrant();
        if (grant.revoked) throw aadsts.refreshTokenRevoked();
        if (clock() > grant.expiresMs) throw aadsts.grantExpired();
        const mailbox = state.findMailbox(tenant, grant.userId);
        if (!mailbox) throw aadsts.invalidGrant();
        const scopes = parseDelegatedScopes(params.get('scope') ?? grant.scopes.join(' '), client, mailbox.id, tenant);
        checkDelegatedConsent(client, mailbox.id, scopes.graph);
        return delegatedResponse(tenant, client, mailbox, scopes, credential, {
          spa: grant.spa,
          ...(grant.spa ? { refreshExpiresMs: grant.expiresMs } : {}),
        });
      }
      default: {
        if (!deviceCodeGrantTypes.has(grantType)) throw aadsts.unsupportedGrant(grantType);
        checkRedemptionOrigin(reply, origin, false);
        const { app: client, credential } = await authenticateClient(tenant, params, authOptions(true));
        const grant = grants.deviceCode(params.get('device_code') ?? '');
        if (!grant || grant.clientId !== client.clientId) throw aadsts.invalidGrant();
        if (clock() > grant.expiresMs) throw aadsts.deviceCodeExpired();
        if (grant.declined) throw aadsts.deviceCodeDeclined();
        if (!grant.userId) throw aadsts.authorizationPending();
        const mailbox = state.findMailbox(tenant, grant.userId);
        if (!mailbox) throw aadsts.invalidGrant();
        const scopes = parseDelegatedScopes(grant.scopes.join(' '), client, mailbox.id, tenant);
        checkDelegatedConsent(client, mailbox.id, scopes.graph);
        grant.expiresMs = 0;
        return delegatedResponse(tenant, client, mailbox, scopes, credential, { spa: false });
      }
    }
  };

  void app.register(async (scope) => {
    scope.setErrorHandler((error, request, reply) => {
      if (error instanceof EntraError) return sendEntraError(context, request, reply, error);
      context.logger.error({ err: error, url: request.url }, 'graph-sandbox: entra handler failed');
      return sendEntraError(context, request, reply, aadsts.transient(500));
    });

    // Public metadata is readable from any origin (msal-browser fetches it from the page), as Entra's is.
    scope.get<TenantParams>('/:tenant/v2.0/.well-known/openid-configuration', async (request, reply) => {
      void reply.header('Access-Control-Allow-Origin', '*');
      return openIdConfiguration(request.params.tenant);
    });
    scope.get<TenantParams>('/:tenant/discovery/v2.0/keys', async (request, reply) => {
      void reply.header('Access-Control-Allow-Origin', '*');
      if (!multiTenantSegments.has(request.params.tenant.toLowerCase())) resolveTenant(request.params.tenant);
      return issuer.jwks();
    });
    scope.get('/common/discovery/instance', async (_request, reply) => {
      void reply.header('Access-Control-Allow-Origin', '*');
      const host = new URL(context.baseUrl()).host;
      return {
        tenant_discovery_endpoint: `${context.baseUrl()}/common/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      };
    });
    // CORS on the token endpoint only for the origins of SPA redirect URIs: of the calling app when the
    // body names it, of any app in the tenant for a preflight (which carries no body).
    const tokenOrigins = (segment: string, clientId: string | null): Set<string> => {
      const tenant = multiTenantSegments.has(segment.toLowerCase()) ? tenantOfApp(clientId) : state.resolveTenant(segment);
      if (!tenant) return new Set();
      if (!clientId) return tenantSpaOrigins([tenant]);
      const client = tenant.apps.get(clientId.toLowerCase());
      return client ? spaOrigins([client]) : new Set();
    };
    scope.options<TenantParams>('/:tenant/oauth2/v2.0/token', async (request, reply) => {
      const segment = request.params.tenant;
      const tenants = multiTenantSegments.has(segment.toLowerCase())
        ? [...state.tenants.values()]
        : [state.resolveTenant(segment)].filter((tenant) => tenant !== undefined);
      return answerPreflight(reply, request.headers.origin, tenantSpaOrigins(tenants));
    });
    scope.post<TenantParams>(
      '/:tenant/oauth2/v2.0/token',
      {
        preHandler: async (request, reply) => {
          allowCrossOrigin(
            reply,
            request.headers.origin,
            tokenOrigins(request.params.tenant, formParams(request.body).get('client_id')),
          );
        },
      },
      handleToken,
    );

    scope.post<TenantParams>('/:tenant/oauth2/v2.0/devicecode', async (request) => {
      const params = formParams(request.body);
      const segment = request.params.tenant;
      const tenant = multiTenantSegments.has(segment.toLowerCase())
        ? tenantOfApp(params.get('client_id'))
        : resolveTenant(segment);
      const clientId = params.get('client_id')?.toLowerCase();
      if (!clientId) throw aadsts.missingParameter('client_id');
      const client = tenant?.apps.get(clientId);
      if (!tenant || !client) throw aadsts.appNotFound(clientId, segment);
      parseDelegatedScopes(params.get('scope'), client, undefined, tenant);
      const grant = grants.addDeviceCode({
        tenantId: tenant.id,
        clientId,
        scopes: (params.get('scope') ?? '').split(/\s+/).filter(Boolean),
        expiresMs: clock() + context.settings.deviceCodeLifetimeSeconds * 1000,
      });
      const verificationUri = `${context.baseUrl()}/devicelogin`;
      return {
        user_code: grant.userCode,
        device_code: grant.deviceCode,
        verification_uri: verificationUri,
        expires_in: context.settings.deviceCodeLifetimeSeconds,
        interval: context.settings.deviceCodeIntervalSeconds,
        message: `To sign in, use a web browser to open the page ${verificationUri} and enter the code ${grant.userCode} to authenticate.`,
      };
    });

    registerAuthorizeRoutes(scope, context, grants, {
      multiTenantSegments,
      tenantOfApp: (clientId) => tenantOfApp(clientId),
    });
  });
}
