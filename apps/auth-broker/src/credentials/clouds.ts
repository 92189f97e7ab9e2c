import { AuthorityCloud } from '@mailroute/contracts';
import { FailedPreconditionError } from '@mailroute/platform';

/** Authority and Graph hosts of a Microsoft cloud. */
export interface CloudHosts {
  /** Stored name of the cloud. */
  name: string;
  authorityHost: string;
  graphEndpoint: string;
}

/** The predefined clouds (proto AuthorityCloud); CUSTOM takes explicit hosts. */
export const predefinedClouds: ReadonlyMap<AuthorityCloud, CloudHosts> = new Map([
  [
    AuthorityCloud.AUTHORITY_CLOUD_GLOBAL,
    { name: 'global', authorityHost: 'https://login.microsoftonline.com', graphEndpoint: 'https://graph.microsoft.com' },
  ],
  [
    AuthorityCloud.AUTHORITY_CLOUD_US_GOV,
    { name: 'us-gov', authorityHost: 'https://login.microsoftonline.us', graphEndpoint: 'https://graph.microsoft.us' },
  ],
  [
    AuthorityCloud.AUTHORITY_CLOUD_US_GOV_DOD,
    { name: 'us-gov-dod', authorityHost: 'https://login.microsoftonline.us', graphEndpoint: 'https://dod-graph.microsoft.us' },
  ],
  [
    AuthorityCloud.AUTHORITY_CLOUD_CHINA,
    { name: 'china', authorityHost: 'https://login.chinacloudapi.cn', graphEndpoint: 'https://microsoftgraph.chinacloudapi.cn' },
  ],
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
const globalGraphResource = 'https://graph.microsoft.com';

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

/**
 * Which hosts tenant credentials may point auth-broker (authority) and the other services (Graph) at.
 * A CUSTOM cloud chosen by a tenant admin is a request from outside to fetch from a URL it names:
 * without a limit, link-local, loopback and private hosts become reachable (and the diagnosis a
 * port scanner). So only the national clouds' own hosts are allowed, plus the origins the operator
 * lists (AUTH_BROKER_ALLOWED_CLOUD_ORIGINS: the graph sandbox, a proxy in front of Entra ID / Graph).
 */
export interface CloudPolicy {
  /** True when `origin` (`https://host[:port]`) may be an authority host or Graph endpoint. */
  allows(origin: string): boolean;
  /** Refuses stored credentials whose hosts are no longer allowed (the operator narrowed the list). */
  assertUsable(record: { credentialsId: string; authorityHost: string; graphEndpoint: string }): void;
}

const nationalCloudOrigins = new Set(
  [...predefinedClouds.values()].flatMap((hosts) => [hosts.authorityHost, hosts.graphEndpoint]).map((url) => new URL(url).origin),
);

export function createCloudPolicy(extraOrigins: readonly string[] = []): CloudPolicy {
  const allowed = new Set([...nationalCloudOrigins, ...extraOrigins.map((origin) => new URL(origin).origin)]);
  const allows = (origin: string) => {
    try {
      return allowed.has(new URL(origin).origin);
    } catch {
      return false;
    }
  };
  return {
    allows,
    assertUsable(record) {
      if (!allows(record.authorityHost) || !allows(record.graphEndpoint)) {
        throw new FailedPreconditionError(
          `tenant credentials "${record.credentialsId}" use an authority host or Graph endpoint this installation does not allow; choose a national cloud, or ask the operator to allow the host`,
          { reason: 'CLOUD_NOT_ALLOWED' },
        );
      }
    },
  };
}

/**
 * Parses AUTH_BROKER_ALLOWED_CLOUD_ORIGINS: `https://host[:port]` origins, comma separated. Throws
 * naming the entry's position, never its text.
 */
export function parseCloudOrigins(text: string): string[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, index) => {
      let url: URL;
      try {
        url = new URL(entry);
      } catch {
        throw new Error(`entry ${index + 1} must be "https://host[:port]"`);
      }
      if (
        url.protocol !== 'https:' ||
        (url.pathname !== '/' && url.pathname !== '') ||
        url.search ||
        url.hash ||
        url.username ||
        url.password
      ) {
        throw new Error(`entry ${index + 1} must be "https://host[:port]" without path, query or credentials`);
      }
      return url.origin;
    });
}
