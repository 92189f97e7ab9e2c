import type { Db } from 'mongodb';
import { AlreadyExistsError, ConflictError, NotFoundError } from '@mailroute/platform';
import { encodePageToken, readPageRequest, type Page, type PageRequest } from '../ports/pagination';
import type {
  NewTenantCredentials,
  TenantCredentialsChanges,
  TenantCredentialsRecord,
  TenantCredentialsRepository,
} from '../ports/tenant-credentials.repository';
import type { IndexPlan, MongoStore } from './mongo-store';
import { VersionedCollection, type LatestVersion } from './versioned-collection';

const collectionName = 'tenant_credentials';

type StoredRecord = Omit<TenantCredentialsRecord, 'tenantId' | 'version'>;

/** Indexes of the tenant credentials collection. */
export const tenantCredentialsIndexes: IndexPlan = VersionedCollection.indexes(collectionName, [
  // Expiry monitoring scans secrets and certificates expiring soon.
  { key: { 'data.credential.expiresAt': 1 }, name: 'credential_secret_expiry' },
  { key: { 'data.credential.notAfter': 1 }, name: 'credential_certificate_expiry' },
]);

/** Tenant credentials in MongoDB, one record per tenant, versioned for optimistic concurrency. */
export class MongoTenantCredentialsRepository implements TenantCredentialsRepository {
  private readonly records: VersionedCollection<StoredRecord>;

  constructor(store: MongoStore | { db: Db }) {
    this.records = new VersionedCollection<StoredRecord>(store.db, collectionName);
  }

  async create(record: NewTenantCredentials, now: Date): Promise<TenantCredentialsRecord> {
    const { tenantId, ...rest } = record;
    const stored: StoredRecord = { ...rest, createdAt: now, updatedAt: now };
    const result = await this.records.write(tenantId, 0, stored);
    if (result.outcome === 'conflict') throw new AlreadyExistsError('tenant credentials', tenantId);
    return { tenantId, version: result.version, ...stored };
  }

  async get(tenantId: string): Promise<TenantCredentialsRecord | undefined> {
    const latest = await this.records.latest(tenantId);
    return latest ? toRecord(latest) : undefined;
  }

  async update(
    tenantId: string,
    expectedVersion: number,
    changes: TenantCredentialsChanges,
    now: Date,
  ): Promise<TenantCredentialsRecord> {
    const current = await this.records.latest(tenantId);
    if (!current) throw new NotFoundError('tenant credentials', tenantId);
    const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    const next: StoredRecord = { ...current.data, ...defined, updatedAt: now };
    const result = current.version === expectedVersion ? await this.records.write(tenantId, expectedVersion, next) : undefined;
    if (!result || result.outcome === 'conflict') {
      throw new ConflictError(
        `tenant credentials ${JSON.stringify(tenantId)} changed since version ${expectedVersion}; read it again`,
      );
    }
    return { tenantId, version: result.version, ...next };
  }

  delete(tenantId: string): Promise<boolean> {
    return this.records.remove(tenantId);
  }

  async list(request: PageRequest): Promise<Page<TenantCredentialsRecord>> {
    const { pageSize, after } = readPageRequest(request);
    const found = await this.records.page(after, pageSize + 1);
    const items = found.slice(0, pageSize).map(toRecord);
    const last = items.at(-1);
    return found.length > pageSize && last ? { items, nextPageToken: encodePageToken(last.tenantId) } : { items };
  }
}

function toRecord(latest: LatestVersion<StoredRecord>): TenantCredentialsRecord {
  return { tenantId: latest.key, version: latest.version, ...latest.data };
}
