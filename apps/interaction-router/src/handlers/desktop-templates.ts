import { TemplateKind, type AgentDesktopServiceImplementation, type MessageTemplate } from '@mailroute/contracts';
import { NotFoundError, ValidationError } from '@mailroute/platform';
import { renderMessageTemplate, templateKindOf } from '@mailroute/routing-engine';
import type { AgentCallContext } from '../auth/agent-caller';
import { findVisible } from '../desktop/agent-access';
import { present } from './admin/config-resources';
import { templateOutgoingAttachments } from '../routing/template-attachments';
import { searchTemplates } from '../routing/template-search';
import type { RouterCore } from '../routing/router-core';
import type { RouterStores } from '../store/router-stores';

/**
 * The agent desktop's canned responses: ListMyTemplates (those of every queue and of the agent's
 * queues) and RenderTemplate for an interaction the agent may see (with the template's attachments
 * as reply attachments by upload id, for the reply's content). Acknowledgements and
 * signatures are not offered to agents.
 */
export function createDesktopTemplateHandlers(deps: {
  core: RouterCore;
  stores: RouterStores;
}): Pick<AgentDesktopServiceImplementation<AgentCallContext>, 'listMyTemplates' | 'renderTemplate'> {
  const { core, stores } = deps;

  async function usableBy(context: AgentCallContext): Promise<(template: MessageTemplate) => boolean> {
    const agent = await core.config.get(context.tenantId, 'agent', context.agentId);
    const queues = new Set(agent?.value.queueIds ?? []);
    return (template) =>
      templateKindOf(template) === TemplateKind.TEMPLATE_KIND_CANNED_RESPONSE &&
      (template.queueIds.length === 0 || template.queueIds.some((queueId) => queues.has(queueId)));
  }

  return {
    async listMyTemplates(request, context) {
      const page = searchTemplates(await core.config.all(context.tenantId, 'template'), request, await usableBy(context));
      return { templates: page.items.map((item) => present('template', item)), nextPageToken: page.nextPageToken };
    },

    async renderTemplate(request, context) {
      if (!request.templateId) throw new ValidationError('template_id', 'is required');
      const record = await findVisible(stores, context, request.interactionId);
      const stored = await core.config.get(context.tenantId, 'template', request.templateId);
      if (!stored || !(await usableBy(context))(stored.value)) throw new NotFoundError('template', request.templateId);
      const [agent, queue] = await Promise.all([
        core.config.get(context.tenantId, 'agent', context.agentId),
        record.queueId ? core.config.get(context.tenantId, 'queue', record.queueId) : undefined,
      ]);
      const rendered = renderMessageTemplate(stored.value, {
        customer_name: record.customerName,
        customer_address: record.customerAddress,
        agent_name: agent?.value.displayName ?? '',
        queue_name: queue?.value.displayName ?? '',
        interaction_reference: record.reference || record.interactionId,
        mailbox_address: record.mailboxAddress,
        subject: record.subject,
      });
      return { rendered: { templateId: stored.id, ...rendered, attachments: templateOutgoingAttachments(stored.value) } };
    },
  };
}
