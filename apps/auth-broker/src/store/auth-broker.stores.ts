import {
  appCredentialsIndexes,
  EmbeddedAppCredentialsRepository,
  EmbeddedDocumentTable,
  EmbeddedLeaseRepository,
  EmbeddedStore,
  leaseIndexes,
  MongoAppCredentialsRepository,
  MongoDocumentTable,
  MongoLeaseRepository,
  MongoStore,
  type AlertRow,
  type AppCredentialsRepository,
  type DocumentTable,
  type EncryptedValue,
  type LeaseRepository,
} from '@mailroute/persistence';
import type { AlertPayload } from '@mailroute/messaging';
import type { DelegatedGrantState, DelegatedSignInStatus, DiagnosticFinding } from '@mailroute/contracts';
import type { Logger } from '@mailroute/platform';

/** Health of one credentials revision, written after every token acquisition and diagnosis. */
export interface CredentialHealthDocument {
  /** The credentials revision this is about; another revision means "unverified". */
  revision: string;
  lastTokenAt?: Date | undefined;
  /** Set when Entra ID rejected the credentials (configuration problem); cleared by a success. */
  lastFailure?: DiagnosticFinding | undefined;
  lastFailureAt?: Date | undefined;
}

/** An MSAL token cache partition (serialized cache, sealed: it holds access and refresh tokens). */
export interface TokenCacheDocument {
  sealed: EncryptedValue;
  updatedAt: Date;
}

/** A mailbox's delegated grant; its refresh token lives sealed in the grant's token cache partition. */
export interface DelegatedGrantDocument {
  tenantId: string;
  mailboxAddress: string;
  credentialsId: string;
  signedInUser: string;
  signedInUserObjectId: string;
  /** MSAL's account key (`<oid>.<tid>`), to find the account in the cache. */
  homeAccountId: string;
  state: DelegatedGrantState;
  grantedScopes: string[];
  lastFailure?: DiagnosticFinding | undefined;
  createdAt: Date;
  lastRefreshedAt?: Date | undefined;
  updatedAt: Date;
}

/** A device-code sign-in in progress (or finished), readable by every replica. */
export interface SignInSessionDocument {
  signInId: string;
  tenantId: string;
  mailboxAddress: string;
  credentialsId: string;
  status: DelegatedSignInStatus;
  userCode: string;
  verificationUri: string;
  message: string;
  expiresAt: Date;
  intervalSeconds: number;
  failure?: DiagnosticFinding | undefined;
  /** Replica polling Entra ID for it. */
  owner: string;
  createdAt: Date;
  updatedAt: Date;
}

/** Every store the auth-broker uses; Mongo for scale-out, embedded for the single-process default. */
export interface AuthBrokerStores {
  credentials: AppCredentialsRepository;
  health: DocumentTable<CredentialHealthDocument>;
  tokenCache: DocumentTable<TokenCacheDocument>;
  grants: DocumentTable<DelegatedGrantDocument>;
  signIns: DocumentTable<SignInSessionDocument>;
  leases: LeaseRepository;
  /** Credential-expiry alert claims and their markers (alerts/credential-expiry-alerts.ts). */
  alerts: DocumentTable<AlertRow<AlertPayload>>;
  close(): Promise<void>;
}

/** The auth-broker stores over one MongoDB database (indexes created when missing). */
export async function openMongoStores(options: { url: string; database: string; logger?: Logger }): Promise<AuthBrokerStores> {
  const store = await MongoStore.connect({
    url: options.url,
    database: options.database,
    appName: 'auth-broker',
    ...(options.logger ? { logger: options.logger } : {}),
  });
  await store.ensureIndexes({ ...appCredentialsIndexes, ...leaseIndexes });
  return {
    credentials: new MongoAppCredentialsRepository(store),
    health: new MongoDocumentTable(store, 'credential_health'),
    tokenCache: new MongoDocumentTable(store, 'token_cache'),
    grants: new MongoDocumentTable(store, 'delegated_grants'),
    signIns: new MongoDocumentTable(store, 'delegated_sign_ins'),
    leases: new MongoLeaseRepository(store),
    alerts: new MongoDocumentTable(store, 'credential_alerts'),
    close: () => store.close(),
  };
}

/** The auth-broker stores in one embedded SQLite file (or ':memory:'). */
export function openEmbeddedStores(path: string): AuthBrokerStores {
  const store = new EmbeddedStore({ path });
  return {
    credentials: new EmbeddedAppCredentialsRepository(store),
    health: new EmbeddedDocumentTable(store, 'credential_health'),
    tokenCache: new EmbeddedDocumentTable(store, 'token_cache'),
    grants: new EmbeddedDocumentTable(store, 'delegated_grants'),
    signIns: new EmbeddedDocumentTable(store, 'delegated_sign_ins'),
    leases: new EmbeddedLeaseRepository(store),
    alerts: new EmbeddedDocumentTable(store, 'credential_alerts'),
    close: async () => store.close(),
  };
}

/** Key of a tenant-scoped document: `<tenant>/<id>`. */
export function tenantKey(tenantId: string, id: string): string {
  return `${tenantId}/${id}`;
}
