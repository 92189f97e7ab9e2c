import { FailedPreconditionError, NotFoundError, ValidationError } from '@mailroute/platform';
import { isUploadId, uploadBlobKey } from '@mailroute/persistence';
import { renderMessageTemplate } from '@mailroute/routing-engine';
import { receiveTemplateAttachment, templateOutgoingAttachments } from '../../routing/template-attachments';
import { ofKind, readTemplateValues, searchTemplates } from '../../routing/template-search';
import type { AdminContext, AdminHandlers } from './admin-context';

/**
 * Message templates: Create, Get, List (search by name and text, filter by kind), Update, Delete,
 * Preview; and their attachments (UploadTemplateAttachment, DeleteTemplateAttachment).
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
> {
  const { create, get, update, remove, present } = admin.resources;
  const blobs = admin.stores.blobs;
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
      return {
        rendered: {
          templateId: stored.id,
          ...renderMessageTemplate(stored.value, values),
          attachments: templateOutgoingAttachments(stored.value),
        },
      };
    },
    uploadTemplateAttachment: async (requests, context) => ({
      upload: await receiveTemplateAttachment(requests, {
        blobs,
        tenantId: context.tenantId,
        clock: () => new Date(admin.core.clock()),
      }),
    }),
    deleteTemplateAttachment: async (request, context) => {
      if (!request.uploadId) throw new ValidationError('upload_id', 'is required');
      const key = uploadBlobKey(context.tenantId, request.uploadId);
      const info = isUploadId(request.uploadId) ? await blobs.stat(key) : undefined;
      if (!info || info.expiresAt) throw new NotFoundError('template attachment', request.uploadId);
      const templates = await admin.config.all(context.tenantId, 'template');
      const user = templates.find((t) => t.value.attachments.some((a) => a.uploadId === request.uploadId));
      if (user) throw new FailedPreconditionError(`template ${user.id} lists attachment ${request.uploadId}`);
      await blobs.delete(key);
      return {};
    },
  };
}
