import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import nodePath from 'node:path';
import {
  EmbeddedDocumentTable,
  FileBlobStore,
  EmbeddedInteractionRepository,
  EmbeddedLeaseRepository,
  EmbeddedStore,
  EmbeddedVersionedTable,
  type AlertRow,
} from '@mailroute/persistence';
import type { AlertPayload } from '@mailroute/messaging';
import type {
  AgentActivityDocument,
  ConfigDocument,
  ConversationDocument,
  MessageDocument,
  OfferDocument,
  OutboxDocument,
  AcknowledgementDocument,
  ReferenceDocument,
  PresenceDocument,
  RouterStores,
  SendDocument,
  SendIndexDocument,
  SessionDocument,
  SlotDocument,
  WaitingDocument,
} from './router-stores';

/**
 * The router's stores in one SQLite file (the embedded default: one process, one replica). The same
 * tables as on MongoDB, through the embedded adapters that pass the same contract suites.
 */
export function openEmbeddedRouterStores(path: string, blobDirectory?: string): RouterStores {
  const store = new EmbeddedStore({ path });
  // Attachment content as private files, in the directory mailbox-fetch and outbound-send share (ROUTER_BLOB_DIR).
  const blobs =
    blobDirectory ??
    (path === ':memory:'
      ? mkdtempSync(nodePath.join(os.tmpdir(), 'router-blobs-'))
      : nodePath.join(nodePath.dirname(path), 'blobs'));
  return {
    interactions: new EmbeddedInteractionRepository(store),
    config: new EmbeddedVersionedTable<ConfigDocument>(store, 'router_config'),
    presence: new EmbeddedDocumentTable<PresenceDocument>(store, 'router_agent_presence'),
    sessions: new EmbeddedDocumentTable<SessionDocument>(store, 'router_agent_sessions'),
    slots: new EmbeddedDocumentTable<SlotDocument>(store, 'router_capacity_slots'),
    cursors: new EmbeddedDocumentTable<{ agentId: string }>(store, 'router_round_robin'),
    activity: new EmbeddedDocumentTable<AgentActivityDocument>(store, 'router_agent_activity'),
    sends: new EmbeddedDocumentTable<SendDocument>(store, 'router_sends'),
    sendIndex: new EmbeddedDocumentTable<SendIndexDocument>(store, 'router_send_ids'),
    messages: new EmbeddedDocumentTable<MessageDocument>(store, 'router_messages'),
    waiting: new EmbeddedDocumentTable<WaitingDocument>(store, 'router_waiting'),
    offers: new EmbeddedDocumentTable<OfferDocument>(store, 'router_offers'),
    conversations: new EmbeddedDocumentTable<ConversationDocument>(store, 'router_conversations'),
    outbox: new EmbeddedDocumentTable<OutboxDocument>(store, 'router_outbox'),
    acknowledgements: new EmbeddedDocumentTable<AcknowledgementDocument>(store, 'router_acknowledgements'),
    references: new EmbeddedDocumentTable<ReferenceDocument>(store, 'router_references'),
    alerts: new EmbeddedDocumentTable<AlertRow<AlertPayload>>(store, 'router_alerts'),
    leases: new EmbeddedLeaseRepository(store),
    blobs: new FileBlobStore({ directory: blobs }),
    close: async () => store.close(),
  };
}
