import { SignatureRule, SignatureSource } from '@mailroute/contracts';
import { ConflictError, ValidationError } from '@mailroute/platform';
import { signatureRuleId } from '../../routing/config-repository';
import { validateConfig } from './config-resources';
import type { AdminContext, AdminHandlers } from './admin-context';

/**
 * The router's per-mailbox settings (Create/Get/List/Update/DeleteMailboxSettings) and the tenant's
 * signature rule (Get/SetSignatureRule: one object, the default until set).
 */
export function createMailboxSettingsHandlers(
  admin: AdminContext,
): Pick<
  AdminHandlers,
  | 'createMailboxSettings'
  | 'getMailboxSettings'
  | 'listMailboxSettings'
  | 'updateMailboxSettings'
  | 'deleteMailboxSettings'
  | 'getSignatureRule'
  | 'setSignatureRule'
> {
  const { create, get, update, list, remove, present } = admin.resources;
  const presentRule = (stored: { value: SignatureRule; version: number; updatedAt: number } | undefined) =>
    stored
      ? { parts: stored.value.parts, updatedAt: new Date(stored.updatedAt), etag: String(stored.version) }
      : {
          parts: [
            {
              sources: [
                SignatureSource.SIGNATURE_SOURCE_AGENT,
                SignatureSource.SIGNATURE_SOURCE_QUEUE,
                SignatureSource.SIGNATURE_SOURCE_MAILBOX,
              ],
            },
          ],
          etag: '',
        };
  return {
    createMailboxSettings: async (request, context) => {
      if (!request.mailboxId) throw new ValidationError('mailbox_id', 'is required');
      return { settings: await create(context, 'mailbox', request.mailboxId, request.settings) };
    },
    getMailboxSettings: async (request, context) => ({
      settings: present('mailbox', await get(context, 'mailbox', request.mailboxId)),
    }),
    listMailboxSettings: async (request, context) => {
      const page = await list(context, 'mailbox', request.page);
      return { settings: page.items, nextPageToken: page.nextPageToken };
    },
    updateMailboxSettings: async (request, context) => ({
      settings: await update(context, 'mailbox', request.mailboxId, request.settings, request.updateMask ?? [], request.etag),
    }),
    deleteMailboxSettings: async (request, context) => (await remove(context, 'mailbox', request.mailboxId, request.etag), {}),

    getSignatureRule: async (_request, context) => ({
      rule: presentRule(await admin.config.get(context.tenantId, 'signatureRule', signatureRuleId)),
    }),
    setSignatureRule: async (request, context) => {
      if (!request.rule) throw new ValidationError('rule', 'is required');
      const rule = SignatureRule.fromPartial({ parts: request.rule.parts });
      validateConfig('signatureRule', rule, signatureRuleId);
      const current = await admin.config.get(context.tenantId, 'signatureRule', signatureRuleId);
      if (request.etag && request.etag !== String(current?.version ?? ''))
        throw new ConflictError(`the signature rule changed since etag ${request.etag}`);
      const now = admin.core.clock();
      const written = await admin.config.write(
        context.tenantId,
        'signatureRule',
        signatureRuleId,
        current?.version ?? 0,
        rule,
        current?.createdAt ?? now,
        now,
      );
      admin.core.invalidateRules(context.tenantId); // replies read the rule through the configuration cache
      return { rule: presentRule(written) };
    },
  };
}
