import type { Db } from 'mongodb';
import { AlreadyExistsError, ConflictError, NotFoundError, ValidationError } from '@mailroute/platform';
import type { AppCredentialsRecord, AppCredentialsRepository, NewAppCredentials } from '../ports/app-credentials.repository';
import { encodePageToken, readPageRequest, type Page, type PageRequest } from '../ports/pagination';
import type { IndexPlan, MongoStore } from './mongo-store';
import { VersionedCollection, type LatestVersion } from './versioned-collection';

const collectionName = 'app_credentials';

type StoredRecord = Omit<AppCredentialsRecord, 'version'>;

/** Indexes of the app credentials collection. */
export const appCredentialsIndexes: IndexPlan = VersionedCollection.indexes(collectionName);

/**
 * App credentials in MongoDB under the key `<tenant>/<credentials id>`, versioned by unique
 * inserts (see VersionedCollection) so etag checks hold on FerretDB too.
 */
export class MongoAppCredentialsRepository implements AppCredentialsRepository {
  private readonly records: VersionedCollection<StoredRecord>;

  constructor(store: MongoStore | { db: Db }) {
    this.records = new VersionedCollection<StoredRecord>(store.db, collectionName);
  }

  async create(record: NewAppCredentials, now: Date): Promise<AppCredentialsRecord> {
    const stored: StoredRecord = { ...record, createdAt: now, updatedAt: now };
    const result = await this.records.write(keyOf(record.tenantId, record.credentialsId), 0, stored);
    if (result.outcome === 'conflict') throw new AlreadyExistsError('tenant credentials', record.credentialsId);
    return { ...stored, version: result.version };
  }

  async get(tenantId: string, credentialsId: string): Promise<AppCredentialsRecord | undefined> {
    const latest = await this.records.latest(keyOf(tenantId, credentialsId));
    return latest ? toRecord(latest) : undefined;
  }

  async replace(record: AppCredentialsRecord, now: Date): Promise<AppCredentialsRecord> {
    const key = keyOf(record.tenantId, record.credentialsId);
    const current = await this.records.latest(key);
    if (!current) throw new NotFoundError('tenant credentials', record.credentialsId);
    const { version: expectedVersion, ...data } = record;
    const next: StoredRecord = { ...data, createdAt: current.data.createdAt, updatedAt: now };
    const result = current.version === expectedVersion ? await this.records.write(key, expectedVersion, next) : undefined;
    if (!result || result.outcome === 'conflict') {
      throw new ConflictError(
        `tenant credentials ${JSON.stringify(record.credentialsId)} changed since it was read; read it again`,
      );
    }
    return { ...next, version: result.version };
  }

  delete(tenantId: string, credentialsId: string, expectedVersion?: number): Promise<boolean> {
    return this.records.remove(keyOf(tenantId, credentialsId), expectedVersion);
  }

  list(tenantId: string, request: PageRequest): Promise<Page<AppCredentialsRecord>> {
    return this.pageOf(`${tenantId}/`, request);
  }

  listAll(request: PageRequest): Promise<Page<AppCredentialsRecord>> {
    return this.pageOf('', request);
  }

  private async pageOf(prefix: string, request: PageRequest): Promise<Page<AppCredentialsRecord>> {
    const { pageSize, after } = readPageRequest(request);
    if (after !== undefined && !after.startsWith(prefix))
      throw new ValidationError('page.page_token', 'was issued for another list');
    // Keys are `<tenant>/<id>`: the tenant's keys sort right after `<tenant>/` and contiguously.
    const found = (await this.records.page(after ?? (prefix || undefined), pageSize + 1)).filter((item) =>
      item.key.startsWith(prefix),
    );
    const items = found.slice(0, pageSize).map(toRecord);
    const last = found.length > pageSize ? found[pageSize - 1] : undefined;
    return last ? { items, nextPageToken: encodePageToken(last.key) } : { items };
  }
}

function keyOf(tenantId: string, credentialsId: string): string {
  return `${tenantId}/${credentialsId}`;
}

function toRecord(latest: LatestVersion<StoredRecord>): AppCredentialsRecord {
  return { ...latest.data, version: latest.version };
}
