import type { RouterStores } from '../store/router-stores';
import { tenantOfKey } from '../store/router-keys';

/** Tenants with waiting or offered interactions (a scan of both indexes; the runtime's tenant discovery). */
export async function tenantsWithWork(stores: Pick<RouterStores, 'waiting' | 'offers'>): Promise<string[]> {
  const [waiting, offers] = await Promise.all([
    stores.waiting.list({ prefix: '', limit: 100_000 }),
    stores.offers.list({ prefix: '', limit: 100_000 }),
  ]);
  return [...new Set([...waiting, ...offers].map((row) => tenantOfKey(row.key)))];
}
