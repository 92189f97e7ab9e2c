import {
  TemplateKind,
  type Agent,
  type MailboxSettings,
  type MessageTemplate,
  type Queue,
  type QueueAcknowledgement,
} from '@mailroute/contracts';
import { FailedPreconditionError, ValidationError } from '@mailroute/platform';
import type { BlobStore } from '@mailroute/persistence';
import { templateKindOf } from '@mailroute/routing-engine';
import type { ConfigKind, ConfigRepository } from '../../routing/config-repository';
import { resolveTemplateAttachments } from '../../routing/template-attachments';
import type { TemplateFiles } from '../../routing/template-files';
import { resourceId } from './resource-id';

/** How many ids of each kind a refused template deletion names. */
const shownReferences = 3;
const referenceNames = { queue: 'queues', agent: 'agents', mailbox: 'mailbox settings' } as const;

/**
 * What a configuration object names must exist in the tenant: a queue's calendar, the templates
 * its acknowledgement and signature use (of the right kind), an agent's queues and signature, a
 * mailbox's signature and acknowledgement templates, a template's attachments. INVALID_ARGUMENT
 * names the field. A template that one of them still names cannot be deleted.
 */
export function createConfigReferences(deps: { config: ConfigRepository; blobs: BlobStore; files: TemplateFiles }) {
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

  /** The signature template a queue, an agent or a mailbox names at `field`. */
  function assertSignature(tenantId: string, field: string, templateId: string | undefined) {
    return assertTemplateKind(tenantId, field, templateId, TemplateKind.TEMPLATE_KIND_SIGNATURE);
  }

  async function assertQueue(tenantId: string, queue: Queue): Promise<void> {
    const calendarId = queue.hours?.calendarId;
    if (calendarId && !(await config.get(tenantId, 'calendar', calendarId)))
      throw new ValidationError('queue.hours.calendar_id', `calendar ${JSON.stringify(calendarId)} does not exist`);
    await assertAcknowledgement(tenantId, 'queue', queue.acknowledgement);
    await assertSignature(tenantId, 'queue.signature_template_id', queue.signatureTemplateId);
  }

  async function assertAgent(tenantId: string, agent: Agent): Promise<void> {
    for (const [index, queueId] of agent.queueIds.entries()) {
      if (!(await config.get(tenantId, 'queue', queueId)))
        throw new ValidationError(`agent.queue_ids[${index}]`, `queue ${JSON.stringify(queueId)} does not exist`);
    }
    await assertSignature(tenantId, 'agent.signature_template_id', agent.signatureTemplateId);
  }

  async function assertMailbox(tenantId: string, settings: MailboxSettings): Promise<void> {
    await assertAcknowledgement(tenantId, 'settings', settings.acknowledgement);
    await assertSignature(tenantId, 'settings.signature_template_id', settings.signatureTemplateId);
  }

  /** The template ids a queue, an agent or a mailbox's settings name. */
  function namedTemplates(value: { signatureTemplateId: string; acknowledgement?: QueueAcknowledgement }): string[] {
    const ack = value.acknowledgement;
    return [value.signatureTemplateId, ack?.templateId ?? '', ack?.outOfHoursTemplateId ?? ''];
  }

  /**
   * A template still named by a queue, an agent or a mailbox's settings cannot be deleted:
   * FAILED_PRECONDITION naming which (at most {@link shownReferences} ids per kind, then "and N more").
   */
  async function assertTemplateUnused(tenantId: string, templateId: string): Promise<void> {
    const users: string[] = [];
    for (const kind of ['queue', 'agent', 'mailbox'] as const) {
      const all = await config.all(tenantId, kind);
      const ids = all.filter((stored) => namedTemplates(stored.value).includes(templateId)).map((stored) => stored.id);
      if (ids.length === 0) continue;
      const more = ids.length > shownReferences ? ` and ${ids.length - shownReferences} more` : '';
      users.push(`${referenceNames[kind]} ${ids.slice(0, shownReferences).join(', ')}${more}`);
    }
    if (users.length > 0)
      throw new FailedPreconditionError(`template ${templateId} is still used by ${users.join('; ')}: change those first`);
  }

  return {
    assertTemplateUnused,
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
      const attachments = await resolveTemplateAttachments(
        { blobs: deps.blobs, isTemplateFile: deps.files.isTemplateFile },
        tenantId,
        template,
      );
      return { ...template, attachments } as T;
    },
  };
}
