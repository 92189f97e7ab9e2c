export * from './ports/pagination';
export * from './ports/encrypted-value';
export * from './errors';
export { MongoStore, redactUrl, type MongoStoreOptions, type IndexPlan } from './mongo/mongo-store';
export { VersionedCollection, type LatestVersion } from './mongo/versioned-collection';
export { EmbeddedStore, type EmbeddedStoreOptions } from './embedded/embedded-store';
export * from './ports/document-table';
export * from './ports/lease.repository';
export * from './ports/app-credentials.repository';
export { MongoDocumentTable } from './mongo/mongo-document-table';
export { MongoLeaseRepository, leaseIndexes } from './mongo/mongo-lease.repository';
export { MongoAppCredentialsRepository, appCredentialsIndexes } from './mongo/mongo-app-credentials.repository';
export { EmbeddedDocumentTable } from './embedded/embedded-document-table';
export { EmbeddedLeaseRepository } from './embedded/embedded-lease.repository';
export { EmbeddedAppCredentialsRepository } from './embedded/embedded-app-credentials.repository';
export * from './ports/interaction.repository';
export { MongoInteractionRepository, interactionIndexes } from './mongo/mongo-interaction.repository';
export { EmbeddedInteractionRepository } from './embedded/embedded-interaction.repository';
export { EmbeddedVersionedTable } from './embedded/embedded-versioned-table';
export * from './liveness/replica-liveness';
export * from './ports/blob-store';
export { MongoBlobStore } from './blobs/mongo-blob-store';
export { FileBlobStore, type FileBlobStoreOptions } from './blobs/file-blob-store';
export { inboundAttachmentBlobKey, uploadBlobKey } from './blobs/attachment-blob-keys';
export {
  receiveAttachmentUpload,
  isUploadId,
  maxUploadBytes,
  maxUploadChunkBytes,
  defaultUploadTtlMs,
  referencedUploadRetentionMs,
  referenceUpload,
  type AttachmentUploadPart,
  type AttachmentUploadOptions,
} from './blobs/attachment-upload';
export { createBlobSweeper, type BlobSweeper, type BlobSweeperOptions } from './blobs/blob-sweeper';
