import type { Page, PageRequest } from './pagination';

/**
 * A secret sealed with authenticated encryption (AES-256-GCM). The key itself is never stored: only
 * its id, so keys can be rotated and old records still opened. All byte fields are base64.
 */
export interface EncryptedValue {
  keyId: string;
  algorithm: 'aes-256-gcm';
  iv: string;
  ciphertext: string;
  authTag: string;
}

/** How the tenant's app authenticates to Entra ID. Secrets are only ever held encrypted. */
export type StoredCredential =
  | {
      kind: 'client-secret';
      secret: EncryptedValue;
      /** When the secret expires in Entra (from the app registration); drives expiry warnings. */
      expiresAt?: Date | undefined;
    }
  | {
      kind: 'certificate';
      privateKey: EncryptedValue;
      /** The public certificate (PEM), not a secret. */
      certificatePem: string;
      /** SHA-256 thumbprint (hex) of the certificate, as Entra shows it. */
      thumbprint: string;
      notAfter?: Date | undefined;
    };

/** A tenant's Entra app registration as mailroute stores it. */
export interface TenantCredentialsRecord {
  /** The mailroute tenant: always from the caller's verified identity. */
  tenantId: string;
  /** The Entra directory (tenant) id or verified domain the app lives in. */
  entraTenantId: string;
  /** The app registration's application (client) id. */
  clientId: string;
  /** Authority host, e.g. https://login.microsoftonline.com (or the graph sandbox in development). */
  authorityHost: string;
  credential: StoredCredential;
  /** Incremented by every update; updates name the version they read (optimistic concurrency). */
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export type NewTenantCredentials = Omit<TenantCredentialsRecord, 'version' | 'createdAt' | 'updatedAt'>;

export type TenantCredentialsChanges = Partial<
  Pick<TenantCredentialsRecord, 'entraTenantId' | 'clientId' | 'authorityHost' | 'credential'>
>;

/** Storage of tenant credentials. One record per mailroute tenant. */
export interface TenantCredentialsRepository {
  /** Stores a new record (version 1). AlreadyExistsError if the tenant has one. */
  create(record: NewTenantCredentials, now: Date): Promise<TenantCredentialsRecord>;
  get(tenantId: string): Promise<TenantCredentialsRecord | undefined>;
  /**
   * Applies `changes` if the stored version is still `expectedVersion`. NotFoundError if there is no
   * record; ConflictError if someone else updated it first.
   */
  update(
    tenantId: string,
    expectedVersion: number,
    changes: TenantCredentialsChanges,
    now: Date,
  ): Promise<TenantCredentialsRecord>;
  /** True if a record was deleted. */
  delete(tenantId: string): Promise<boolean>;
  /** Every tenant's record, ordered by tenant id (operators and expiry monitoring). */
  list(page: PageRequest): Promise<Page<TenantCredentialsRecord>>;
}
