import { adminRequest } from './admin-http';
import type { FaultRuleInput, FaultRule } from '../throttling/fault-injector';
import type { SentRecord, TenantStats, ThrottlingSettings } from '../model/model.types';
import type { TrafficKind } from '../traffic/traffic-generator';
import type {
  AccessPolicyRequest,
  AddCertificateRequest,
  ConsentRequest,
  CreateAppRequest,
  CreateMailboxRequest,
  CreateSecretRequest,
  CreateTenantRequest,
  InboundMailRequest,
  MailboxPermissionRequest,
  RoleAssignmentRequest,
  ThrottlingRequest,
  TrafficRequest,
  UpdateAppRequest,
} from './admin-schemas';
import type { AppRoleAssignment } from '../model/model.types';
import type { ServicePrincipalAuthorizationRow } from '../authz/app-rbac';
import type { managementScopeSchema, recipientSchema, roleAssignmentRequestSchema } from './app-rbac-admin.routes';
import type { z } from 'zod';
import type { toAppView, toMailboxView, toMessageSummary, toTenantView } from './admin.views';
import type { DemoSummary } from './demo-profile';

export type TenantView = ReturnType<typeof toTenantView>;
export type AppView = ReturnType<typeof toAppView>;
export type MailboxView = ReturnType<typeof toMailboxView>;
export type MessageSummary = ReturnType<typeof toMessageSummary>;
export interface CreatedSecret {
  keyId: string;
  displayName: string;
  hint: string;
  /** The secret value: returned only here, as the portal shows it once. */
  secretText: string;
  startDateTime: string;
  endDateTime: string;
}
export interface AddedCertificate {
  keyId: string;
  thumbprintSha256: string;
  thumbprint: string;
  endDateTime: string;
  /** Only when the sandbox generated the certificate. */
  certificatePem?: string;
  privateKeyPem?: string;
}
export interface AccessPolicyView {
  id: string;
  appId: string;
  accessRight: 'RestrictAccess' | 'DenyAccess';
  policyScopeGroupId: string;
  description: string;
}
/** A trustee's rights on a mailbox. */
export interface MailboxPermissionEntry {
  user: string;
  userId: string;
  accessRights: MailboxPermissionRequest['accessRights'];
}
export interface FolderSummary {
  id: string;
  displayName: string;
  wellKnownName: string | null;
  parentFolderId: string;
  totalItemCount: number;
  unreadItemCount: number;
}

/**
 * A typed client of the sandbox's admin API (plain HTTP on loopback). Every method throws
 * AdminRequestError with the status and body when the API refuses.
 */
export class GraphSandboxAdminClient {
  constructor(readonly adminUrl: string) {}

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return adminRequest<T>(this.adminUrl, method, path, body);
  }

  private static segment(value: string): string {
    return encodeURIComponent(value);
  }

  reset = () => this.call<void>('POST', '/reset');
  seedDemo = () => this.call<DemoSummary>('POST', '/profiles/demo');
  createTenant = (input: CreateTenantRequest = {}) => this.call<TenantView>('POST', '/tenants', input);
  getTenant = (tenantId: string) => this.call<TenantView>('GET', `/tenants/${tenantId}`);
  deleteTenant = (tenantId: string) => this.call<void>('DELETE', `/tenants/${tenantId}`);
  /** Token and Graph request counters of a tenant (MSAL cache checks count `tokenRequests`). */
  stats = (tenantId: string) => this.call<TenantStats>('GET', `/tenants/${tenantId}/stats`);
  setThrottling = (tenantId: string, input: ThrottlingRequest) =>
    this.call<ThrottlingSettings>('PUT', `/tenants/${tenantId}/throttling`, input);

  createApp = (tenantId: string, input: CreateAppRequest = {}) => this.call<AppView>('POST', `/tenants/${tenantId}/apps`, input);
  getApp = (tenantId: string, appId: string) => this.call<AppView>('GET', `/tenants/${tenantId}/apps/${appId}`);
  updateApp = (tenantId: string, appId: string, input: UpdateAppRequest) =>
    this.call<AppView>('PATCH', `/tenants/${tenantId}/apps/${appId}`, input);
  addSecret = (tenantId: string, appId: string, input: CreateSecretRequest = {}) =>
    this.call<CreatedSecret>('POST', `/tenants/${tenantId}/apps/${appId}/secrets`, input);
  removeSecret = (tenantId: string, appId: string, keyId: string) =>
    this.call<void>('DELETE', `/tenants/${tenantId}/apps/${appId}/secrets/${keyId}`);
  /** Uploads `certificatePem`, or lets the sandbox generate a certificate and return its private key. */
  addCertificate = (tenantId: string, appId: string, input: AddCertificateRequest = {}) =>
    this.call<AddedCertificate>('POST', `/tenants/${tenantId}/apps/${appId}/certificates`, input);
  /** Replaces admin-consented application (and/or delegated) permissions. */
  setConsent = (tenantId: string, appId: string, input: ConsentRequest) =>
    this.call<AppView>('PUT', `/tenants/${tenantId}/apps/${appId}/consent`, input);

  /** Replaces the user's app-role assignments on the app (Enterprise applications → Users and groups); [] removes them. */
  assignAppRoles = (tenantId: string, appId: string, user: string, roles: RoleAssignmentRequest['roles']) =>
    this.call<AppView>('PUT', `/tenants/${tenantId}/apps/${appId}/role-assignments/${GraphSandboxAdminClient.segment(user)}`, {
      roles,
    });

  createAccessPolicy = (tenantId: string, input: AccessPolicyRequest) =>
    this.call<AccessPolicyView>('POST', `/tenants/${tenantId}/access-policies`, input);
  removeAccessPolicy = (tenantId: string, policyId: string) =>
    this.call<void>('DELETE', `/tenants/${tenantId}/access-policies/${GraphSandboxAdminClient.segment(policyId)}`);
  /** Test-ApplicationAccessPolicy. */
  testAccessPolicy = (tenantId: string, appId: string, identity: string) =>
    this.call<{ appId: string; mailbox: string; accessCheckResult: 'Granted' | 'Denied' }>(
      'GET',
      `/tenants/${tenantId}/access-policies/test?appId=${encodeURIComponent(appId)}&identity=${encodeURIComponent(identity)}`,
    );
  setGroupMembers = (tenantId: string, group: string, members: string[]) =>
    this.call<{ group: string; members: string[] }>(
      'PUT',
      `/tenants/${tenantId}/groups/${GraphSandboxAdminClient.segment(group)}`,
      { members },
    );

  /** New-ManagementScope -Name … -RecipientRestrictionFilter … */
  createManagementScope = (tenantId: string, input: z.input<typeof managementScopeSchema>) =>
    this.call<{ name: string; recipientRestrictionFilter: string }>('POST', `/tenants/${tenantId}/management-scopes`, input);
  /** New-ManagementRoleAssignment -App … -Role "Application Mail.ReadWrite" [-CustomResourceScope …] */
  assignApplicationRole = (tenantId: string, input: z.input<typeof roleAssignmentRequestSchema>) =>
    this.call<AppRoleAssignment>('POST', `/tenants/${tenantId}/management-role-assignments`, input);
  removeApplicationRoleAssignment = (tenantId: string, name: string) =>
    this.call<void>('DELETE', `/tenants/${tenantId}/management-role-assignments/${GraphSandboxAdminClient.segment(name)}`);
  /** Test-ServicePrincipalAuthorization -Identity <app id> -Resource <mailbox> */
  testServicePrincipalAuthorization = (tenantId: string, appId: string, resource: string) =>
    this.call<{ value: ServicePrincipalAuthorizationRow[] }>(
      'GET',
      `/tenants/${tenantId}/service-principal-authorization?identity=${encodeURIComponent(appId)}&resource=${encodeURIComponent(resource)}`,
    );
  /** Set-Mailbox -CustomAttributeN …, and whether the user holds an Exchange Online license. */
  setRecipient = (tenantId: string, mailbox: string, input: z.input<typeof recipientSchema>) =>
    this.call<{ mailbox: string; customAttributes: Record<string, string>; exchangeLicensed: boolean }>(
      'PATCH',
      `/tenants/${tenantId}/mailboxes/${GraphSandboxAdminClient.segment(mailbox)}/recipient`,
      input,
    );

  createMailbox = (tenantId: string, input: CreateMailboxRequest) =>
    this.call<MailboxView>('POST', `/tenants/${tenantId}/mailboxes`, input);
  /** Grants a user Full Access / Send As / Send on Behalf on a mailbox (Add-MailboxPermission, Add-RecipientPermission, GrantSendOnBehalfTo). */
  grantMailboxPermission = (tenantId: string, mailbox: string, input: MailboxPermissionRequest) =>
    this.call<{ value: MailboxPermissionEntry[] }>(
      'POST',
      `/tenants/${tenantId}/mailboxes/${GraphSandboxAdminClient.segment(mailbox)}/permissions`,
      input,
    );
  /** Removes those rights (Remove-MailboxPermission, Remove-RecipientPermission, GrantSendOnBehalfTo @{Remove=…}). */
  revokeMailboxPermission = (tenantId: string, mailbox: string, input: MailboxPermissionRequest) =>
    this.call<{ value: MailboxPermissionEntry[] }>(
      'POST',
      `/tenants/${tenantId}/mailboxes/${GraphSandboxAdminClient.segment(mailbox)}/permissions/remove`,
      input,
    );
  mailboxPermissions = (tenantId: string, mailbox: string) =>
    this.call<{ value: MailboxPermissionEntry[] }>(
      'GET',
      `/tenants/${tenantId}/mailboxes/${GraphSandboxAdminClient.segment(mailbox)}/permissions`,
    );
  /** Delivers one inbound email (threads onto `inReplyTo`'s conversation). */
  deliver = (tenantId: string, mailbox: string, mail: InboundMailRequest) =>
    this.call<MessageSummary>(
      'POST',
      `/tenants/${tenantId}/mailboxes/${GraphSandboxAdminClient.segment(mailbox)}/messages`,
      mail,
    );
  deliverBulk = (tenantId: string, mailbox: string, messages: InboundMailRequest[]) =>
    this.call<{ value: MessageSummary[] }>(
      'POST',
      `/tenants/${tenantId}/mailboxes/${GraphSandboxAdminClient.segment(mailbox)}/messages/bulk`,
      { messages },
    );
  /** Delivers generated realistic traffic (threads, HTML, attachments, auto-replies, bounces, large, hostile). */
  generateTraffic = (tenantId: string, mailbox: string, input: TrafficRequest) =>
    this.call<{ value: Array<MessageSummary & { kind: TrafficKind }> }>(
      'POST',
      `/tenants/${tenantId}/mailboxes/${GraphSandboxAdminClient.segment(mailbox)}/traffic`,
      input,
    );
  /** What the mailbox sent through Graph (sendMail, reply, replyAll, send). */
  sent = (tenantId: string, mailbox: string) =>
    this.call<{ value: SentRecord[] }>('GET', `/tenants/${tenantId}/mailboxes/${GraphSandboxAdminClient.segment(mailbox)}/sent`);
  folders = (tenantId: string, mailbox: string) =>
    this.call<{ value: FolderSummary[] }>(
      'GET',
      `/tenants/${tenantId}/mailboxes/${GraphSandboxAdminClient.segment(mailbox)}/folders`,
    );
  folderMessages = (tenantId: string, mailbox: string, folder: string) =>
    this.call<{ value: MessageSummary[] }>(
      'GET',
      `/tenants/${tenantId}/mailboxes/${GraphSandboxAdminClient.segment(mailbox)}/folders/${GraphSandboxAdminClient.segment(folder)}/messages`,
    );
  /** Hard-deletes a message (delta reports it `@removed`). */
  deleteMessage = (tenantId: string, mailbox: string, messageId: string) =>
    this.call<void>(
      'DELETE',
      `/tenants/${tenantId}/mailboxes/${GraphSandboxAdminClient.segment(mailbox)}/messages/${GraphSandboxAdminClient.segment(messageId)}`,
    );
  /** Evicts every delta token issued so far for the mailbox (they answer 410 SyncStateNotFound). */
  expireDeltaTokens = (tenantId: string, mailbox: string) =>
    this.call<{ expiredThroughGeneration: number }>(
      'POST',
      `/tenants/${tenantId}/mailboxes/${GraphSandboxAdminClient.segment(mailbox)}/delta-tokens/expire`,
    );
  /** Revokes the user's refresh tokens (AADSTS50173 on next use). */
  revokeSessions = (tenantId: string, user: string) =>
    this.call<{ revokedRefreshTokens: number }>(
      'POST',
      `/tenants/${tenantId}/mailboxes/${GraphSandboxAdminClient.segment(user)}/revoke-sessions`,
    );
  /** Completes (or declines) a device-code sign-in as `user`. */
  approveDeviceCode = (userCode: string, user: string, decline = false) =>
    this.call<{ userCode: string; user: string; approved: boolean }>('POST', '/device-codes/approve', {
      userCode,
      user,
      decline,
    });

  addFault = (rule: FaultRuleInput) => this.call<FaultRule>('POST', '/faults', rule);
  faults = () => this.call<{ value: FaultRule[] }>('GET', '/faults');
  removeFault = (id: string) => this.call<void>('DELETE', `/faults/${id}`);
  clearFaults = () => this.call<void>('DELETE', '/faults');
}
