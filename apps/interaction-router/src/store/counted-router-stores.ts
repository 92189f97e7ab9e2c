import {
  blobStoreOperationKinds,
  countingPort,
  documentTableOperationKinds,
  interactionRepositoryOperationKinds,
  leaseRepositoryOperationKinds,
  versionedStoreOperationKinds,
  type StoreOperationCounter,
} from '@mailroute/persistence';
import type { RouterStores } from './router-stores';

const documentTables = [
  'presence',
  'sessions',
  'slots',
  'cursors',
  'activity',
  'sends',
  'sendIndex',
  'messages',
  'waiting',
  'offers',
  'conversations',
  'outbox',
  'alerts',
] as const satisfies readonly (keyof RouterStores)[];

/**
 * `stores` with every port call counted in `counter` by kind and by the step that made it
 * (`withStoreStep`): the same on the MongoDB and the embedded adapters, so benchmarks can say how
 * many store operations one interaction costs. `close` is not counted.
 */
export function countRouterStores(stores: RouterStores, counter: StoreOperationCounter): RouterStores {
  const tables = Object.fromEntries(
    documentTables.map((name) => [name, countingPort(stores[name], counter, documentTableOperationKinds)]),
  ) as Pick<RouterStores, (typeof documentTables)[number]>;
  return {
    ...stores,
    ...tables,
    interactions: countingPort(stores.interactions, counter, interactionRepositoryOperationKinds),
    config: countingPort(stores.config, counter, versionedStoreOperationKinds),
    leases: countingPort(stores.leases, counter, leaseRepositoryOperationKinds),
    blobs: countingPort(stores.blobs, counter, blobStoreOperationKinds),
  };
}
