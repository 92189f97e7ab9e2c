import type { TemplateAttachment, TemplateAttachmentFile, PageRequest } from '@mailroute/contracts';
import { FailedPreconditionError, NotFoundError, ValidationError } from '@mailroute/platform';
import { encodePageToken, isUploadId, readPageRequest, uploadBlobKey, type BlobStore } from '@mailroute/persistence';
import type { ConfigRepository } from './config-repository';

/**
 * How long a template file that no template lists is kept: after its upload (the time to name it in
 * a template), and after the last template that listed it stopped listing it — at least as long as
 * a send made from that template may still read it (a send keeps the uploads it names 48 hours).
 */
const unlistedTtlMs = 48 * 60 * 60_000;

/**
 * The tenant's template attachment files: each one recorded when it is uploaded (`templateFile` in
 * the configuration, what ListTemplateAttachments lists), kept while a template lists it, and
 * otherwise left to expire (the router's upload sweep deletes it 48 hours on).
 *
 * Without an atomic "delete unless listed" across the blob store and the templates, a file is never
 * deleted at once when a template stops listing it: it is given an expiry, and the templates are
 * read again — a template written meanwhile takes it back. A template write clears its files'
 * expiry after the write, so a release that read the templates before that write is undone by it.
 * Either order keeps a file some template lists, on any number of replicas.
 */
export function createTemplateFiles(deps: { config: ConfigRepository; blobs: BlobStore; clock: () => number }) {
  const { config, blobs, clock } = deps;
  const key = (tenantId: string, uploadId: string) => uploadBlobKey(tenantId, uploadId);

  /** Upload id → ids of the templates that list it, in template id order. */
  async function listers(tenantId: string): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const template of await config.all(tenantId, 'template'))
      for (const attachment of template.value.attachments) {
        const ids = out.get(attachment.uploadId) ?? [];
        if (!ids.includes(template.id)) ids.push(template.id);
        out.set(attachment.uploadId, ids);
      }
    return out;
  }

  /** Whether `uploadId` was uploaded as a template file (before files were recorded: a file kept with no expiry). */
  async function isTemplateFile(tenantId: string, uploadId: string): Promise<boolean> {
    if (!isUploadId(uploadId)) return false;
    const info = await blobs.stat(key(tenantId, uploadId));
    if (!info) return false;
    return !info.expiresAt || (await config.get(tenantId, 'templateFile', uploadId)) !== undefined;
  }

  return {
    /** Records a received file as a template file no template lists yet: it expires unless one does. */
    async register(tenantId: string, file: TemplateAttachment): Promise<Date> {
      const now = clock();
      await config.write(tenantId, 'templateFile', file.uploadId, 0, file, now, now);
      const expiresAt = new Date(now + unlistedTtlMs);
      await blobs.setExpiry(key(tenantId, file.uploadId), expiresAt);
      return expiresAt;
    },

    isTemplateFile,

    /** After a template listing `uploadIds` was written: they are kept (no expiry) while it lists them. */
    async keep(tenantId: string, uploadIds: readonly string[]): Promise<void> {
      for (const uploadId of new Set(uploadIds)) {
        if (!(await blobs.setExpiry(key(tenantId, uploadId), undefined)))
          throw new FailedPreconditionError(
            `template attachment ${uploadId} expired while the template was written: upload it again and list the new one`,
          );
      }
    },

    /** After templates stopped listing `uploadIds`: those no template lists any more expire 48 hours on. */
    async release(tenantId: string, uploadIds: readonly string[]): Promise<void> {
      const candidates = [...new Set(uploadIds)];
      if (candidates.length === 0) return;
      const listed = await listers(tenantId);
      const unlisted = candidates.filter((uploadId) => !listed.has(uploadId));
      if (unlisted.length === 0) return;
      const expiresAt = new Date(clock() + unlistedTtlMs);
      for (const uploadId of unlisted) await blobs.setExpiry(key(tenantId, uploadId), expiresAt);
      // A template written since the first read takes its file back.
      const again = await listers(tenantId);
      for (const uploadId of unlisted) if (again.has(uploadId)) await blobs.setExpiry(key(tenantId, uploadId), undefined);
    },

    /** DeleteTemplateAttachment: refused while a template lists it; the same mark-and-read-again as a release. */
    async remove(tenantId: string, uploadId: string): Promise<void> {
      if (!uploadId) throw new ValidationError('upload_id', 'is required');
      if (!(await isTemplateFile(tenantId, uploadId))) throw new NotFoundError('template attachment', uploadId);
      const inUse = (ids: string[] | undefined) => {
        if (ids?.length) throw new FailedPreconditionError(`template ${ids[0]} lists attachment ${uploadId}`);
      };
      inUse((await listers(tenantId)).get(uploadId));
      await blobs.setExpiry(key(tenantId, uploadId), new Date(clock() + unlistedTtlMs));
      const again = (await listers(tenantId)).get(uploadId);
      if (again?.length) {
        await blobs.setExpiry(key(tenantId, uploadId), undefined);
        inUse(again);
      }
      await blobs.delete(key(tenantId, uploadId));
      await config.remove(tenantId, 'templateFile', uploadId);
    },

    /**
     * One page of the tenant's template files in upload id order, each with the templates that list
     * it. Files uploaded before they were recorded show when a template lists them. A record whose
     * file has expired is dropped here.
     */
    async list(
      tenantId: string,
      page: PageRequest | undefined,
    ): Promise<{ attachments: TemplateAttachmentFile[]; nextPageToken: string }> {
      const { pageSize, after } = readPageRequest(page ?? {});
      const listed = await listers(tenantId);
      const known = new Map<string, TemplateAttachment>();
      for (const record of await config.all(tenantId, 'templateFile')) known.set(record.id, record.value);
      for (const template of await config.all(tenantId, 'template'))
        for (const attachment of template.value.attachments)
          if (!known.has(attachment.uploadId)) known.set(attachment.uploadId, attachment);
      const ids = [...known.keys()].filter((uploadId) => after === undefined || uploadId > after).sort();
      const attachments: TemplateAttachmentFile[] = [];
      let last: string | undefined;
      for (const uploadId of ids) {
        if (attachments.length >= pageSize) break;
        last = uploadId;
        const info = await blobs.stat(key(tenantId, uploadId));
        if (!info) {
          await config.remove(tenantId, 'templateFile', uploadId);
          continue;
        }
        const file = known.get(uploadId) as TemplateAttachment;
        attachments.push({
          uploadId,
          name: file.name || info.name,
          contentType: file.contentType || info.contentType,
          sizeBytes: file.sizeBytes || info.sizeBytes,
          templateIds: listed.get(uploadId) ?? [],
          expiresAt: info.expiresAt,
        });
      }
      const more = last !== undefined && ids.indexOf(last) < ids.length - 1;
      return { attachments, nextPageToken: more && last ? encodePageToken(last) : '' };
    },
  };
}

export type TemplateFiles = ReturnType<typeof createTemplateFiles>;
