import type { AppCredentialsRepository, NewAppCredentials } from '@mailroute/persistence';
import type { RepositoryContractOptions } from './repository-contract';
import { randomId } from './wait-for';

/** App credentials as auth-broker stores them: the secret only ever sealed. */
export function sampleAppCredentials(tenantId = randomId('tenant'), credentialsId = 'default'): NewAppCredentials {
  return {
    tenantId,
    credentialsId,
    displayName: 'Contoso production',
    directoryId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    clientId: '11111111-2222-3333-4444-555555555555',
    cloud: 'global',
    authorityHost: 'https://login.microsoftonline.com',
    graphEndpoint: 'https://graph.microsoft.com',
    credential: {
      kind: 'client-secret',
      secret: {
        keyId: 'k1',
        algorithm: 'aes-256-gcm',
        iv: 'aXYtaXYtaXYtaXY=',
        ciphertext: 'Y2lwaGVy',
        authTag: 'dGFnLXRhZy10YWctdGFn',
      },
      expiresAt: new Date('2027-03-01T00:00:00.000Z'),
    },
    revision: 'r1',
  };
}

/** The behaviour every AppCredentialsRepository adapter must have. */
export function describeAppCredentialsRepositoryContract(
  name: string,
  options: RepositoryContractOptions<AppCredentialsRepository>,
): void {
  describe(`AppCredentialsRepository contract: ${name}`, () => {
    let repository: AppCredentialsRepository;
    let close: () => Promise<void>;
    const t0 = new Date('2026-11-01T10:00:00.000Z');
    const t1 = new Date('2026-11-02T10:00:00.000Z');

    beforeEach(async () => {
      ({ repository, close } = await options.create());
    });
    afterEach(async () => {
      await close();
    });

    it('stores credentials and reads them back exactly, dates and sealed secret included', async () => {
      const record = sampleAppCredentials();
      const created = await repository.create(record, t0);
      expect(created).toEqual({ ...record, version: 1, createdAt: t0, updatedAt: t0 });
      const read = await repository.get(record.tenantId, 'default');
      expect(read).toEqual(created);
      expect(read?.createdAt).toBeInstanceOf(Date);
    });

    it('refuses a taken id with ALREADY_EXISTS but allows the same id in another tenant', async () => {
      const record = sampleAppCredentials();
      await repository.create(record, t0);
      await expect(repository.create({ ...record, clientId: 'other' }, t1)).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      await expect(repository.create({ ...record, tenantId: randomId('tenant') }, t1)).resolves.toMatchObject({ version: 1 });
    });

    it("never returns another tenant's credentials", async () => {
      const record = sampleAppCredentials('tenant-a');
      await repository.create(record, t0);
      expect(await repository.get('tenant-b', 'default')).toBeUndefined();
      expect((await repository.list('tenant-b', {})).items).toEqual([]);
      expect(await repository.delete('tenant-b', 'default')).toBe(false);
    });

    it('replaces at the expected version and refuses a stale one with ABORTED', async () => {
      const created = await repository.create(sampleAppCredentials(), t0);
      const updated = await repository.replace({ ...created, displayName: 'renamed' }, t1);
      expect(updated).toMatchObject({ version: 2, displayName: 'renamed', createdAt: t0, updatedAt: t1 });
      await expect(repository.replace({ ...created, displayName: 'stale' }, t1)).rejects.toMatchObject({ code: 'ABORTED' });
      expect((await repository.get(created.tenantId, 'default'))?.displayName).toBe('renamed');
    });

    it('lets exactly one of concurrent replaces of the same version win', async () => {
      const created = await repository.create(sampleAppCredentials(), t0);
      const results = await Promise.allSettled(
        Array.from({ length: 6 }, (_, i) => repository.replace({ ...created, displayName: `writer ${i}` }, t1)),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    });

    it('deletes conditionally on the version', async () => {
      const created = await repository.create(sampleAppCredentials(), t0);
      await repository.replace({ ...created, displayName: 'v2' }, t1);
      await expect(repository.delete(created.tenantId, 'default', 1)).rejects.toMatchObject({ code: 'ABORTED' });
      expect(await repository.delete(created.tenantId, 'default', 2)).toBe(true);
      expect(await repository.get(created.tenantId, 'default')).toBeUndefined();
      expect(await repository.delete(created.tenantId, 'default')).toBe(false);
      await expect(repository.create(sampleAppCredentials(created.tenantId), t1)).resolves.toMatchObject({
        version: expect.any(Number),
      });
    });

    it("lists a tenant's credentials in id order across pages, and every tenant's for monitoring", async () => {
      const tenant = randomId('tenant');
      for (const id of ['c', 'a', 'b']) await repository.create(sampleAppCredentials(tenant, id), t0);
      await repository.create(sampleAppCredentials(`${tenant}-x`, 'a'), t0);
      const first = await repository.list(tenant, { pageSize: 2 });
      expect(first.items.map((item) => item.credentialsId)).toEqual(['a', 'b']);
      const second = await repository.list(tenant, { pageSize: 2, pageToken: first.nextPageToken });
      expect(second.items.map((item) => item.credentialsId)).toEqual(['c']);
      expect(second.nextPageToken).toBeUndefined();
      await expect(repository.list(`${tenant}-x`, { pageToken: first.nextPageToken })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      const all = await repository.listAll({ pageSize: 500 });
      expect(all.items.filter((item) => item.tenantId.startsWith(tenant))).toHaveLength(4);
    });
  });
}
