import type { AppRegistration, Mailbox, Message, Tenant } from '../model/model.types';
import { toGraphDateTime } from '../shared/clock';

/** Admin views. Secret values and keys are never returned except when created. */
export function toTenantView(tenant: Tenant, baseUrl: string) {
  return {
    id: tenant.id,
    displayName: tenant.displayName,
    domains: tenant.domains,
    authority: `${baseUrl}/${tenant.id}`,
    apps: tenant.apps.size,
    mailboxes: tenant.mailboxes.size,
    throttling: tenant.throttling,
  };
}

export function toAppView(app: AppRegistration) {
  return {
    clientId: app.clientId,
    objectId: app.objectId,
    displayName: app.displayName,
    enabled: app.enabled,
    allowPublicClient: app.allowPublicClient,
    redirectUris: app.redirectUris,
    spaRedirectUris: app.spaRedirectUris,
    appRoles: app.appRoles,
    identifierUris: [`api://${app.clientId}`],
    apiScopes: app.apiScopes,
    /** User id → assigned role values. */
    roleAssignments: Object.fromEntries([...app.roleAssignments].map(([user, roles]) => [user, [...roles].sort()])),
    configuredPermissions: {
      application: [...app.configuredApplicationPermissions].sort(),
      delegated: [...app.configuredDelegatedPermissions].sort(),
    },
    grantedPermissions: {
      application: [...app.grantedApplicationPermissions].sort(),
      delegated: [...app.adminConsentedDelegatedPermissions].sort(),
      delegatedByUser: Object.fromEntries([...app.userConsents].map(([user, scopes]) => [user, [...scopes].sort()])),
    },
    secrets: app.secrets.map((secret) => ({
      keyId: secret.keyId,
      displayName: secret.displayName,
      hint: secret.hint,
      startDateTime: toGraphDateTime(secret.startMs),
      endDateTime: toGraphDateTime(secret.endMs),
    })),
    certificates: app.certificates.map((certificate) => ({
      keyId: certificate.keyId,
      displayName: certificate.displayName,
      thumbprintSha256: certificate.thumbprintSha256,
      thumbprint: certificate.thumbprintSha1,
      endDateTime: toGraphDateTime(certificate.endMs),
    })),
  };
}

export function toMailboxView(mailbox: Mailbox) {
  return {
    id: mailbox.id,
    userPrincipalName: mailbox.userPrincipalName,
    mail: mailbox.mail,
    displayName: mailbox.displayName,
    mailboxEnabled: mailbox.mailboxEnabled,
    userPurpose: mailbox.userPurpose,
  };
}

export function toMessageSummary(mailbox: Mailbox, message: Message) {
  const folder = mailbox.folders.get(message.folderId);
  return {
    id: message.restId,
    immutableId: message.immutableId,
    folder: folder?.wellKnownName ?? folder?.displayName ?? message.folderId,
    subject: message.subject,
    from: message.from?.emailAddress.address ?? null,
    to: message.toRecipients.map((recipient) => recipient.emailAddress.address),
    receivedDateTime: toGraphDateTime(message.receivedMs),
    isRead: message.isRead,
    isDraft: message.isDraft,
    categories: message.categories,
    internetMessageId: message.internetMessageId,
    conversationId: message.conversationId,
    attachments: message.attachments.length,
  };
}
