export { decodePageToken, encodePageToken, type Page, type PageRequest, readPageRequest } from './ports/pagination';
export { type EncryptedValue } from './ports/encrypted-value';
export { BlobNotFoundError } from './errors';
export { MongoStore, type MongoStoreOptions, type IndexPlan } from './mongo/mongo-store';
export { VersionedCollection, type LatestVersion } from './mongo/versioned-collection';
export { EmbeddedStore, type EmbeddedStoreOptions } from './embedded/embedded-store';
export { type DocumentListOptions, type DocumentTable, type KeyedDocument } from './ports/document-table';
export { type Lease, type LeaseRepository } from './ports/lease.repository';
export {
  type AppCredential,
  type AppCredentialsRecord,
  type AppCredentialsRepository,
  type NewAppCredentials,
} from './ports/app-credentials.repository';
export { MongoDocumentTable } from './mongo/mongo-document-table';
export { MongoLeaseRepository, leaseIndexes } from './mongo/mongo-lease.repository';
export { MongoAppCredentialsRepository, appCredentialsIndexes } from './mongo/mongo-app-credentials.repository';
export { EmbeddedDocumentTable } from './embedded/embedded-document-table';
export { EmbeddedLeaseRepository } from './embedded/embedded-lease.repository';
export { EmbeddedAppCredentialsRepository } from './embedded/embedded-app-credentials.repository';
export {
  type ActorRecord,
  type AutomationRecord,
  type ChangeRef,
  type CommitOptions,
  type CommitOutcome,
  type InteractionHistoryRecord,
  type InteractionRecord,
  type InteractionRepository,
  type InteractionSearch,
  type SkillRequirementRecord,
  type UnpublishedChange,
} from './ports/interaction.repository';
export { MongoInteractionRepository, interactionIndexes } from './mongo/mongo-interaction.repository';
export { EmbeddedInteractionRepository } from './embedded/embedded-interaction.repository';
export { EmbeddedVersionedTable } from './embedded/embedded-versioned-table';
export { incarnationKey, type LivenessDocument, ReplicaLiveness } from './liveness/replica-liveness';
export { type BlobInfo, type BlobSource, type BlobStore, type BlobWriteOptions } from './ports/blob-store';
export { MongoBlobStore } from './blobs/mongo-blob-store';
export { FileBlobStore, type FileBlobStoreOptions } from './blobs/file-blob-store';
export { inboundAttachmentBlobKey, uploadBlobKey } from './blobs/attachment-blob-keys';
export {
  receiveAttachmentUpload,
  isUploadId,
  referenceUpload,
  type AttachmentUploadPart,
  type AttachmentUploadOptions,
} from './blobs/attachment-upload';
export { createBlobSweeper, type BlobSweeper, type BlobSweeperOptions } from './blobs/blob-sweeper';
export {
  countingPort,
  StoreOperationCounter,
  type StoreOperationCounts,
  type StoreOperationKind,
  type StoreOperationKinds,
  withStoreStep,
  withStoreSteps,
} from './metering/store-operations';
export {
  blobStoreOperationKinds,
  documentTableOperationKinds,
  interactionRepositoryOperationKinds,
  leaseRepositoryOperationKinds,
  versionedStoreOperationKinds,
} from './metering/port-operation-kinds';
export {
  createAlertClaims,
  type AlertClaims,
  type AlertClaimsOptions,
  type AlertPhase,
  type AlertRow,
  type PublishedAlert,
} from './alerts/alert-claims';
