export * from './ports/pagination';
export * from './ports/tenant-credentials.repository';
export * from './errors';
export { MongoStore, redactUrl, type MongoStoreOptions, type IndexPlan } from './mongo/mongo-store';
export { MongoTenantCredentialsRepository, tenantCredentialsIndexes } from './mongo/mongo-tenant-credentials.repository';
export { VersionedCollection, type LatestVersion } from './mongo/versioned-collection';
export { EmbeddedStore, type EmbeddedStoreOptions } from './embedded/embedded-store';
export { EmbeddedTenantCredentialsRepository } from './embedded/embedded-tenant-credentials.repository';
