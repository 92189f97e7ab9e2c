import type { MessageTemplate } from '@mailroute/contracts';
import { renderMessageTemplate } from '@mailroute/routing-engine';
import { receiveTemplateAttachment, templateOutgoingAttachments } from '../../routing/template-attachments';
import { ofKind, readTemplateValues, searchTemplates } from '../../routing/template-search';
import type { AdminContext, AdminHandlers } from './admin-context';

/**
 * Message templates: Create, Get, List (search by name and text, filter by kind), Update, Delete,
 * Preview; and their attachments (UploadTemplateAttachment, DeleteTemplateAttachment,
 * ListTemplateAttachments), kept while a template lists them (routing/template-files.ts).
 */
export function createTemplateHandlers(
  admin: AdminContext,
): Pick<
  AdminHandlers,
  | 'createTemplate'
  | 'getTemplate'
  | 'listTemplates'
  | 'updateTemplate'
  | 'deleteTemplate'
  | 'previewTemplate'
  | 'uploadTemplateAttachment'
  | 'deleteTemplateAttachment'
  | 'listTemplateAttachments'
> {
  const { create, get, update, remove, present } = admin.resources;
  const files = admin.templateFiles;
  const uploadIds = (template: Pick<MessageTemplate, 'attachments'> | undefined) =>
    (template?.attachments ?? []).map((attachment) => attachment.uploadId);
  return {
    createTemplate: async (request, context) => {
      const template: MessageTemplate = await create(context, 'template', request.templateId, request.template);
      await files.keep(context.tenantId, uploadIds(template));
      return { template };
    },
    getTemplate: async (request, context) => ({
      template: present('template', await get(context, 'template', request.templateId)),
    }),
    listTemplates: async (request, context) => {
      const page = searchTemplates(await admin.config.all(context.tenantId, 'template'), request, ofKind(request.kind));
      return { templates: page.items.map((item) => present('template', item)), nextPageToken: page.nextPageToken };
    },
    updateTemplate: async (request, context) => {
      // What it listed before, to release what it drops; a missing template is update's to refuse, after it
      // has checked the request (an invalid mask or etag is INVALID_ARGUMENT, as for every other resource).
      const before = await get(context, 'template', request.templateId).then(
        (stored) => stored.value,
        () => undefined,
      );
      const template: MessageTemplate = await update(
        context,
        'template',
        request.templateId,
        request.template,
        request.updateMask ?? [],
        request.etag,
      );
      await files.keep(context.tenantId, uploadIds(template));
      const kept = new Set(uploadIds(template));
      await files.release(
        context.tenantId,
        uploadIds(before).filter((uploadId) => !kept.has(uploadId)),
      );
      return { template };
    },
    deleteTemplate: async (request, context) => {
      const stored = await get(context, 'template', request.templateId);
      await remove(context, 'template', request.templateId, request.etag);
      await files.release(context.tenantId, uploadIds(stored.value));
      return {};
    },
    previewTemplate: async (request, context) => {
      const values = readTemplateValues(request.values);
      const stored = await get(context, 'template', request.templateId);
      return {
        rendered: {
          templateId: stored.id,
          ...renderMessageTemplate(stored.value, values),
          attachments: templateOutgoingAttachments(stored.value),
        },
      };
    },
    uploadTemplateAttachment: async (requests, context) => {
      const upload = await receiveTemplateAttachment(requests, {
        blobs: admin.stores.blobs,
        tenantId: context.tenantId,
        clock: () => new Date(admin.core.clock()),
      });
      const { uploadId, name, contentType, sizeBytes } = upload;
      const expiresAt = await files.register(context.tenantId, { uploadId, name, contentType, sizeBytes });
      return { upload: { ...upload, expiresAt } };
    },
    deleteTemplateAttachment: async (request, context) => (await files.remove(context.tenantId, request.uploadId), {}),
    listTemplateAttachments: async (request, context) => files.list(context.tenantId, request.page),
  };
}
