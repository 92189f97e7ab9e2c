import type { RenderedSignature } from '@mailroute/contracts';
import type { InteractionRecord } from '@mailroute/persistence';
import { chooseSignatures, renderMessageTemplate, toSignatureParts } from '@mailroute/routing-engine';
import { signatureRuleId, type ConfigRepository } from '../routing/config-repository';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char] ?? char);

/**
 * The signature of an agent's reply, rendered for its interaction by the tenant's signature rule
 * (default: the agent's own signature template, else the queue's, else the sending mailbox's): each
 * chosen template rendered with the placeholders filled in and escaped like any template, joined
 * in the rule's order into one signature (HTML parts one after the other, a text-only part
 * escaped; text parts separated by a blank line). Undefined when the rule finds none (a template
 * named but deleted since counts as none).
 */
export async function replySignature(
  config: Pick<ConfigRepository, 'get'>,
  agent: { tenantId: string; agentId: string; agentName: string },
  record: InteractionRecord,
): Promise<RenderedSignature | undefined> {
  const { tenantId } = agent;
  const [agentConfig, queueConfig, mailboxConfig, rule] = await Promise.all([
    config.get(tenantId, 'agent', agent.agentId),
    record.queueId ? config.get(tenantId, 'queue', record.queueId) : undefined,
    config.get(tenantId, 'mailbox', record.mailboxId),
    config.get(tenantId, 'signatureRule', signatureRuleId),
  ]);
  const templateIds = chooseSignatures(
    {
      agent: agentConfig?.value.signatureTemplateId || undefined,
      queue: queueConfig?.value.signatureTemplateId || undefined,
      mailbox: mailboxConfig?.value.signatureTemplateId || undefined,
    },
    toSignatureParts(rule?.value),
  );
  const templates = (await Promise.all(templateIds.map((id) => config.get(tenantId, 'template', id)))).filter(
    (template) => template !== undefined,
  );
  if (templates.length === 0) return undefined;
  const rendered = templates.map((template) =>
    renderMessageTemplate(template.value, {
      customer_name: record.customerName,
      customer_address: record.customerAddress,
      agent_name: agentConfig?.value.displayName || agent.agentName,
      queue_name: queueConfig?.value.displayName ?? '',
      interaction_reference: record.reference || record.interactionId,
      mailbox_address: record.mailboxAddress,
      subject: record.subject,
    }),
  );
  const anyHtml = rendered.some((part) => part.html);
  return {
    html: anyHtml
      ? rendered.map((part) => part.html || `<p>${escapeHtml(part.text).replace(/\r?\n/g, '<br>')}</p>`).join('')
      : '',
    text: rendered
      .map((part) => part.text)
      .filter((text) => text)
      .join('\n\n'),
    templateId: templates.map((template) => template.id).join(','),
  };
}
