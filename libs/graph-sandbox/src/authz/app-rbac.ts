// RBAC for Applications in Exchange Online, as an Exchange admin sets it up:
//   New-ManagementScope -Name … -RecipientRestrictionFilter "CustomAttribute1 -eq 'mailroute'"
//   New-ManagementRoleAssignment -App <app id> -Role "Application Mail.ReadWrite" -CustomResourceScope …
//   Test-ServicePrincipalAuthorization -Identity <app id> -Resource <mailbox>
// https://learn.microsoft.com/en-us/exchange/permissions-exo/application-rbac
import { ValidationError } from '../errors';
import type {
  AppRoleAssignment,
  ApplicationRoleName,
  FilterClause,
  ManagementScope,
  Mailbox,
  Tenant,
} from '../model/model.types';

/** The application roles the sandbox models and the Graph permission each grants on its scope. */
export const applicationRoles: Record<ApplicationRoleName, string> = {
  'Application Mail.Read': 'Mail.Read',
  'Application Mail.ReadBasic': 'Mail.ReadBasic',
  'Application Mail.ReadWrite': 'Mail.ReadWrite',
  'Application Mail.Send': 'Mail.Send',
};

/** Properties a filter may name (the subset of Exchange's filterable recipient properties the sandbox models). */
const filterable = /^(CustomAttribute(?:[1-9]|1[0-5])|PrimarySmtpAddress|EmailAddresses|UserPrincipalName|Alias|MemberOfGroup)$/i;
const clausePattern = /^\s*(\w+)\s+(-eq|-ne|-like)\s+'([^']*)'\s*$/i;

/** Parses the supported subset of OPATH: `Property -eq|-ne|-like 'value'`, joined by `-and` or `-or` (not both). */
export function parseRecipientFilter(
  filter: string,
  field = 'recipientRestrictionFilter',
): Pick<ManagementScope, 'clauses' | 'join'> {
  const unwrapped = filter.trim().replace(/^\((.*)\)$/s, '$1');
  const hasAnd = /\s-and\s/i.test(unwrapped);
  const hasOr = /\s-or\s/i.test(unwrapped);
  if (hasAnd && hasOr) throw new ValidationError(field, 'the sandbox supports -and or -or in one filter, not both');
  const join = hasOr ? '-or' : '-and';
  const clauses = unwrapped.split(hasOr ? /\s-or\s/i : /\s-and\s/i).map((part) => {
    const match = clausePattern.exec(part.replace(/^\s*\((.*)\)\s*$/s, '$1'));
    if (!match?.[1] || !match[2] || match[3] === undefined)
      throw new ValidationError(field, `cannot parse ${JSON.stringify(part.trim())}: expected Property -eq 'value'`);
    if (!filterable.test(match[1]))
      throw new ValidationError(
        field,
        `the sandbox cannot filter on ${match[1]} (supported: CustomAttribute1-15, PrimarySmtpAddress, EmailAddresses, UserPrincipalName, Alias, MemberOfGroup)`,
      );
    return { property: match[1].toLowerCase(), operator: match[2].toLowerCase() as FilterClause['operator'], value: match[3] };
  });
  return { clauses, join };
}

function propertyValues(tenant: Tenant, mailbox: Mailbox, property: string): string[] {
  const recipient = tenant.exchangeAppRbac.recipients.get(mailbox.id);
  if (property.startsWith('customattribute')) {
    const entry = Object.entries(recipient?.customAttributes ?? {}).find(([name]) => name.toLowerCase() === property);
    return [entry?.[1] ?? ''];
  }
  switch (property) {
    case 'primarysmtpaddress':
      return [mailbox.mail];
    case 'emailaddresses':
      return [mailbox.mail, `smtp:${mailbox.mail}`, mailbox.userPrincipalName];
    case 'userprincipalname':
      return [mailbox.userPrincipalName];
    case 'alias':
      return [mailbox.mail.split('@')[0] ?? ''];
    default:
      // MemberOfGroup: the groups (by address) the mailbox is a member of.
      return [...tenant.groups].filter(([, members]) => members.has(mailbox.id)).map(([group]) => group);
  }
}

function matches(clause: FilterClause, values: string[]): boolean {
  const wanted = clause.value.toLowerCase();
  const like = new RegExp(`^${wanted.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
  const hit = values.some((value) =>
    clause.operator === '-like' ? like.test(value.toLowerCase()) : value.toLowerCase() === wanted,
  );
  return clause.operator === '-ne' ? !hit : hit;
}

/** Whether the scope's recipient filter selects the mailbox. */
function scopeIncludes(tenant: Tenant, scope: ManagementScope, mailbox: Mailbox): boolean {
  const results = scope.clauses.map((clause) => matches(clause, propertyValues(tenant, mailbox, clause.property)));
  return scope.join === '-or' ? results.some(Boolean) : results.every(Boolean);
}

/** One row of `Test-ServicePrincipalAuthorization -Identity <app> -Resource <mailbox>`. */
export interface ServicePrincipalAuthorizationRow {
  RoleName: AppRoleAssignment['role'];
  GrantedPermissions: string;
  AllowedResourceScope: string;
  ScopeType: 'CustomRecipientScope' | 'Organization';
  InScope: boolean;
}

/** `Test-ServicePrincipalAuthorization`: each of the app's role assignments and whether the mailbox is in its scope. */
export function testServicePrincipalAuthorization(
  tenant: Tenant,
  appId: string,
  mailbox: Mailbox,
): ServicePrincipalAuthorizationRow[] {
  return tenant.exchangeAppRbac.assignments
    .filter((assignment) => assignment.appId === appId.toLowerCase())
    .map((assignment) => {
      const scope = assignment.customResourceScope
        ? tenant.exchangeAppRbac.scopes.get(assignment.customResourceScope.toLowerCase())
        : undefined;
      return {
        RoleName: assignment.role,
        GrantedPermissions: applicationRoles[assignment.role],
        AllowedResourceScope: scope?.name ?? 'Organization',
        ScopeType: assignment.customResourceScope ? 'CustomRecipientScope' : 'Organization',
        InScope: assignment.customResourceScope ? scope !== undefined && scopeIncludes(tenant, scope, mailbox) : true,
      };
    });
}

/** The Graph permissions the app's role assignments grant on this mailbox (never in the token: Exchange decides per call). */
export function rbacPermissionsOn(tenant: Tenant, appId: string, mailbox: Mailbox): Set<string> {
  return new Set(
    testServicePrincipalAuthorization(tenant, appId, mailbox)
      .filter((row) => row.InScope)
      .map((row) => row.GrantedPermissions),
  );
}
