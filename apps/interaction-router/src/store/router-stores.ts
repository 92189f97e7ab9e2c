import {
  MongoBlobStore,
  MongoDocumentTable,
  MongoInteractionRepository,
  MongoLeaseRepository,
  leaseIndexes,
  type LeaseRepository,
  MongoStore,
  VersionedCollection,
  interactionIndexes,
  type BlobStore,
  type DocumentTable,
  type InteractionRepository,
  type LatestVersion,
  type StoreOperationCounter,
  type AlertRow,
} from '@mailroute/persistence';
import type { AlertPayload } from '@mailroute/messaging';

/** A record with optimistic concurrency (VersionedCollection's shape): the version is the etag. */
export interface VersionedStore<T extends object> {
  latest(key: string): Promise<LatestVersion<T> | undefined>;
  write(
    key: string,
    expectedVersion: number,
    data: T,
  ): Promise<{ outcome: 'written'; version: number } | { outcome: 'conflict' }>;
  remove(key: string, expectedVersion?: number): Promise<boolean>;
  page(after: string | undefined, limit: number): Promise<LatestVersion<T>[]>;
}

/** A stored configuration object: its proto message as JSON (ts-proto `toJSON`). */
export interface ConfigDocument {
  json: unknown;
  createdAt: number;
  updatedAt: number;
}

export interface PresenceDocument {
  /** proto AgentPresence. */
  presence: number;
  reason: string;
  since: number;
}

/** When an agent's work last ended (for longest-idle routing): written when an assigned interaction leaves the agent. */
export interface AgentActivityDocument {
  /** When the agent's last assigned interaction left it (completed, transferred, returned). */
  lastEndedAt: number;
  /** When that interaction had been assigned. */
  lastAssignedAt: number;
}

export interface SessionDocument {
  replicaId: string;
  clientInstanceId: string;
  lastSeenAt: number;
  /** Set when the stream ended cleanly: no new offers from then on. */
  disconnectedAt?: number;
}

/** A capacity slot of an agent, held by an offer or an assignment. */
export interface SlotDocument {
  interactionId: string;
  kind: 'offer' | 'assigned';
  at: number;
}

export interface SendDocument {
  sendId: string;
  interactionId: string;
  mailboxId: string;
  /** proto SendState. */
  state: number;
  requestedAt: number;
  /** The OutboundRequest as JSON, republished when a retry finds it unpublished. */
  request: unknown;
  /**
   * Set when a result was recorded (which implies publication). Publication itself is not recorded
   * here: a send is unpublished while its outbox marker exists (replies/send-outbox.ts).
   */
  published: boolean;
  /** Attempts outbound-send reported with the latest result. */
  attempts?: number | undefined;
  /** proto SendFailure as JSON (FAILED, or the last transient failure while RETRYING). */
  failure?: unknown;
  /** proto SentMessage as JSON (SENT). */
  sent?: unknown;
  /** When the latest result was recorded. */
  resultAt?: number | undefined;
  /** payloadFingerprint of the desktop's ReplyRequest (idempotency key left out): a retry matches it. */
  fingerprint?: string | undefined;
}

/** `<tenant>/<sendId>` → the send's key in `sends` (results name the send, replies the idempotency key). */
export interface SendIndexDocument {
  sendKey: string;
}

/** One message of an interaction's thread: proto ThreadMessage-like JSON. */
export interface MessageDocument {
  kind: 'inbound' | 'outbound';
  json: unknown;
  at: number;
}

/** A QUEUED interaction as planning needs it (the waiting index: one small document per waiting interaction). */
export interface WaitingDocument {
  version: number;
  queueId: string;
  priority: number;
  requiredSkills: { skill: string; minLevel: number }[];
  queuedAt: number;
  enteredQueueAt: number;
  escalationStepsApplied: number;
  declinedBy: string[];
  affinity?: { agentId: string; previousClosedAt: number } | undefined;
}

/** An OFFERED interaction's expiry (the offer index). */
export interface OfferDocument {
  version: number;
  agentId: string;
  expiresAt: number;
}

/**
 * An outbox marker: a change being committed (`<tenant>/<interaction>/<version>/<writer>`) or an
 * accepted reply not yet published (`<tenant>/<interaction>/send/<sendId>`, with `sendKey`).
 */
export interface OutboxDocument {
  at: number;
  /** A send's key in `sends`: the marker promises that send's OutboundRequest. */
  sendKey?: string;
}

/** A conversation's open interaction and its last completed one (threading and affinity). */
export interface ConversationDocument {
  openInteractionId?: string | undefined;
  lastClosed?: { interactionId: string; agentId: string; closedAt: number } | undefined;
}

/**
 * The last automatic acknowledgement of a customer from a mailbox
 * (`<tenant>/<mailbox>/<customer address>`): later mail of that customer within the queue's period gets none.
 */
export interface AcknowledgementDocument {
  at: number;
  interactionId: string;
  sendId: string;
}

/**
 * An interaction reference (`<tenant>/<REF-123>`, unique in the tenant): the interaction it names,
 * and the mailbox and customer address a quoting mail must come from to join it.
 */
export interface ReferenceDocument {
  interactionId: string;
  mailboxId: string;
  customerAddress: string;
}

/**
 * Every store the router uses, behind ports. FerretDB v1 answers only `_id` lookups fast (any other
 * filter scans the collection), so the hot paths read small derived indexes keyed by `_id`
 * (waiting, offers, conversations, capacity slots) that every commit maintains; the interactions
 * collection itself is only scanned by the workload-manager search.
 */
export interface RouterStores {
  interactions: InteractionRepository;
  config: VersionedStore<ConfigDocument>;
  presence: DocumentTable<PresenceDocument>;
  sessions: DocumentTable<SessionDocument>;
  slots: DocumentTable<SlotDocument>;
  cursors: DocumentTable<{ agentId: string }>;
  activity: DocumentTable<AgentActivityDocument>;
  sends: DocumentTable<SendDocument>;
  sendIndex: DocumentTable<SendIndexDocument>;
  messages: DocumentTable<MessageDocument>;
  waiting: DocumentTable<WaitingDocument>;
  offers: DocumentTable<OfferDocument>;
  conversations: DocumentTable<ConversationDocument>;
  /** Changes and accepted replies whose event may not be published yet (see OutboxDocument). */
  outbox: DocumentTable<OutboxDocument>;
  /** Who was acknowledged automatically from which mailbox, and when (see AcknowledgementDocument). */
  acknowledgements: DocumentTable<AcknowledgementDocument>;
  /** Interaction references quoted in subjects (see ReferenceDocument). */
  references: DocumentTable<ReferenceDocument>;
  /** Alert claims (SLA and queue alerts) with their pending, prune and firing markers (see createAlertClaims). */
  alerts: DocumentTable<AlertRow<AlertPayload>>;
  /** Planner leases: one replica plans a tenant at a time (`interaction-router/planner/<tenant>`). */
  leases: LeaseRepository;
  /**
   * Attachment content: inbound attachments mailbox-fetch stored (DownloadAttachment reads them) and
   * reply uploads (UploadReplyAttachment); shared with mailbox-fetch and outbound-send.
   */
  blobs: BlobStore;
  close(): Promise<void>;
}

/** The GridFS bucket of attachment content, in the database the services share. */
const attachmentBucket = 'attachments';

/**
 * Opens the router's stores on MongoDB (FerretDB included) and creates missing indexes. With
 * `operations`, every round trip to the server is counted there (by kind and step).
 */
export async function openMongoRouterStores(
  url: string,
  database: string,
  options: { operations?: StoreOperationCounter } = {},
): Promise<RouterStores> {
  const store = await MongoStore.connect({ url, database, appName: 'interaction-router', operations: options.operations });
  await store.ensureIndexes({ ...interactionIndexes(), ...VersionedCollection.indexes('router_config'), ...leaseIndexes });
  return {
    interactions: new MongoInteractionRepository(store),
    config: new VersionedCollection<ConfigDocument>(store.db, 'router_config'),
    presence: new MongoDocumentTable<PresenceDocument>(store, 'router_agent_presence'),
    sessions: new MongoDocumentTable<SessionDocument>(store, 'router_agent_sessions'),
    slots: new MongoDocumentTable<SlotDocument>(store, 'router_capacity_slots'),
    cursors: new MongoDocumentTable<{ agentId: string }>(store, 'router_round_robin'),
    activity: new MongoDocumentTable<AgentActivityDocument>(store, 'router_agent_activity'),
    sends: new MongoDocumentTable<SendDocument>(store, 'router_sends'),
    sendIndex: new MongoDocumentTable<SendIndexDocument>(store, 'router_send_ids'),
    messages: new MongoDocumentTable<MessageDocument>(store, 'router_messages'),
    waiting: new MongoDocumentTable<WaitingDocument>(store, 'router_waiting'),
    offers: new MongoDocumentTable<OfferDocument>(store, 'router_offers'),
    conversations: new MongoDocumentTable<ConversationDocument>(store, 'router_conversations'),
    outbox: new MongoDocumentTable<OutboxDocument>(store, 'router_outbox'),
    acknowledgements: new MongoDocumentTable<AcknowledgementDocument>(store, 'router_acknowledgements'),
    references: new MongoDocumentTable<ReferenceDocument>(store, 'router_references'),
    alerts: new MongoDocumentTable<AlertRow<AlertPayload>>(store, 'router_alerts'),
    leases: new MongoLeaseRepository(store),
    blobs: new MongoBlobStore(store, attachmentBucket),
    close: () => store.close(),
  };
}
