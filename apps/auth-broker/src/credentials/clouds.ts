import { AuthorityCloud } from '@mailroute/contracts';

/** Authority and Graph hosts of a Microsoft cloud. */
export interface CloudHosts {
  /** Stored name of the cloud. */
  name: string;
  authorityHost: string;
  graphEndpoint: string;
}

/** The predefined clouds (proto AuthorityCloud); CUSTOM takes explicit hosts. */
export const predefinedClouds: ReadonlyMap<AuthorityCloud, CloudHosts> = new Map([
  [AuthorityCloud.AUTHORITY_CLOUD_GLOBAL, { name: 'global', authorityHost: 'https://login.microsoftonline.com', graphEndpoint: 'https://graph.microsoft.com' }],
  [AuthorityCloud.AUTHORITY_CLOUD_US_GOV, { name: 'us-gov', authorityHost: 'https://login.microsoftonline.us', graphEndpoint: 'https://graph.microsoft.us' }],
  [AuthorityCloud.AUTHORITY_CLOUD_US_GOV_DOD, { name: 'us-gov-dod', authorityHost: 'https://login.microsoftonline.us', graphEndpoint: 'https://dod-graph.microsoft.us' }],
  [AuthorityCloud.AUTHORITY_CLOUD_CHINA, { name: 'china', authorityHost: 'https://login.chinacloudapi.cn', graphEndpoint: 'https://microsoftgraph.chinacloudapi.cn' }],
]);

const cloudByName = new Map<string, AuthorityCloud>([
  ...[...predefinedClouds].map(([cloud, hosts]) => [hosts.name, cloud] as const),
  ['custom', AuthorityCloud.AUTHORITY_CLOUD_CUSTOM],
]);

/** The proto enum of a stored cloud name. */
export function toAuthorityCloud(name: string): AuthorityCloud {
  return cloudByName.get(name) ?? AuthorityCloud.AUTHORITY_CLOUD_UNSPECIFIED;
}

/** Microsoft Graph's resource id in the global cloud (the `aud` of its tokens). */
export const globalGraphResource = 'https://graph.microsoft.com';

/**
 * The scope of app-only Graph tokens: `<Graph resource>/.default`. The predefined clouds' resource
 * is their Graph host; a CUSTOM cloud (a proxy of, or emulator for, the global cloud such as the
 * graph sandbox) issues tokens for the global Graph resource, whatever host serves Graph.
 */
export function appOnlyScope(record: { cloud: string; graphEndpoint: string }): string {
  const resource = record.cloud === 'custom' ? globalGraphResource : record.graphEndpoint.replace(/\/+$/, '');
  return `${resource}/.default`;
}

/** Delegated scopes of mailbox grants (MSAL adds openid, profile and offline_access). */
export const delegatedScopes = ['Mail.ReadWrite', 'Mail.Send'] as const;
