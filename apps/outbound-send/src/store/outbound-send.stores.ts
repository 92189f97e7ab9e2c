import {
  EmbeddedDocumentTable,
  EmbeddedStore,
  FileBlobStore,
  MongoBlobStore,
  MongoDocumentTable,
  MongoStore,
  type BlobStore,
  type DocumentTable,
  type LivenessDocument,
} from '@mailroute/persistence';
import type { Logger } from '@mailroute/platform';

/** A failure as stored (proto SendFailure, reason as its number). */
export interface FailureRecord {
  reason: number;
  message: string;
  graphErrorCode: string;
  httpStatus: number;
  graphRequestId: string;
  overridable: boolean;
}

/** Where a sent message landed (proto SentMessage). */
export interface SentRecord {
  graphMessageId: string;
  internetMessageId: string;
  conversationId: string;
  sentAt: number;
}

/**
 * One send request and its delivery state, keyed `<tenant>/<send id>`. Created by a unique insert
 * (redelivered events change nothing); afterwards only its processor writes it.
 */
export interface SendRecord {
  tenantId: string;
  sendId: string;
  /** The request as proto OutboundRequest JSON (content included; API inline attachment bytes in base64). */
  request: unknown;
  /** proto SendOrigin. */
  origin: number;
  /** proto SendState. */
  state: number;
  failure?: FailureRecord | undefined;
  sent?: SentRecord | undefined;
  attempts: number;
  /** Transient failures other than throttling so far: the backoff exponent. */
  transientFailures?: number | undefined;
  nextAttemptAt?: number | undefined;
  /** The Graph draft being sent (immutable id), once created. */
  draftId?: string | undefined;
  /** Message-ID and conversation of the draft (kept when it is sent). */
  draftInternetMessageId?: string | undefined;
  draftConversationId?: string | undefined;
  /** Set once the draft has all its recipients and attachments: it may be sent as is. */
  draftReady?: boolean | undefined;
  /** An earlier attempt may have sent the message: look in Sent Items before sending again. */
  ambiguous?: boolean | undefined;
  /** When a check whether an ambiguous attempt went out first failed (CHECKING); the check budget counts from here. */
  checkingSince?: number | undefined;
  /** Loop protection was checked (once per send). */
  loopChecked?: boolean | undefined;
  /** The last state an OutboundResult was published for (redelivery publishes a missing one). */
  publishedState?: number | undefined;
  /** API sends: the OutboundRequest event was published. */
  requestPublished?: boolean | undefined;
  /** W3C trace context of the intake (the OutboundRequest's consumer span): every attempt joins that trace. */
  traceContext?: { traceparent: string; tracestate?: string | undefined } | undefined;
  createdAt: number;
  updatedAt: number;
}

/** `<tenant>/<origin>/<key>` → the send an idempotency key was first used for (unique insert). */
export interface IdempotencyRecord {
  sendId: string;
  at: number;
  /** payloadFingerprint of the API request (SendReply / SendNew, key left out): only a retry of it gets this send. */
  fingerprint?: string | undefined;
}

/** `<tenant>/<send id>/<attempt>`: who makes attempt N (unique insert: one attempt at a time across replicas). */
export interface AttemptRecord {
  /** Replica id of the owner. */
  owner: string;
  /** The owner process's incarnation (ReplicaLiveness; new per start): tells a restarted replica from the one that held it. */
  instance?: string | undefined;
  at: number;
}

/** `<due time, zero-padded>/<tenant>/<send id>`: a send waiting longer than a consumer may hold its message. */
export interface DueRecord {
  tenantId: string;
  sendId: string;
}

/** `<tenant>/<send id>/<attachment index>`: bytes of an attachment given inline (API), kept apart from the send record. */
export interface AttachmentContentRecord {
  contentBase64: string;
}

/** What outbound-send knows of an interaction, from InboundEmail events: where and what to reply to. */
export interface InteractionRecord {
  mailboxId: string;
  mailboxAddress: string;
  latestGraphMessageId: string;
  latestReceivedAt: number;
  /** proto AutomationFlags (JSON) of the latest inbound message. */
  automation: unknown;
}

/**
 * Who has an interaction now, from the router's InteractionStateChanged events (`<tenant>/<interaction>`):
 * the workload-manager SendReply refuses to answer in an agent's place without an override.
 */
export interface InteractionHolderRecord {
  /** The newest version seen (events may be redelivered). */
  version: number;
  /** proto InteractionState. */
  state: number;
  agentId: string;
  offeredAgentId: string;
}

/** Every table outbound-send keeps; only `_id` lookups and unique inserts are relied on (FerretDB v1). */
export interface OutboundSendStores {
  sends: DocumentTable<SendRecord>;
  idempotency: DocumentTable<IdempotencyRecord>;
  attempts: DocumentTable<AttemptRecord>;
  due: DocumentTable<DueRecord>;
  interactions: DocumentTable<InteractionRecord>;
  holders: DocumentTable<InteractionHolderRecord>;
  contents: DocumentTable<AttachmentContentRecord>;
  /**
   * Attachment content: uploads (UploadAttachment here, UploadReplyAttachment in the router) and
   * inbound attachments stored by mailbox-fetch; shared with both.
   */
  blobs: BlobStore;
  /** Replica heartbeats, `<replica id>/<incarnation>#<seq>` (ReplicaLiveness in libs/persistence). */
  replicas: DocumentTable<LivenessDocument>;
  close(): Promise<void>;
}

const names = {
  sends: 'os_sends',
  idempotency: 'os_idempotency_keys',
  attempts: 'os_send_attempts',
  due: 'os_due_sends',
  interactions: 'os_interactions',
  holders: 'os_interaction_holders',
  contents: 'os_attachment_contents',
  replicas: 'os_replicas',
} as const;

function tables(table: <T extends object>(name: string) => DocumentTable<T>): Omit<OutboundSendStores, 'close' | 'blobs'> {
  return {
    sends: table(names.sends),
    idempotency: table(names.idempotency),
    attempts: table(names.attempts),
    due: table(names.due),
    interactions: table(names.interactions),
    holders: table(names.holders),
    contents: table(names.contents),
    replicas: table(names.replicas),
  };
}

/** Tables in MongoDB (or FerretDB). `store` is shared when the host passes one (e.g. for the mailbox directory). */
function mongoStores(store: MongoStore): Omit<OutboundSendStores, 'close'> {
  return {
    ...tables(<T extends object>(name: string) => new MongoDocumentTable<T>(store, name)),
    blobs: new MongoBlobStore(store, attachmentBucket),
  };
}

export async function openMongoStores(options: {
  url: string;
  database: string;
  logger?: Logger;
}): Promise<OutboundSendStores & { store: MongoStore }> {
  const store = await MongoStore.connect({
    url: options.url,
    database: options.database,
    appName: 'outbound-send',
    ...(options.logger ? { logger: options.logger } : {}),
  });
  return { ...mongoStores(store), store, close: () => store.close() };
}

/** The GridFS bucket of attachment content, in the database the services share (mailbox-fetch writes it too). */
const attachmentBucket = 'attachments';

/** Tables in the embedded store (single process); attachment content as private files in `blobDirectory`. */
export function openEmbeddedStores(options: {
  path: string;
  blobDirectory: string;
}): OutboundSendStores & { store: EmbeddedStore } {
  const store = new EmbeddedStore({ path: options.path });
  return {
    ...tables(<T extends object>(name: string) => new EmbeddedDocumentTable<T>(store, name)),
    blobs: new FileBlobStore({ directory: options.blobDirectory }),
    store,
    close: async () => store.close(),
  };
}

/** The key of a due entry: sorts by time. */
export function dueKey(at: number, tenantId: string, sendId: string): string {
  return `${String(Math.max(0, Math.floor(at))).padStart(15, '0')}/${tenantId}/${sendId}`;
}
