import { ConfidentialClientApplication, PublicClientApplication, type Configuration, type ICachePlugin } from '@azure/msal-node';
import type { AppCredentialsRecord } from '@mailroute/persistence';
import type { SecretBox } from '@mailroute/platform';
import type { EntraNetwork } from './entra-network';

/** Sealing contexts: a sealed value opens only under the record and field it was sealed for. */
export const sealingContext = {
  secret: (tenantId: string, credentialsId: string) => `credentials/${tenantId}/${credentialsId}/client-secret`,
  privateKey: (tenantId: string, credentialsId: string) => `credentials/${tenantId}/${credentialsId}/private-key`,
  tokenCache: (partition: string) => `token-cache/${partition}`,
} as const;

/** `https://host/<directory>`: the authority MSAL talks to for these credentials. */
export function authorityOf(record: Pick<AppCredentialsRecord, 'authorityHost' | 'directoryId'>): string {
  return `${record.authorityHost.replace(/\/+$/, '')}/${record.directoryId}`;
}

function authOptions(
  record: AppCredentialsRecord,
): Pick<NonNullable<Configuration['auth']>, 'clientId' | 'authority' | 'knownAuthorities'> {
  return {
    clientId: record.clientId,
    authority: authorityOf(record),
    // Without it MSAL runs instance discovery against login.microsoftonline.com for hosts it does
    // not know (sovereign and custom clouds, the graph sandbox); listing the host trusts it.
    knownAuthorities: [new URL(record.authorityHost).host],
  };
}

/**
 * An MSAL confidential client for one credentials revision: the secret or certificate is opened
 * from its sealed form only here, into MSAL's configuration (never logged).
 */
export function createConfidentialClient(
  record: AppCredentialsRecord,
  secretBox: SecretBox,
  network: EntraNetwork,
  cachePlugin?: ICachePlugin,
): ConfidentialClientApplication {
  const credential = record.credential;
  const auth =
    credential.kind === 'client-secret'
      ? {
          ...authOptions(record),
          clientSecret: secretBox.openString(credential.secret, sealingContext.secret(record.tenantId, record.credentialsId)),
        }
      : {
          ...authOptions(record),
          clientCertificate: {
            thumbprintSha256: credential.thumbprintSha256,
            privateKey: secretBox.openString(
              credential.privateKey,
              sealingContext.privateKey(record.tenantId, record.credentialsId),
            ),
            ...(credential.sendCertificateChain ? { x5c: credential.certificatePem } : {}),
          },
        };
  return new ConfidentialClientApplication({
    auth,
    system: { networkClient: network.module },
    ...(cachePlugin ? { cache: { cachePlugin } } : {}),
  });
}

/** An MSAL public client (device-code sign-in and delegated refresh) for the credentials' app. */
export function createPublicClient(
  record: AppCredentialsRecord,
  network: EntraNetwork,
  cachePlugin?: ICachePlugin,
): PublicClientApplication {
  return new PublicClientApplication({
    auth: authOptions(record),
    system: { networkClient: network.module },
    ...(cachePlugin ? { cache: { cachePlugin } } : {}),
  });
}
