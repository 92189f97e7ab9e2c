import type { DelegatedGrant, TenantCredentials } from '@mailroute/contracts';
import type { AppCredentialsRecord } from '@mailroute/persistence';
import type { CredentialHealthDocument, DelegatedGrantDocument } from '../store/auth-broker.stores';
import { toAuthorityCloud } from './clouds';
import { credentialStateOf, daysUntil, expiryOf } from './credential-health';

/** The etag of a record version (opaque to callers). */
export function etagOf(record: Pick<AppCredentialsRecord, 'version' | 'revision'>): string {
  return `${record.version}-${record.revision}`;
}

/** Parses an etag back to its version; undefined when it is not one of ours (then it cannot match). */
export function versionOfEtag(etag: string): number | undefined {
  const version = Number(/^(\d+)-[0-9a-f]+$/.exec(etag)?.[1]);
  return Number.isSafeInteger(version) ? version : undefined;
}

/** The API view of stored credentials: statuses only, never secret material. */
export function toTenantCredentials(
  record: AppCredentialsRecord,
  health: CredentialHealthDocument | undefined,
  now: Date,
): TenantCredentials {
  const current = health?.revision === record.revision ? health : undefined;
  const credential = record.credential;
  const expiresAt = expiryOf(record);
  return {
    credentialsId: record.credentialsId,
    displayName: record.displayName,
    directoryId: record.directoryId,
    clientId: record.clientId,
    cloud: toAuthorityCloud(record.cloud),
    authorityHost: record.authorityHost,
    graphEndpoint: record.graphEndpoint,
    credential:
      credential.kind === 'client-secret'
        ? { $case: 'clientSecret', value: { hasSecret: true, expiresAt: credential.expiresAt } }
        : {
            $case: 'certificate',
            value: {
              hasPrivateKey: true,
              thumbprintSha1: credential.thumbprintSha1,
              thumbprintSha256: credential.thumbprintSha256,
              subject: credential.subject,
              issuer: credential.issuer,
              notBefore: credential.notBefore,
              notAfter: credential.notAfter,
              sendCertificateChain: credential.sendCertificateChain,
              certificatePem:
                /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(credential.certificatePem)?.[0] ?? '',
            },
          },
    state: credentialStateOf(record, health, now),
    expiresAt,
    daysUntilExpiry: daysUntil(expiresAt, now),
    lastFailure: current?.lastFailure,
    lastTokenAt: current?.lastTokenAt,
    encryptionKeyId: credential.kind === 'client-secret' ? credential.secret.keyId : credential.privateKey.keyId,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    etag: etagOf(record),
  };
}

/** The API view of a delegated grant (the refresh token never leaves the store). */
export function toDelegatedGrant(grant: DelegatedGrantDocument): DelegatedGrant {
  return {
    mailboxAddress: grant.mailboxAddress,
    credentialsId: grant.credentialsId,
    signedInUser: grant.signedInUser,
    signedInUserObjectId: grant.signedInUserObjectId,
    state: grant.state,
    grantedScopes: grant.grantedScopes,
    lastFailure: grant.lastFailure,
    createdAt: grant.createdAt,
    lastRefreshedAt: grant.lastRefreshedAt,
    updatedAt: grant.updatedAt,
  };
}
