import {
  TemplateKind,
  type Agent,
  type MailboxSettings,
  type MessageTemplate,
  type Queue,
  type QueueAcknowledgement,
} from '@mailroute/contracts';
import { ValidationError } from '@mailroute/platform';
import type { BlobStore } from '@mailroute/persistence';
import { templateKindOf } from '@mailroute/routing-engine';
import type { ConfigKind, ConfigRepository } from '../../routing/config-repository';
import { resolveTemplateAttachments } from '../../routing/template-attachments';
import { resourceId } from './resource-id';

/**
 * What a configuration object names must exist in the tenant: a queue's calendar, the templates
 * its acknowledgement and signature use (of the right kind), an agent's queues and signature, a
 * mailbox's signature and acknowledgement templates, a template's attachments. INVALID_ARGUMENT
 * names the field.
 */
export function createConfigReferences(deps: { config: ConfigRepository; blobs: BlobStore }) {
  const { config } = deps;

  /** A template a setting names must exist and be of the kind the setting uses. */
  async function assertTemplateKind(tenantId: string, field: string, templateId: string | undefined, kind: TemplateKind) {
    if (!templateId) return;
    if (!resourceId.test(templateId)) throw new ValidationError(field, 'is not a template id');
    const template = await config.get(tenantId, 'template', templateId);
    if (!template || templateKindOf(template.value) !== kind)
      throw new ValidationError(
        field,
        `template ${JSON.stringify(templateId)} does not exist or is not of kind ${TemplateKind[kind]}`,
      );
  }

  async function assertAcknowledgement(tenantId: string, prefix: string, ack: QueueAcknowledgement | undefined) {
    await assertTemplateKind(
      tenantId,
      `${prefix}.acknowledgement.template_id`,
      ack?.templateId,
      TemplateKind.TEMPLATE_KIND_ACKNOWLEDGEMENT,
    );
    await assertTemplateKind(
      tenantId,
      `${prefix}.acknowledgement.out_of_hours_template_id`,
      ack?.outOfHoursTemplateId,
      TemplateKind.TEMPLATE_KIND_OUT_OF_HOURS,
    );
  }

  async function assertQueue(tenantId: string, queue: Queue): Promise<void> {
    const calendarId = queue.hours?.calendarId;
    if (calendarId && !(await config.get(tenantId, 'calendar', calendarId)))
      throw new ValidationError('queue.hours.calendar_id', `calendar ${JSON.stringify(calendarId)} does not exist`);
    await assertAcknowledgement(tenantId, 'queue', queue.acknowledgement);
    await assertTemplateKind(
      tenantId,
      'queue.signature_template_id',
      queue.signatureTemplateId,
      TemplateKind.TEMPLATE_KIND_SIGNATURE,
    );
  }

  async function assertAgent(tenantId: string, agent: Agent): Promise<void> {
    for (const [index, queueId] of agent.queueIds.entries()) {
      if (!(await config.get(tenantId, 'queue', queueId)))
        throw new ValidationError(`agent.queue_ids[${index}]`, `queue ${JSON.stringify(queueId)} does not exist`);
    }
    await assertTemplateKind(
      tenantId,
      'agent.signature_template_id',
      agent.signatureTemplateId,
      TemplateKind.TEMPLATE_KIND_SIGNATURE,
    );
  }

  async function assertMailbox(tenantId: string, settings: MailboxSettings): Promise<void> {
    await assertAcknowledgement(tenantId, 'settings', settings.acknowledgement);
    await assertTemplateKind(
      tenantId,
      'settings.signature_template_id',
      settings.signatureTemplateId,
      TemplateKind.TEMPLATE_KIND_SIGNATURE,
    );
  }

  return {
    /**
     * Checks what `value` names; returns the value to store (a template's attachments filled in
     * with their name, type and size from the stored files).
     */
    async assertReferencesExist<T>(tenantId: string, kind: ConfigKind, value: T): Promise<T> {
      if (kind === 'queue') await assertQueue(tenantId, value as Queue);
      if (kind === 'agent') await assertAgent(tenantId, value as Agent);
      if (kind === 'mailbox') await assertMailbox(tenantId, value as MailboxSettings);
      if (kind !== 'template') return value;
      const template = value as MessageTemplate;
      const attachments = await resolveTemplateAttachments(deps.blobs, tenantId, template);
      return { ...template, attachments } as T;
    },
  };
}
