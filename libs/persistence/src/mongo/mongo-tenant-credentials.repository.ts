import type { Collection } from 'mongodb';
import { AlreadyExistsError, ConflictError, NotFoundError } from '@mailroute/platform';
import { isConnectionError, isDuplicateKeyError, StoreUnavailableError } from '../errors';
import { encodePageToken, readPageRequest, type Page, type PageRequest } from '../ports/pagination';
import type {
  NewTenantCredentials,
  TenantCredentialsChanges,
  TenantCredentialsRecord,
  TenantCredentialsRepository,
} from '../ports/tenant-credentials.repository';
import type { IndexPlan, MongoStore } from './mongo-store';

const collectionName = 'tenant_credentials';

type TenantCredentialsDocument = Omit<TenantCredentialsRecord, 'tenantId'> & { _id: string };

/** Indexes of the tenant credentials collection (`_id` is the tenant id, unique by itself). */
export const tenantCredentialsIndexes: IndexPlan = {
  [collectionName]: [
    // Expiry monitoring scans secrets and certificates expiring soon.
    { key: { 'credential.expiresAt': 1 }, name: 'credential_secret_expiry' },
    { key: { 'credential.notAfter': 1 }, name: 'credential_certificate_expiry' },
    { key: { entraTenantId: 1, clientId: 1 }, name: 'entra_app' },
  ],
};

/** Tenant credentials in MongoDB: one document per tenant, `_id` = tenant id. */
export class MongoTenantCredentialsRepository implements TenantCredentialsRepository {
  private readonly collection: Collection<TenantCredentialsDocument>;

  constructor(store: MongoStore) {
    this.collection = store.db.collection<TenantCredentialsDocument>(collectionName);
  }

  async create(record: NewTenantCredentials, now: Date): Promise<TenantCredentialsRecord> {
    const { tenantId, ...rest } = record;
    const document: TenantCredentialsDocument = { _id: tenantId, ...rest, version: 1, createdAt: now, updatedAt: now };
    try {
      await this.collection.insertOne(document);
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new AlreadyExistsError('tenant credentials', tenantId, { cause: error });
      throw wrap(error);
    }
    return toRecord(document);
  }

  async get(tenantId: string): Promise<TenantCredentialsRecord | undefined> {
    const document = await this.collection.findOne({ _id: tenantId }).catch((error: unknown) => {
      throw wrap(error);
    });
    return document ? toRecord(document) : undefined;
  }

  async update(
    tenantId: string,
    expectedVersion: number,
    changes: TenantCredentialsChanges,
    now: Date,
  ): Promise<TenantCredentialsRecord> {
    const set: Partial<TenantCredentialsDocument> = { updatedAt: now };
    for (const [key, value] of Object.entries(changes)) {
      if (value !== undefined) (set as Record<string, unknown>)[key] = value;
    }
    const updated = await this.collection
      .findOneAndUpdate(
        { _id: tenantId, version: expectedVersion },
        { $set: set, $inc: { version: 1 } },
        { returnDocument: 'after' },
      )
      .catch((error: unknown) => {
        throw wrap(error);
      });
    if (updated) return toRecord(updated);
    const current = await this.collection.findOne({ _id: tenantId }, { projection: { version: 1 } });
    if (!current) throw new NotFoundError('tenant credentials', tenantId);
    throw new ConflictError(
      `tenant credentials ${JSON.stringify(tenantId)} changed (version ${current.version}, expected ${expectedVersion}); read it again`,
    );
  }

  async delete(tenantId: string): Promise<boolean> {
    const result = await this.collection.deleteOne({ _id: tenantId }).catch((error: unknown) => {
      throw wrap(error);
    });
    return result.deletedCount === 1;
  }

  async list(request: PageRequest): Promise<Page<TenantCredentialsRecord>> {
    const { pageSize, after } = readPageRequest(request);
    const documents = await this.collection
      .find(after === undefined ? {} : { _id: { $gt: after } })
      .sort({ _id: 1 })
      .limit(pageSize + 1)
      .toArray()
      .catch((error: unknown) => {
        throw wrap(error);
      });
    const items = documents.slice(0, pageSize).map(toRecord);
    const last = items.at(-1);
    return documents.length > pageSize && last ? { items, nextPageToken: encodePageToken(last.tenantId) } : { items };
  }
}

function toRecord(document: TenantCredentialsDocument): TenantCredentialsRecord {
  const { _id, ...rest } = document;
  return { tenantId: _id, ...rest };
}

function wrap(error: unknown): unknown {
  return isConnectionError(error) ? new StoreUnavailableError('mongodb: tenant credentials store unavailable', error) : error;
}
