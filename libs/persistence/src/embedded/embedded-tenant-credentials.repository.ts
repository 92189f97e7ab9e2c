import { AlreadyExistsError, ConflictError, NotFoundError } from '@mailroute/platform';
import { encodePageToken, readPageRequest, type Page, type PageRequest } from '../ports/pagination';
import type {
  NewTenantCredentials,
  TenantCredentialsChanges,
  TenantCredentialsRecord,
  TenantCredentialsRepository,
} from '../ports/tenant-credentials.repository';
import { fromJsonDocument, toJsonDocument, type EmbeddedStore } from './embedded-store';

/** Tenant credentials in the embedded SQLite store: a row per tenant holding the JSON document. */
export class EmbeddedTenantCredentialsRepository implements TenantCredentialsRepository {
  constructor(private readonly store: EmbeddedStore) {
    store.db.exec(`CREATE TABLE IF NOT EXISTS tenant_credentials (
      tenant_id TEXT PRIMARY KEY,
      version INTEGER NOT NULL,
      document TEXT NOT NULL
    ) WITHOUT ROWID`);
  }

  async create(record: NewTenantCredentials, now: Date): Promise<TenantCredentialsRecord> {
    const stored: TenantCredentialsRecord = { ...record, version: 1, createdAt: now, updatedAt: now };
    const result = this.store.db
      .prepare('INSERT INTO tenant_credentials (tenant_id, version, document) VALUES (?, 1, ?) ON CONFLICT DO NOTHING')
      .run(record.tenantId, toJsonDocument(stored));
    if (result.changes === 0) throw new AlreadyExistsError('tenant credentials', record.tenantId);
    return stored;
  }

  async get(tenantId: string): Promise<TenantCredentialsRecord | undefined> {
    const row = this.store.db.prepare('SELECT document FROM tenant_credentials WHERE tenant_id = ?').get(tenantId) as
      | { document: string }
      | undefined;
    return row ? fromJsonDocument<TenantCredentialsRecord>(row.document) : undefined;
  }

  async update(
    tenantId: string,
    expectedVersion: number,
    changes: TenantCredentialsChanges,
    now: Date,
  ): Promise<TenantCredentialsRecord> {
    const current = await this.get(tenantId);
    if (!current) throw new NotFoundError('tenant credentials', tenantId);
    const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    const next: TenantCredentialsRecord = { ...current, ...defined, version: expectedVersion + 1, updatedAt: now };
    // The version check and the write are one statement: a concurrent writer makes `changes` 0.
    const result = this.store.db
      .prepare('UPDATE tenant_credentials SET version = ?, document = ? WHERE tenant_id = ? AND version = ?')
      .run(next.version, toJsonDocument(next), tenantId, expectedVersion);
    if (result.changes === 0) {
      throw new ConflictError(
        `tenant credentials ${JSON.stringify(tenantId)} changed (version ${current.version}, expected ${expectedVersion}); read it again`,
      );
    }
    return next;
  }

  async delete(tenantId: string): Promise<boolean> {
    return this.store.db.prepare('DELETE FROM tenant_credentials WHERE tenant_id = ?').run(tenantId).changes === 1;
  }

  async list(request: PageRequest): Promise<Page<TenantCredentialsRecord>> {
    const { pageSize, after } = readPageRequest(request);
    const rows = this.store.db
      .prepare('SELECT document FROM tenant_credentials WHERE tenant_id > ? ORDER BY tenant_id LIMIT ?')
      .all(after ?? '', pageSize + 1) as { document: string }[];
    const items = rows.slice(0, pageSize).map((row) => fromJsonDocument<TenantCredentialsRecord>(row.document));
    const last = items.at(-1);
    return rows.length > pageSize && last ? { items, nextPageToken: encodePageToken(last.tenantId) } : { items };
  }
}
