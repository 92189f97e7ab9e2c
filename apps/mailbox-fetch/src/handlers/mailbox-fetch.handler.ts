import type { MailboxFetchServiceImplementation } from '@mailroute/contracts';
import { ValidationError, readUpdateMask, type TenantCallContext } from '@mailroute/platform';
import type { MailboxFetchCore } from '../mailbox-fetch';
import { readMailboxId, writableMailboxPaths } from '../mailboxes/mailbox-config';
import type { MailboxDiagnosis } from '../diagnosis/mailbox-diagnosis';

function readPage(page: { pageSize: number; pageToken: string } | undefined): { limit: number; after: string | undefined } {
  const size = page?.pageSize ?? 0;
  if (size < 0) throw new ValidationError('page.page_size', 'must not be negative');
  const token = page?.pageToken ?? '';
  if (token.length > 1024) throw new ValidationError('page.page_token', 'must be at most 1024 characters');
  let after: string | undefined;
  if (token) {
    after = Buffer.from(token, 'base64url').toString('utf8');
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(after)) throw new ValidationError('page.page_token', 'is not a token this call returned');
  }
  return { limit: Math.min(size || 50, 500), after };
}

const pageToken = (lastId: string) => (lastId ? Buffer.from(lastId, 'utf8').toString('base64url') : '');

/** MailboxFetchService: thin mapping onto the core; the tenant always comes from the caller. */
export function createMailboxFetchHandlers(
  core: MailboxFetchCore,
  diagnosis: MailboxDiagnosis,
): MailboxFetchServiceImplementation<TenantCallContext> {
  return {
    async createMailbox(request, context) {
      return { mailbox: await core.createMailbox(context.tenantId, request.mailboxId, request.mailbox) };
    },
    async getMailbox(request, context) {
      return { mailbox: await core.getMailbox(context.tenantId, readMailboxId(request.mailboxId)) };
    },
    async listMailboxes(request, context) {
      const page = readPage(request.page);
      if (request.addressContains.length > 320) throw new ValidationError('address_contains', 'must be at most 320 characters');
      const result = await core.listMailboxes(context.tenantId, {
        addressContains: request.addressContains,
        state: request.syncState,
        after: page.after,
        limit: page.limit,
      });
      return { mailboxes: result.mailboxes, nextPageToken: pageToken(result.next) };
    },
    async updateMailbox(request, context) {
      const mask = readUpdateMask(request.updateMask, writableMailboxPaths);
      if (!request.mailbox) throw new ValidationError('mailbox', 'is required');
      return {
        mailbox: await core.updateMailbox(
          context.tenantId,
          readMailboxId(request.mailboxId),
          request.mailbox,
          mask,
          request.etag,
        ),
      };
    },
    async deleteMailbox(request, context) {
      await core.deleteMailbox(context.tenantId, readMailboxId(request.mailboxId), request.etag);
      return {};
    },
    async syncNow(request, context) {
      return { status: await core.syncNow(context.tenantId, readMailboxId(request.mailboxId), request.fullResync) };
    },
    async getSyncStatus(request, context) {
      return { status: await core.getSyncStatus(context.tenantId, readMailboxId(request.mailboxId)) };
    },
    async listSyncStatuses(request, context) {
      const page = readPage(request.page);
      const result = await core.listSyncStatuses(context.tenantId, request.state, page.after, page.limit);
      return { statuses: result.statuses, nextPageToken: pageToken(result.next) };
    },
    async diagnoseMailboxAccess(request, context) {
      const target = request.target;
      if (!target) throw new ValidationError('target', 'is required: mailbox_id or candidate');
      return diagnosis.diagnose(
        context.tenantId,
        target.$case === 'mailboxId'
          ? { mailboxId: readMailboxId(target.value, 'target.mailbox_id') }
          : { candidate: target.value },
        request.skipSendCheck,
      );
    },
  };
}
