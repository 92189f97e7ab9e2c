import { createHash, randomUUID } from 'node:crypto';
import {
  ActorKind,
  AutomationFlags,
  OutboundRequest,
  ReplyMode,
  SendKind,
  SendState,
  type Queue,
  type QueueAcknowledgement,
} from '@mailroute/contracts';
import type { Logger } from '@mailroute/platform';
import type { InteractionRecord } from '@mailroute/persistence';
import {
  decideAcknowledgement,
  defaultAcknowledgementPeriodMs,
  isQueueOpen,
  renderMessageTemplate,
  type AcknowledgementDecision,
  type QueuePolicy,
  withSubjectReference,
} from '@mailroute/routing-engine';
import type { InteractionReferences } from './interaction-references';
import type { ConfigRepository } from '../routing/config-repository';
import { templateOutgoingAttachments } from '../routing/template-attachments';
import type { SendOutbox } from '../replies/send-outbox';
import type { RouterStores, SendDocument } from '../store/router-stores';
import { foreignSendKey } from '../store/router-keys';

/** The send id of an interaction's acknowledgement: one per interaction, whoever (and however often) decides it. */
function acknowledgementSendId(tenantId: string, interactionId: string): string {
  return `ack-${createHash('sha256').update(`${tenantId}/${interactionId}`).digest('hex').slice(0, 40)}`;
}

/** `<tenant>/<mailbox>/<customer address>`: the key of the customer's last acknowledgement from that mailbox. */
const customerKey = (record: InteractionRecord) => `${record.tenantId}/${record.mailboxId}/${record.customerAddress}`;

function durationMs(duration: { seconds: number; nanos: number } | undefined): number | undefined {
  return duration ? duration.seconds * 1000 + Math.floor(duration.nanos / 1e6) : undefined;
}

/**
 * Automatic acknowledgements of new customer mail (issue 17): when a queue's settings (else the
 * mailbox's) ask for one,
 * the acknowledgement (or, while the queue's calendar is closed, the out-of-hours one) is rendered
 * from its template and recorded as a send of the interaction through the same outbox as agents'
 * replies, so outbound-send sends it exactly once in the customer's thread. Refused by the engine's
 * decideAcknowledgement: settings off, no template, automated mail (the one classifier's flags,
 * kept on the interaction), or the customer acknowledged from the same mailbox within the period.
 * Idempotent: the send id derives from the interaction, and the customer's record names the
 * interaction that claimed it, so a redelivered inbound event neither sends twice nor refuses itself.
 */
export function createAcknowledgements(deps: {
  stores: Pick<RouterStores, 'acknowledgements' | 'sends'>;
  /** Mailbox settings and templates (the configuration cache: read on every routed e-mail). */
  config: Pick<ConfigRepository, 'get'>;
  sendOutbox: Pick<SendOutbox, 'record'>;
  references: InteractionReferences;
  logger: Logger;
}) {
  const { stores, config, sendOutbox, references, logger } = deps;

  /** The queue's acknowledgement settings when enabled, else the mailbox's (MailboxSettings). */
  async function settingsFor(record: InteractionRecord, queue: Queue): Promise<QueueAcknowledgement | undefined> {
    if (queue.acknowledgement?.enabled) return queue.acknowledgement;
    return (await config.get(record.tenantId, 'mailbox', record.mailboxId))?.value.acknowledgement ?? queue.acknowledgement;
  }

  /**
   * Decides and, when it says so, records the acknowledgement of `record` (just routed to `queue`);
   * the decision carries the reference its subject quotes, for the interaction to keep.
   */
  return async function acknowledge(
    record: InteractionRecord,
    queue: Queue,
    policy: QueuePolicy,
    now: number,
  ): Promise<AcknowledgementDecision & { reference?: string }> {
    const settings = await settingsFor(record, queue);
    const claimed = settings?.enabled ? await stores.acknowledgements.get(customerKey(record)) : undefined;
    const mine = claimed?.interactionId === record.interactionId;
    const decision = decideAcknowledgement({
      enabled: settings?.enabled === true,
      queueOpen: isQueueOpen(policy, now),
      templates: { acknowledgement: !!settings?.templateId, outOfHours: !!settings?.outOfHoursTemplateId },
      automation: AutomationFlags.fromPartial(record.latestInboundAutomation ?? record.automation),
      lastAcknowledgedAt: mine ? undefined : claimed?.at,
      now,
      periodMs: durationMs(settings?.period) ?? defaultAcknowledgementPeriodMs,
    });
    if (!decision.send || !settings) return decision;
    const templateId = decision.kind === 'acknowledgement' ? settings.templateId : settings.outOfHoursTemplateId;
    const template = await config.get(record.tenantId, 'template', templateId);
    if (!template) {
      logger.warn({ tenantId: record.tenantId, queueId: queue.queueId, templateId }, 'router: acknowledgement template is gone');
      return { send: false, reason: 'no-template', detail: `template ${templateId} does not exist` };
    }
    const reference = settings.referencePrefix ? await references.assign(record, settings.referencePrefix) : undefined;
    const rendered = renderMessageTemplate(template.value, {
      customer_name: record.customerName,
      customer_address: record.customerAddress,
      queue_name: queue.displayName,
      interaction_reference: reference ?? record.interactionId,
      mailbox_address: record.mailboxAddress,
      subject: record.subject,
    });
    // Empty keeps Graph's "RE: <subject>"; a reference needs the subject spelled out to carry it.
    const base = rendered.subject || (/^re:/i.test(record.subject) ? record.subject : `RE: ${record.subject}`);
    const subject = reference ? withSubjectReference(base.slice(0, 250 - reference.length), reference) : rendered.subject;
    const sendId = acknowledgementSendId(record.tenantId, record.interactionId);
    if (!mine) await stores.acknowledgements.put(customerKey(record), { at: now, interactionId: record.interactionId, sendId });
    const outbound = OutboundRequest.fromPartial({
      eventId: randomUUID(),
      tenantId: record.tenantId,
      occurredAt: new Date(now),
      sendId,
      idempotencyKey: sendId,
      kind: SendKind.SEND_KIND_REPLY,
      interactionId: record.interactionId,
      mailboxId: record.mailboxId,
      mailboxAddress: record.mailboxAddress,
      replyToGraphMessageId: record.latestInboundGraphMessageId,
      replyMode: ReplyMode.REPLY_MODE_REPLY,
      content: {
        subject,
        bodyHtml: rendered.html,
        bodyText: rendered.text,
        attachments: templateOutgoingAttachments(template.value),
      },
      requestedBy: { kind: ActorKind.ACTOR_KIND_SYSTEM, id: '', displayName: decision.kind },
      allowAutomatedRecipient: false,
      automatic: true,
    });
    const send: SendDocument = {
      sendId,
      interactionId: record.interactionId,
      mailboxId: record.mailboxId,
      state: SendState.SEND_STATE_ACCEPTED,
      requestedAt: now,
      request: OutboundRequest.toJSON(outbound),
      published: false,
    };
    await sendOutbox.record(record.tenantId, foreignSendKey(record.tenantId, sendId), send);
    return reference ? { ...decision, reference } : decision;
  };
}

export type Acknowledge = ReturnType<typeof createAcknowledgements>;
