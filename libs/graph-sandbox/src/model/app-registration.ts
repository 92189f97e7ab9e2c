import { ValidationError } from '../errors';
import { newGuid } from '../shared/ids';
import type { AppRegistration, AppRole } from './model.types';

/** Microsoft Graph permissions the sandbox knows (application roles and delegated scopes share names). */
export const graphPermissions = [
  'Mail.Read',
  'Mail.ReadBasic',
  'Mail.ReadBasic.All',
  'Mail.ReadWrite',
  'Mail.Send',
  'Mail.Read.Shared',
  'Mail.ReadWrite.Shared',
  'Mail.Send.Shared',
  'MailboxSettings.Read',
  'MailboxSettings.ReadWrite',
  'User.Read',
  'User.Read.All',
  'User.ReadBasic.All',
] as const;

const knownPermissions = new Set<string>(graphPermissions);

export interface CreateAppInput {
  clientId?: string;
  displayName?: string;
  applicationPermissions?: string[];
  delegatedPermissions?: string[];
  /** Grant admin consent for every configured permission (the admin guides' "Grant admin consent" button). Default true. */
  grantAdminConsent?: boolean;
  redirectUris?: string[];
  /** Redirect URIs of the "Single-page application" platform. */
  spaRedirectUris?: string[];
  /** Scopes the app exposes as an API (`api://<clientId>/<scope>`). */
  apiScopes?: string[];
  /** App roles to define (values unique per app). */
  appRoles?: AppRoleInput[];
  allowPublicClient?: boolean;
  enabled?: boolean;
}

export interface AppRoleInput {
  value: string;
  displayName?: string;
  description?: string;
  id?: string;
}

function toAppRoles(inputs: readonly AppRoleInput[] | undefined): AppRole[] {
  const seen = new Set<string>();
  return (inputs ?? []).map((input, index) => {
    if (!/^[A-Za-z0-9._-]{1,120}$/.test(input.value))
      throw new ValidationError(`appRoles[${index}].value`, 'letters, digits, dot, dash or underscore, at most 120');
    if (seen.has(input.value)) throw new ValidationError(`appRoles[${index}].value`, `duplicate role ${input.value}`);
    seen.add(input.value);
    return {
      id: (input.id ?? newGuid()).toLowerCase(),
      value: input.value,
      displayName: input.displayName ?? input.value,
      description: input.description ?? input.displayName ?? input.value,
      allowedMemberTypes: ['User'],
    };
  });
}

/** The permissions as given, or a ValidationError naming `field` for one the sandbox does not know. */
export function checkPermissions(field: string, permissions: readonly string[] | undefined): string[] {
  for (const permission of permissions ?? []) {
    if (!knownPermissions.has(permission))
      throw new ValidationError(field, `unknown Microsoft Graph permission ${JSON.stringify(permission)}`);
  }
  return [...(permissions ?? [])];
}

/** A new app registration (with its service principal), permissions checked; admin consent by default. */
export function newAppRegistration(clientId: string, input: CreateAppInput): AppRegistration {
  const applicationPermissions = checkPermissions('applicationPermissions', input.applicationPermissions);
  const delegatedPermissions = checkPermissions('delegatedPermissions', input.delegatedPermissions);
  const consent = input.grantAdminConsent ?? true;
  return {
    clientId,
    objectId: newGuid(),
    displayName: input.displayName ?? 'mailroute',
    enabled: input.enabled ?? true,
    allowPublicClient: input.allowPublicClient ?? false,
    redirectUris: input.redirectUris ?? [],
    spaRedirectUris: input.spaRedirectUris ?? [],
    apiScopes: input.apiScopes ?? [],
    appRoles: toAppRoles(input.appRoles),
    roleAssignments: new Map(),
    secrets: [],
    certificates: [],
    configuredApplicationPermissions: new Set(applicationPermissions),
    configuredDelegatedPermissions: new Set(delegatedPermissions),
    grantedApplicationPermissions: new Set(consent ? applicationPermissions : []),
    adminConsentedDelegatedPermissions: new Set(consent ? delegatedPermissions : []),
    userConsents: new Map(),
  };
}
