import type { BlobStore } from '../ports/blob-store';
import type { DocumentTable } from '../ports/document-table';
import type { InteractionRepository } from '../ports/interaction.repository';
import type { LeaseRepository } from '../ports/lease.repository';
import type { StoreOperationKinds } from './store-operations';

/** The kind of each DocumentTable method, for `countingPort`. */
export const documentTableOperationKinds: StoreOperationKinds<DocumentTable<object>> = {
  get: 'read',
  list: 'read',
  put: 'update',
  insert: 'insert',
  delete: 'delete',
  deleteMany: 'delete',
  deletePrefix: 'delete',
};

/** The kind of each InteractionRepository method: a commit (one state change) counts as one update. */
export const interactionRepositoryOperationKinds: StoreOperationKinds<InteractionRepository> = {
  get: 'read',
  refresh: 'read',
  listByState: 'read',
  listExpiredOffers: 'read',
  tenantsWith: 'read',
  search: 'read',
  history: 'read',
  historyEntry: 'read',
  commit: 'update',
  listUnpublished: 'read',
  markPublished: 'update',
};

/** The kind of each LeaseRepository method. */
export const leaseRepositoryOperationKinds: StoreOperationKinds<LeaseRepository> = {
  tryAcquire: 'insert',
  release: 'update',
};

/** The kind of each BlobStore method. */
export const blobStoreOperationKinds: StoreOperationKinds<BlobStore> = {
  put: 'insert',
  stat: 'read',
  read: 'read',
  setExpiry: 'update',
  delete: 'delete',
  deleteExpired: 'delete',
};

/** The kind of each method of a versioned record store (VersionedCollection, EmbeddedVersionedTable). */
export const versionedStoreOperationKinds = {
  latest: 'read',
  page: 'read',
  write: 'update',
  remove: 'delete',
} as const satisfies Record<string, 'read' | 'insert' | 'update' | 'delete'>;
