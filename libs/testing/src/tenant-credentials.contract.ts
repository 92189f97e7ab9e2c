import type { NewTenantCredentials, TenantCredentialsRepository } from '@mailroute/persistence';
import { randomId } from './wait-for';

export interface RepositoryContractOptions<R> {
  /** A repository over fresh, empty storage; `close` releases it. */
  create: () => Promise<{ repository: R; close: () => Promise<void> }>;
}

/** A record as auth-broker would store it: the secret only ever in sealed form. */
export function sampleTenantCredentials(tenantId = randomId('tenant')): NewTenantCredentials {
  return {
    tenantId,
    entraTenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    clientId: '11111111-2222-3333-4444-555555555555',
    authorityHost: 'https://login.microsoftonline.com',
    credential: {
      kind: 'client-secret',
      secret: { keyId: 'k1', algorithm: 'aes-256-gcm', iv: 'aXYtaXYtaXYtaXY=', ciphertext: 'Y2lwaGVy', authTag: 'dGFnLXRhZy10YWctdGFn' },
      expiresAt: new Date('2027-03-01T00:00:00.000Z'),
    },
  };
}

/** The behaviour every TenantCredentialsRepository adapter must have. */
export function describeTenantCredentialsRepositoryContract(
  name: string,
  options: RepositoryContractOptions<TenantCredentialsRepository>,
): void {
  describe(`TenantCredentialsRepository contract: ${name}`, () => {
    let repository: TenantCredentialsRepository;
    let close: () => Promise<void>;
    const t0 = new Date('2026-11-01T10:00:00.000Z');
    const t1 = new Date('2026-11-02T10:00:00.000Z');

    beforeEach(async () => {
      ({ repository, close } = await options.create());
    });
    afterEach(async () => {
      await close();
    });

    it('stores a record and reads it back exactly, dates and sealed secret included', async () => {
      const record = sampleTenantCredentials();
      const created = await repository.create(record, t0);
      expect(created).toEqual({ ...record, version: 1, createdAt: t0, updatedAt: t0 });
      const read = await repository.get(record.tenantId);
      expect(read).toEqual(created);
      expect(read?.createdAt).toBeInstanceOf(Date);
    });

    it('refuses a second record for the same tenant with ALREADY_EXISTS', async () => {
      const record = sampleTenantCredentials();
      await repository.create(record, t0);
      await expect(repository.create({ ...record, clientId: 'other' }, t1)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      expect((await repository.get(record.tenantId))?.clientId).toBe(record.clientId);
    });

    it('returns nothing for another tenant', async () => {
      await repository.create(sampleTenantCredentials('tenant-a'), t0);
      expect(await repository.get('tenant-b')).toBeUndefined();
    });

    it('updates when the expected version matches, and bumps the version', async () => {
      const record = sampleTenantCredentials();
      await repository.create(record, t0);
      const certificate = {
        kind: 'certificate' as const,
        privateKey: { keyId: 'k2', algorithm: 'aes-256-gcm' as const, iv: 'aXY=', ciphertext: 'a2V5', authTag: 'dGFn' },
        certificatePem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
        thumbprint: 'ab'.repeat(32),
        notAfter: new Date('2028-01-01T00:00:00.000Z'),
      };
      const updated = await repository.update(record.tenantId, 1, { credential: certificate }, t1);
      expect(updated).toMatchObject({ version: 2, credential: certificate, createdAt: t0, updatedAt: t1, clientId: record.clientId });
      expect(await repository.get(record.tenantId)).toEqual(updated);
    });

    it('lets exactly one of five concurrent updates of the same version win; the others get ABORTED', async () => {
      const record = sampleTenantCredentials();
      await repository.create(record, t0);
      const writers = ['a', 'b', 'c', 'd', 'e'];
      const results = await Promise.allSettled(
        writers.map((writer) => repository.update(record.tenantId, 1, { clientId: `writer-${writer}` }, t1)),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost.map((r) => (r.reason as { code?: string }).code)).toEqual(['ABORTED', 'ABORTED', 'ABORTED', 'ABORTED']);
      const stored = await repository.get(record.tenantId);
      expect(stored?.version).toBe(2);
      expect(stored?.clientId).toBe((won[0] as PromiseFulfilledResult<{ clientId: string }>).value.clientId);
    });

    it('does not bring back a record deleted after a writer read it', async () => {
      const record = sampleTenantCredentials();
      await repository.create(record, t0);
      await repository.delete(record.tenantId);
      await expect(repository.update(record.tenantId, 1, { clientId: 'late' }, t1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await repository.get(record.tenantId)).toBeUndefined();
    });

    it('reports NOT_FOUND when updating a tenant that has no record', async () => {
      await expect(repository.update('nobody', 1, { clientId: 'x' }, t1)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('deletes a record once', async () => {
      const record = sampleTenantCredentials();
      await repository.create(record, t0);
      expect(await repository.delete(record.tenantId)).toBe(true);
      expect(await repository.delete(record.tenantId)).toBe(false);
      expect(await repository.get(record.tenantId)).toBeUndefined();
    });

    it('lists every record once, in tenant order, across pages', async () => {
      const ids = Array.from({ length: 23 }, (_, i) => `tenant-${String(i).padStart(2, '0')}`);
      for (const id of [...ids].reverse()) await repository.create(sampleTenantCredentials(id), t0);
      const seen: string[] = [];
      let pageToken: string | undefined;
      let pages = 0;
      do {
        const page = await repository.list({ pageSize: 10, ...(pageToken ? { pageToken } : {}) });
        seen.push(...page.items.map((item) => item.tenantId));
        pageToken = page.nextPageToken;
        pages += 1;
      } while (pageToken);
      expect(pages).toBe(3);
      expect(seen).toEqual(ids);
    });

    it('rejects a bad page size or a forged page token with INVALID_ARGUMENT naming the field', async () => {
      await expect(repository.list({ pageSize: 10_000 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page_size' });
      await expect(repository.list({ pageToken: 'not-a-token' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page_token' });
    });
  });
}
