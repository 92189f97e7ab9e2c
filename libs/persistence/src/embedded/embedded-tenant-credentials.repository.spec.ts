import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeTenantCredentialsRepositoryContract } from '@mailroute/testing';
import { EmbeddedStore, EmbeddedTenantCredentialsRepository } from '../index';

describeTenantCredentialsRepositoryContract('embedded (node:sqlite file)', {
  create: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroute-embedded-'));
    const store = new EmbeddedStore({ path: join(dir, 'store.db') });
    return {
      repository: new EmbeddedTenantCredentialsRepository(store),
      close: async () => {
        store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});
