import type { RenderedSignature } from '@mailroute/contracts';
import type { InteractionRecord } from '@mailroute/persistence';
import { chooseSignature, defaultSignatureOrder, renderMessageTemplate } from '@mailroute/routing-engine';
import type { ConfigRepository } from '../routing/config-repository';

/**
 * The signature of an agent's reply, rendered for its interaction: the agent's own signature
 * template, else the queue's (the engine's default order; mailboxes have none yet), with the
 * placeholders filled in and escaped like any template. Undefined when neither has one, or the
 * template named was deleted since.
 */
export async function replySignature(
  config: ConfigRepository,
  agent: { tenantId: string; agentId: string; agentName: string },
  record: InteractionRecord,
): Promise<RenderedSignature | undefined> {
  const [agentConfig, queueConfig] = await Promise.all([
    config.get(agent.tenantId, 'agent', agent.agentId),
    record.queueId ? config.get(agent.tenantId, 'queue', record.queueId) : undefined,
  ]);
  const templateId = chooseSignature(
    {
      agent: agentConfig?.value.signatureTemplateId || undefined,
      queue: queueConfig?.value.signatureTemplateId || undefined,
    },
    defaultSignatureOrder,
  );
  const template = templateId ? await config.get(agent.tenantId, 'template', templateId) : undefined;
  if (!templateId || !template) return undefined;
  const rendered = renderMessageTemplate(template.value, {
    customer_name: record.customerName,
    customer_address: record.customerAddress,
    agent_name: agentConfig?.value.displayName || agent.agentName,
    queue_name: queueConfig?.value.displayName ?? '',
    interaction_reference: record.interactionId,
    mailbox_address: record.mailboxAddress,
    subject: record.subject,
  });
  return { html: rendered.html, text: rendered.text, templateId };
}
