import type { GraphApiError } from '../errors';
import { graphErrors } from '../graph/graph-errors';
import type { Mailbox } from '../model/model.types';
import type { GraphCaller } from './access-token';
import { testApplicationAccessPolicy } from './access-policy';
import { rbacPermissionsOn } from './app-rbac';
import { hasMailPermission, type MailAccess } from './permissions';

/**
 * What an app-only caller may do in one mailbox, combining Exchange's two mechanisms the way Microsoft
 * documents them:
 * - Entra ID application permissions (the token's `roles`) apply to every mailbox, unless an application
 *   access policy excludes this one (https://learn.microsoft.com/en-us/graph/auth-limit-mailbox-access);
 * - RBAC for Applications role assignments grant their permission on their scope's mailboxes only,
 *   independently of and in addition to the Entra grants — so a tenant-wide Entra Mail.ReadWrite is not
 *   narrowed by any scope (https://learn.microsoft.com/en-us/exchange/permissions-exo/application-rbac).
 * Delegated callers keep their token's scopes.
 */
export function effectivePermissions(caller: GraphCaller, mailbox: Mailbox): ReadonlySet<string> {
  if (caller.kind !== 'app') return caller.permissions;
  const entra = testApplicationAccessPolicy(caller.tenant, caller.appId, mailbox.id) === 'Granted' ? caller.permissions : [];
  return new Set([...entra, ...rbacPermissionsOn(caller.tenant, caller.appId, mailbox)]);
}

/** Graph's answer when an app-only caller lacks `access` on the mailbox; undefined when it may proceed. */
export function appMailboxDenial(caller: GraphCaller, mailbox: Mailbox, access: MailAccess): GraphApiError | undefined {
  if (hasMailPermission(effectivePermissions(caller, mailbox), access)) return undefined;
  // An Entra grant the access policy takes away: Graph says so ("Access to OData is disabled."). Outside an
  // RBAC scope, or with no grant at all, Graph gives the plain ErrorAccessDenied.
  if (hasMailPermission(caller.permissions, access)) return graphErrors.odataDisabled();
  return graphErrors.accessDenied();
}

/** A mailbox Graph cannot serve over REST: inactive / soft-deleted / on-premises, or a user without an Exchange license. */
export function mailboxUnavailable(caller: GraphCaller, mailbox: Mailbox): GraphApiError | undefined {
  if (!mailbox.mailboxEnabled) return graphErrors.mailboxNotEnabled();
  if (caller.tenant.exchangeAppRbac.recipients.get(mailbox.id)?.exchangeLicensed === false)
    return graphErrors.mailboxUnlicensed();
  return undefined;
}
