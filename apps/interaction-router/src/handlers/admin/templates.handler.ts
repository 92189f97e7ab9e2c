import { renderMessageTemplate } from '@mailroute/routing-engine';
import { ofKind, readTemplateValues, searchTemplates } from '../../routing/template-search';
import type { AdminContext, AdminHandlers } from './admin-context';

/** Message templates: Create, Get, List (search by name and text, filter by kind), Update, Delete, Preview. */
export function createTemplateHandlers(
  admin: AdminContext,
): Pick<
  AdminHandlers,
  'createTemplate' | 'getTemplate' | 'listTemplates' | 'updateTemplate' | 'deleteTemplate' | 'previewTemplate'
> {
  const { create, get, update, remove, present } = admin.resources;
  return {
    createTemplate: async (request, context) => ({
      template: await create(context, 'template', request.templateId, request.template),
    }),
    getTemplate: async (request, context) => ({
      template: present('template', await get(context, 'template', request.templateId)),
    }),
    listTemplates: async (request, context) => {
      const page = searchTemplates(await admin.config.all(context.tenantId, 'template'), request, ofKind(request.kind));
      return { templates: page.items.map((item) => present('template', item)), nextPageToken: page.nextPageToken };
    },
    updateTemplate: async (request, context) => ({
      template: await update(context, 'template', request.templateId, request.template, request.updateMask ?? [], request.etag),
    }),
    deleteTemplate: async (request, context) => (await remove(context, 'template', request.templateId, request.etag), {}),
    previewTemplate: async (request, context) => {
      const values = readTemplateValues(request.values);
      const stored = await get(context, 'template', request.templateId);
      return { rendered: { templateId: stored.id, ...renderMessageTemplate(stored.value, values) } };
    },
  };
}
