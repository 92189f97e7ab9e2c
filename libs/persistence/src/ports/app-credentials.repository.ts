import type { EncryptedValue } from './encrypted-value';
import type { Page, PageRequest } from './pagination';

/** How an app registration authenticates to Entra ID. Secret material is only ever held sealed. */
export type AppCredential =
  | {
      kind: 'client-secret';
      secret: EncryptedValue;
      /** When the secret expires in Entra ID, as entered; drives expiry warnings. */
      expiresAt: Date;
    }
  | {
      kind: 'certificate';
      privateKey: EncryptedValue;
      /** The public certificate (PEM, with its chain when given); not secret. */
      certificatePem: string;
      /** Upper-case hex thumbprints. */
      thumbprintSha1: string;
      thumbprintSha256: string;
      subject: string;
      issuer: string;
      notBefore: Date;
      notAfter: Date;
      sendCertificateChain: boolean;
    };

/**
 * One set of a tenant's Entra ID app credentials (an app registration in a directory), keyed by
 * tenant and credentials id. `version` is the optimistic-concurrency counter behind the API's etag.
 */
export interface AppCredentialsRecord {
  /** The mailroute tenant, always from the caller's verified identity. */
  tenantId: string;
  credentialsId: string;
  displayName: string;
  /** Entra ID directory (tenant) id or verified domain. */
  directoryId: string;
  clientId: string;
  /** Cloud name: global | us-gov | us-gov-dod | china | custom. */
  cloud: string;
  /** Effective authority base URL, https://host[:port]. */
  authorityHost: string;
  /** Effective Graph base URL, https://host[:port]. */
  graphEndpoint: string;
  credential: AppCredential;
  /**
   * Opaque id that changes whenever the directory, app, cloud or credential changes: token caches
   * and health are keyed by it, so a change drops them.
   */
  revision: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export type NewAppCredentials = Omit<AppCredentialsRecord, 'version' | 'createdAt' | 'updatedAt'>;

/** Storage of tenants' app credentials. */
export interface AppCredentialsRepository {
  /** Stores new credentials at version 1; AlreadyExistsError when the id is taken in the tenant. */
  create(record: NewAppCredentials, now: Date): Promise<AppCredentialsRecord>;
  get(tenantId: string, credentialsId: string): Promise<AppCredentialsRecord | undefined>;
  /**
   * Replaces the stored data with `record` if the stored version is still `record.version`; returns
   * the stored record (version + 1). NotFoundError when missing; ConflictError when it changed.
   */
  replace(record: AppCredentialsRecord, now: Date): Promise<AppCredentialsRecord>;
  /**
   * Deletes; with `expectedVersion`, only if that is still the stored version (ConflictError
   * otherwise). False when there was nothing to delete.
   */
  delete(tenantId: string, credentialsId: string, expectedVersion?: number): Promise<boolean>;
  /** A tenant's credentials, ordered by credentials id. */
  list(tenantId: string, page: PageRequest): Promise<Page<AppCredentialsRecord>>;
  /** Every tenant's credentials, ordered by tenant then id (expiry monitoring). */
  listAll(page: PageRequest): Promise<Page<AppCredentialsRecord>>;
}
