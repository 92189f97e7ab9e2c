import type { Tenant } from '../model/model.types';

/**
 * Exchange's application access policy check (`Test-ApplicationAccessPolicy`): with no policy for the app,
 * every mailbox is granted; a DenyAccess policy denies its group's members; when the app has any
 * RestrictAccess policy, only members of one of those groups are granted.
 */
export function testApplicationAccessPolicy(tenant: Tenant, appId: string, mailboxId: string): 'Granted' | 'Denied' {
  const policies = tenant.accessPolicies.filter((policy) => policy.appId === appId.toLowerCase());
  if (policies.length === 0) return 'Granted';
  const inGroup = (group: string) => tenant.groups.get(group)?.has(mailboxId) ?? false;
  if (policies.some((policy) => policy.accessRight === 'DenyAccess' && inGroup(policy.policyScopeGroupId))) return 'Denied';
  const restrict = policies.filter((policy) => policy.accessRight === 'RestrictAccess');
  if (restrict.length === 0) return 'Granted';
  return restrict.some((policy) => inGroup(policy.policyScopeGroupId)) ? 'Granted' : 'Denied';
}
