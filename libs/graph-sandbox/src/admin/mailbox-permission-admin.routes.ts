// Admin routes for mailbox permissions of users on other mailboxes (what an Exchange admin grants with
// Add-MailboxPermission, Add-RecipientPermission and Set-Mailbox -GrantSendOnBehalfTo, and removes with
// their Remove-… counterparts).
import { permissionEntries, setMailboxRights } from '../model/mailbox-permissions';
import { mailboxPermissionSchema } from './admin-schemas';
import { parse, type AdminRouteDeps, type MailboxParams } from './admin-request';

export function registerMailboxPermissionAdminRoutes({ app, context }: AdminRouteDeps): void {
  const { state } = context;
  const resolve = (params: MailboxParams) => {
    const tenant = state.getTenant(params.tenantId);
    const mailbox = state.getMailbox(params.tenantId, decodeURIComponent(params.mailbox));
    return { tenant, mailbox };
  };
  const change = (granted: boolean) => async (request: { params: MailboxParams; body: unknown }) => {
    const { tenant, mailbox } = resolve(request.params);
    const input = parse(mailboxPermissionSchema, request.body);
    setMailboxRights(tenant, mailbox, state.findMailbox(tenant, input.user), input.accessRights, granted);
    return { value: permissionEntries(tenant, mailbox) };
  };
  app.get<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/permissions', async (request) => {
    const { tenant, mailbox } = resolve(request.params);
    return { value: permissionEntries(tenant, mailbox) };
  });
  app.post<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/permissions', change(true));
  app.post<{ Params: MailboxParams }>('/tenants/:tenantId/mailboxes/:mailbox/permissions/remove', change(false));
}
