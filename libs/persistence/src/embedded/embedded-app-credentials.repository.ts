import { AlreadyExistsError, ConflictError, NotFoundError, ValidationError } from '@mailroute/platform';
import type { AppCredentialsRecord, AppCredentialsRepository, NewAppCredentials } from '../ports/app-credentials.repository';
import { encodePageToken, readPageRequest, type Page, type PageRequest } from '../ports/pagination';
import { fromJsonDocument, toJsonDocument, type EmbeddedStore } from './embedded-store';

/** App credentials in the embedded store: one row per (tenant, credentials id) with its version. */
export class EmbeddedAppCredentialsRepository implements AppCredentialsRepository {
  constructor(private readonly store: EmbeddedStore) {
    store.db.exec(`CREATE TABLE IF NOT EXISTS app_credentials (
      key TEXT PRIMARY KEY,
      version INTEGER NOT NULL,
      document TEXT NOT NULL
    ) WITHOUT ROWID`);
  }

  async create(record: NewAppCredentials, now: Date): Promise<AppCredentialsRecord> {
    const stored: AppCredentialsRecord = { ...record, version: 1, createdAt: now, updatedAt: now };
    const result = this.store.db
      .prepare('INSERT INTO app_credentials (key, version, document) VALUES (?, 1, ?) ON CONFLICT DO NOTHING')
      .run(keyOf(record.tenantId, record.credentialsId), toJsonDocument(stored));
    if (result.changes === 0) throw new AlreadyExistsError('tenant credentials', record.credentialsId);
    return stored;
  }

  async get(tenantId: string, credentialsId: string): Promise<AppCredentialsRecord | undefined> {
    const row = this.store.db
      .prepare('SELECT document FROM app_credentials WHERE key = ?')
      .get(keyOf(tenantId, credentialsId)) as { document: string } | undefined;
    return row ? fromJsonDocument<AppCredentialsRecord>(row.document) : undefined;
  }

  async replace(record: AppCredentialsRecord, now: Date): Promise<AppCredentialsRecord> {
    const current = await this.get(record.tenantId, record.credentialsId);
    if (!current) throw new NotFoundError('tenant credentials', record.credentialsId);
    const next: AppCredentialsRecord = { ...record, createdAt: current.createdAt, updatedAt: now, version: record.version + 1 };
    // The version check and the write are one statement: a concurrent writer makes `changes` 0.
    const result = this.store.db
      .prepare('UPDATE app_credentials SET version = ?, document = ? WHERE key = ? AND version = ?')
      .run(next.version, toJsonDocument(next), keyOf(record.tenantId, record.credentialsId), record.version);
    if (result.changes === 0) {
      throw new ConflictError(
        `tenant credentials ${JSON.stringify(record.credentialsId)} changed since it was read; read it again`,
      );
    }
    return next;
  }

  async delete(tenantId: string, credentialsId: string, expectedVersion?: number): Promise<boolean> {
    const key = keyOf(tenantId, credentialsId);
    if (expectedVersion === undefined)
      return this.store.db.prepare('DELETE FROM app_credentials WHERE key = ?').run(key).changes === 1;
    const result = this.store.db.prepare('DELETE FROM app_credentials WHERE key = ? AND version = ?').run(key, expectedVersion);
    if (result.changes === 1) return true;
    if (!(await this.get(tenantId, credentialsId))) return false;
    throw new ConflictError(
      `tenant credentials ${JSON.stringify(credentialsId)} changed since version ${expectedVersion}; read it again`,
    );
  }

  async list(tenantId: string, request: PageRequest): Promise<Page<AppCredentialsRecord>> {
    return this.pageOf(`${tenantId}/`, request);
  }

  async listAll(request: PageRequest): Promise<Page<AppCredentialsRecord>> {
    return this.pageOf('', request);
  }

  private pageOf(prefix: string, request: PageRequest): Page<AppCredentialsRecord> {
    const { pageSize, after } = readPageRequest(request);
    if (after !== undefined && !after.startsWith(prefix))
      throw new ValidationError('page.page_token', 'was issued for another list');
    const rows = this.store.db
      .prepare('SELECT key, document FROM app_credentials WHERE key > ? AND key < ? ORDER BY key LIMIT ?')
      .all(after ?? prefix, `${prefix}\uffff`, pageSize + 1) as { key: string; document: string }[];
    const items = rows.slice(0, pageSize).map((row) => fromJsonDocument<AppCredentialsRecord>(row.document));
    const last = rows.length > pageSize ? rows[pageSize - 1] : undefined;
    return last ? { items, nextPageToken: encodePageToken(last.key) } : { items };
  }
}

function keyOf(tenantId: string, credentialsId: string): string {
  return `${tenantId}/${credentialsId}`;
}
