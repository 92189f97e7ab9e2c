import { graphPermissions, oidcScopes } from '../model/sandbox-state';
import type { AppRegistration, Tenant } from '../model/model.types';
import { aadsts } from './aadsts';
import { graphAppId, graphAudience } from './token-issuer';

const graphResources = new Set([graphAudience, `${graphAudience}/`, graphAppId]);
const knownScopes = new Set<string>(graphPermissions);

/** Checks the client-credentials `scope`: exactly one `<resource>/.default`, and the resource must be Graph. */
export function checkClientCredentialsScope(scope: string | null, tenant: Tenant): void {
  if (!scope) throw aadsts.missingParameter('scope');
  const scopes = scope.split(/\s+/).filter((item) => item.length > 0 && !oidcScopes.has(item));
  const [only] = scopes;
  if (scopes.length !== 1 || !only || !only.endsWith('/.default')) throw aadsts.clientCredentialsScope(scope);
  const resource = only.slice(0, -'/.default'.length);
  if (!graphResources.has(resource.toLowerCase())) throw aadsts.resourceNotFound(resource, tenant.id);
}

/** The delegated request, split into Graph scopes, OpenID Connect scopes and scopes of an app's own API. */
export interface DelegatedScopes {
  graph: string[];
  oidc: Set<string>;
  /** An app's exposed API (`api://<clientId>/<scope>`): the app and the scope names; Entra takes one resource per request. */
  api?: { app: AppRegistration; scopes: string[] };
}

/** Parses a delegated `scope` (`Mail.Read`, `https://graph.microsoft.com/Mail.Read`, `…/.default`, plus OIDC scopes). */
export function parseDelegatedScopes(
  scope: string | null,
  app: AppRegistration,
  userId: string | undefined,
  tenant?: Tenant,
): DelegatedScopes {
  if (!scope) throw aadsts.missingParameter('scope');
  const graph = new Set<string>();
  const oidc = new Set<string>();
  let api: DelegatedScopes['api'];
  for (const raw of scope.split(/\s+/).filter((item) => item.length > 0)) {
    if (oidcScopes.has(raw)) {
      oidc.add(raw);
      continue;
    }
    const exposed = /^api:\/\/([0-9a-fA-F-]{36})\/(.+)$/.exec(raw);
    if (exposed?.[1] && exposed[2]) {
      const resource = tenant?.apps.get(exposed[1].toLowerCase());
      if (!resource) throw aadsts.invalidScope(raw);
      if (api && api.app !== resource) throw aadsts.multipleResources();
      const names = exposed[2] === '.default' ? resource.apiScopes : [exposed[2]];
      if (!names.every((name) => resource.apiScopes.includes(name))) throw aadsts.invalidScope(raw);
      api = { app: resource, scopes: [...new Set([...(api?.scopes ?? []), ...names])] };
      continue;
    }
    const name = raw.startsWith(`${graphAudience}/`) ? raw.slice(graphAudience.length + 1) : raw;
    if (name === '.default') {
      for (const permission of app.adminConsentedDelegatedPermissions) graph.add(permission);
      for (const permission of (userId ? app.userConsents.get(userId) : undefined) ?? []) graph.add(permission);
      continue;
    }
    const known = [...knownScopes].find((candidate) => candidate.toLowerCase() === name.toLowerCase());
    if (!known) throw aadsts.invalidScope(raw);
    graph.add(known);
  }
  if (api && graph.size > 0) throw aadsts.multipleResources();
  return { graph: [...graph].sort(), oidc, ...(api ? { api } : {}) };
}

/**
 * Enforces configured permissions and consent for a user: every Graph scope must be listed in the app
 * registration (AADSTS650057) and consented by an admin or by the user (AADSTS65001).
 */
export function checkDelegatedConsent(app: AppRegistration, userId: string, scopes: readonly string[]): void {
  for (const scope of scopes) {
    if (!app.configuredDelegatedPermissions.has(scope)) throw aadsts.permissionNotConfigured();
  }
  const userConsent = app.userConsents.get(userId);
  for (const scope of scopes) {
    if (!app.adminConsentedDelegatedPermissions.has(scope) && !userConsent?.has(scope))
      throw aadsts.consentRequired(app.clientId, app.displayName);
  }
}
