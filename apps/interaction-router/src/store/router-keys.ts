/**
 * Every `_id` the router's stores use, built in one place. Keys start with the tenant, so a
 * tenant's rows are one `_id` range (`tenantPrefix`) — the only fast read on FerretDB v1 — and the
 * parts after it are fixed-width where the order matters (versions, timestamps, slot numbers).
 */

/** The range of one tenant's rows in any table: `<tenant>/`. */
export const tenantPrefix = (tenantId: string): string => `${tenantId}/`;

/** The tenant a key belongs to (its first part). */
export const tenantOfKey = (key: string): string => key.slice(0, key.indexOf('/'));

/** What follows the tenant in `key` (`<tenant>/<rest>` → `<rest>`). */
export const keyAfterTenant = (tenantId: string, key: string): string => key.slice(tenantId.length + 1);

/** An agent's row in presence, sessions and activity: `<tenant>/<agent>`. */
export const agentKey = (tenantId: string, agentId: string): string => `${tenantId}/${agentId}`;

/** An interaction's row in the waiting and offer indexes: `<tenant>/<interaction>`. */
export const interactionKey = (tenantId: string, interactionId: string): string => `${tenantId}/${interactionId}`;

/** The tenant and interaction of a waiting or offer index key. */
export function parseInteractionKey(key: string): { tenantId: string; interactionId: string } {
  const [tenantId = '', interactionId = ''] = key.split('/');
  return { tenantId, interactionId };
}

/** An alert's claim: `<tenant>/<interaction>/<kind>` (kind as `sla-due-soon`, `sla-breached`); also the AlertEvent's event_id. */
export const alertKey = (tenantId: string, interactionId: string, kind: string): string => `${tenantId}/${interactionId}/${kind}`;

/** A conversation's open and last closed interaction: `<tenant>/<conversation>`. */
export const conversationKey = (tenantId: string, conversationId: string): string => `${tenantId}/${conversationId}`;

/** A queue's round-robin cursor: `<tenant>/<queue>`. */
export const roundRobinCursorKey = (tenantId: string, queueId: string): string => `${tenantId}/${queueId}`;

/** The range of an agent's capacity slots: `<tenant>/<agent>/`. */
export const slotPrefix = (tenantId: string, agentId: string): string => `${tenantId}/${agentId}/`;

/** Capacity slot `slot` (< capacity) of an agent: `<tenant>/<agent>/<slot, 3 digits>`; inserted = claimed. */
export const slotKey = (tenantId: string, agentId: string, slot: number): string =>
  `${slotPrefix(tenantId, agentId)}${String(slot).padStart(3, '0')}`;

/** The slot number of a slot key. */
export const slotNumberOf = (key: string): number => Number(key.slice(key.lastIndexOf('/') + 1));

/** The agent of a slot key of `tenantId`. */
export const slotAgentOf = (tenantId: string, key: string): string => key.slice(tenantId.length + 1, key.lastIndexOf('/'));

/**
 * The outbox marker of a change being committed: `<tenant>/<interaction>/<version, 10 digits>/<writer>`
 * (`writer` unique per attempt, so the marker is a fresh insert).
 */
export const changeOutboxKey = (tenantId: string, interactionId: string, version: number, writer: string): string =>
  `${tenantId}/${interactionId}/${String(version).padStart(10, '0')}/${writer}`;

/** A committed change (`<tenant>/<interaction>/<version>`): `parseChangeOutboxKey` reads it too. */
export const changeKey = (change: { tenantId: string; interactionId: string; version: number }): string =>
  `${change.tenantId}/${change.interactionId}/${String(change.version).padStart(10, '0')}`;

/** The tenant, interaction and version of a change's outbox marker (or of a `changeKey`). */
export function parseChangeOutboxKey(key: string): { tenantId: string; interactionId: string; version: number } {
  const [tenantId = '', interactionId = '', version = '0'] = key.split('/');
  return { tenantId, interactionId, version: Number(version) };
}

/** The outbox marker of a send: `<tenant>/<interaction>/send/<sendId>` (the relay tells it from a change's marker by `sendKey`). */
export const sendOutboxKey = (tenantId: string, send: { interactionId: string; sendId: string }): string =>
  `${tenantId}/${send.interactionId}/send/${send.sendId}`;

/** An agent's reply in `sends`, by its idempotency key: `<tenant>/<agent>/<idempotency key>`. */
export const agentSendKey = (tenantId: string, agentId: string, idempotencyKey: string): string =>
  `${tenantId}/${agentId}/${idempotencyKey}`;

/** A send the router did not ask for (an API send reported by outbound-send): `<tenant>/send/<sendId>`. */
export const foreignSendKey = (tenantId: string, sendId: string): string => `${tenantId}/send/${sendId}`;

/** The send-id index: `<tenant>/<sendId>` → the send's key in `sends`. */
export const sendIndexKey = (tenantId: string, sendId: string): string => `${tenantId}/${sendId}`;

/** The range of an interaction's thread messages: `<tenant>/<interaction>/`. */
export const threadPrefix = (tenantId: string, interactionId: string): string => `${tenantId}/${interactionId}/`;

/** An inbound message of a thread, in time order: `<tenant>/<interaction>/<receivedAt, 15 digits>-<graph message id>`. */
export const inboundMessageKey = (tenantId: string, interactionId: string, receivedAt: number, graphMessageId: string): string =>
  `${threadPrefix(tenantId, interactionId)}${String(receivedAt).padStart(15, '0')}-${graphMessageId}`;

/** An outbound message of a thread, in time order: `<tenant>/<interaction>/<requestedAt, 15 digits>-send-<sendId>`. */
export const outboundMessageKey = (tenantId: string, interactionId: string, requestedAt: number, sendId: string): string =>
  `${threadPrefix(tenantId, interactionId)}${String(requestedAt).padStart(15, '0')}-send-${sendId}`;

/** A planner lease: one replica plans a tenant at a time. */
export const plannerLeaseKey = (tenantId: string): string => `interaction-router/planner/${tenantId}`;

/** The range of a tenant's configuration of one kind: `<tenant>/<kind>/`. */
export const configKindPrefix = (tenantId: string, kind: string): string => `${tenantId}/${kind}/`;

/** A configuration object (queue, rule, sender list, agent): `<tenant>/<kind>/<id>`. */
export const configKey = (tenantId: string, kind: string, id: string): string => `${configKindPrefix(tenantId, kind)}${id}`;

/** A claim of a value unique per tenant (an agent's UPN or object id, lower-cased): `<tenant>/<claim kind>/<value, URI-encoded>`. */
export const claimKey = (tenantId: string, kind: string, value: string): string =>
  `${configKindPrefix(tenantId, kind)}${encodeURIComponent(value.toLowerCase())}`;
