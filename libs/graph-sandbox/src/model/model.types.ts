import type { KeyObject } from 'node:crypto';

/** A Graph `recipient`: `{ emailAddress: { name, address } }`. */
export interface Recipient {
  emailAddress: { name?: string; address: string };
}

export interface InternetMessageHeader {
  name: string;
  value: string;
}

export interface ItemBody {
  contentType: 'text' | 'html';
  content: string;
}

/** A client secret as "Certificates & secrets" shows it; `secretText` is only ever returned at creation. */
export interface ClientSecret {
  keyId: string;
  displayName: string;
  secretText: string;
  /** The first three characters, as the portal shows. */
  hint: string;
  startMs: number;
  endMs: number;
}

/** An uploaded certificate credential (public part only). */
export interface CertificateCredential {
  keyId: string;
  displayName: string;
  /** Lowercase hex. */
  thumbprintSha256: string;
  thumbprintSha1: string;
  publicKey: KeyObject;
  startMs: number;
  endMs: number;
}

/**
 * An app registration with its service principal in the same tenant (the admin guides register a
 * single-tenant app per customer tenant). "Configured" permissions are what the registration asks for;
 * "granted" ones are what an admin consented to — only those end up in tokens.
 */
export interface AppRegistration {
  clientId: string;
  objectId: string;
  displayName: string;
  enabled: boolean;
  /** "Allow public client flows" (needed for the device-code flow without a credential). */
  allowPublicClient: boolean;
  /** Redirect URIs of the "Web" platform (server-side apps, native apps): redeemed without an `Origin`. */
  redirectUris: string[];
  /**
   * Redirect URIs of the "Single-page application" platform: codes issued to them must be redeemed
   * cross-origin (with `Origin`, CORS answered for their origins), with PKCE S256, and their refresh
   * tokens live 24 hours.
   */
  spaRedirectUris: string[];
  /**
   * Delegated scopes the app exposes as an API ("Expose an API", identifier URI `api://<clientId>`); a
   * token for them has `aud` = the client id (v2.0 tokens), `scp` and the user's app roles on this app.
   */
  apiScopes: string[];
  /** App roles the app defines ("App roles" blade); assigned users get their values in `roles`. */
  appRoles: AppRole[];
  /** Role assignments to users (Enterprise applications → Users and groups): user id → role values. */
  roleAssignments: Map<string, Set<string>>;
  secrets: ClientSecret[];
  certificates: CertificateCredential[];
  configuredApplicationPermissions: Set<string>;
  configuredDelegatedPermissions: Set<string>;
  grantedApplicationPermissions: Set<string>;
  /** Delegated scopes consented tenant-wide by an admin. */
  adminConsentedDelegatedPermissions: Set<string>;
  /** Delegated scopes a user consented to for themself, by user id. */
  userConsents: Map<string, Set<string>>;
}

/** An app role (`appRoles` in the manifest); `value` is what tokens carry in `roles`. */
export interface AppRole {
  id: string;
  value: string;
  displayName: string;
  description: string;
  /** Who may be assigned: users (and groups) or applications. The sandbox assigns users only. */
  allowedMemberTypes: Array<'User' | 'Application'>;
}

/** `New-ApplicationAccessPolicy -AppId … -PolicyScopeGroupId … -AccessRight RestrictAccess|DenyAccess`. */
export interface AccessPolicy {
  id: string;
  appId: string;
  accessRight: 'RestrictAccess' | 'DenyAccess';
  /** Address of the mail-enabled security group whose members the policy scopes. */
  policyScopeGroupId: string;
  description: string;
}

/** The Exchange application roles the sandbox models (RBAC for Applications). */
export type ApplicationRoleName =
  'Application Mail.Read' | 'Application Mail.ReadBasic' | 'Application Mail.ReadWrite' | 'Application Mail.Send';

/** One comparison of a recipient filter: `CustomAttribute1 -eq 'mailroute'`. */
export interface FilterClause {
  property: string;
  operator: '-eq' | '-ne' | '-like';
  value: string;
}

/** `New-ManagementScope -RecipientRestrictionFilter`: clauses joined by one kind of connective. */
export interface ManagementScope {
  name: string;
  recipientRestrictionFilter: string;
  clauses: FilterClause[];
  join: '-and' | '-or';
}

/** `New-ManagementRoleAssignment -App … -Role … [-CustomResourceScope …]`; no scope: the whole organization. */
export interface AppRoleAssignment {
  name: string;
  appId: string;
  role: ApplicationRoleName;
  customResourceScope?: string;
}

/** Exchange-side recipient properties a scope filters on, and licensing (Set-Mailbox, license assignment). */
export interface RecipientProperties {
  /** CustomAttribute1 … CustomAttribute15. */
  customAttributes: Record<string, string>;
  /** false: a user mailbox without an Exchange Online license (Graph: MailboxNotEnabledForRESTAPI). */
  exchangeLicensed: boolean;
}

/** A tenant's Exchange RBAC for Applications configuration. */
export interface ExchangeAppRbac {
  scopes: Map<string, ManagementScope>;
  assignments: AppRoleAssignment[];
  recipients: Map<string, RecipientProperties>;
}

export interface Attachment {
  id: string;
  name: string;
  contentType: string;
  isInline: boolean;
  contentId?: string;
  content: Buffer;
  lastModifiedMs: number;
}

export interface Message {
  /** Stays the same across moves (`Prefer: IdType="ImmutableId"`). */
  immutableId: string;
  /** The default REST id; changes when the message is moved. */
  restId: string;
  folderId: string;
  /** The mailbox change sequence number of the last change (drives delta). */
  changeSeq: number;
  changeKey: string;
  createdMs: number;
  lastModifiedMs: number;
  receivedMs: number;
  sentMs: number;
  subject: string;
  body: ItemBody;
  from?: Recipient;
  sender?: Recipient;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  replyTo: Recipient[];
  isRead: boolean;
  isDraft: boolean;
  importance: 'low' | 'normal' | 'high';
  categories: string[];
  flagStatus: 'notFlagged' | 'flagged' | 'complete';
  internetMessageId: string;
  conversationId: string;
  conversationIndex: Buffer;
  /** Transport headers as received, plus custom `x-` headers given at creation. */
  internetMessageHeaders: InternetMessageHeader[];
  attachments: Attachment[];
  /** For drafts made by createReply/createReplyAll: the message replied to. */
  replyToMessageImmutableId?: string;
}

/** A message leaving a folder, kept so delta can report `@removed`. */
export interface Tombstone {
  immutableId: string;
  restId: string;
  seq: number;
}

export interface MailFolder {
  id: string;
  displayName: string;
  parentFolderId: string;
  wellKnownName?: string;
  tombstones: Tombstone[];
}

/** What a mailbox sent through Graph, for the admin API ("read what a mailbox sent"). */
export interface SentRecord {
  via: 'sendMail' | 'reply' | 'replyAll' | 'send';
  sentAt: string;
  internetMessageId: string;
  conversationId: string;
  subject: string;
  body: ItemBody;
  from: Recipient;
  /** Who sent it: the From address, or the delegate with Send on Behalf (`sender` ≠ `from`). */
  sender: Recipient;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  internetMessageHeaders: InternetMessageHeader[];
  inReplyTo?: string;
  attachments: { name: string; contentType: string; size: number }[];
  savedToSentItems: boolean;
  /** The client id that sent it. */
  appId: string;
}

/** `mailboxSettings.userPurpose` of the kinds the sandbox models (Exchange's RecipientTypeDetails UserMailbox / SharedMailbox). */
export type MailboxPurpose = 'user' | 'shared';

/**
 * Mailbox permissions of other users (trustees, by user id): Full Access (`Add-MailboxPermission -AccessRights
 * FullAccess`), Send As (`Add-RecipientPermission -AccessRights SendAs`), Send on Behalf
 * (`Set-Mailbox -GrantSendOnBehalfTo`).
 */
export interface MailboxPermissions {
  fullAccess: Set<string>;
  sendAs: Set<string>;
  sendOnBehalf: Set<string>;
}

/** A user with an Exchange Online mailbox, or a shared mailbox (whose account cannot sign in). */
export interface Mailbox {
  id: string;
  tenantId: string;
  userPrincipalName: string;
  mail: string;
  displayName: string;
  userPurpose: MailboxPurpose;
  permissions: MailboxPermissions;
  /** false: the user has no mailbox (Graph answers MailboxNotEnabledForRESTAPI). */
  mailboxEnabled: boolean;
  /** The user's password for the sign-in page; unset: the account picker signs the user in without one. */
  password?: string;
  /** Exchange MaxSendSize: larger messages fail to send with ErrorMessageSizeExceeded. Unset: 35 MB. */
  maxSendSizeBytes?: number;
  folders: Map<string, MailFolder>;
  wellKnownFolders: Map<string, string>;
  messages: Map<string, Message>;
  restIdIndex: Map<string, string>;
  seq: number;
  /** Incremented once per delta round: the generation a delta token carries. */
  syncGeneration: number;
  /** Tokens of an earlier generation answer SyncStateNotFound (evicted sync state). */
  syncGenerationFloor: number;
  sent: SentRecord[];
}

export interface ThrottlingSettings {
  /** Outlook: 4 concurrent requests per app and mailbox. */
  maxConcurrentRequests: number;
  /** Outlook: 10,000 requests per app and mailbox in 10 minutes. */
  requestsPerWindow: number;
  windowSeconds: number;
  /** Retry-After sent with a concurrency 429. */
  concurrencyRetryAfterSeconds: number;
}

export interface AuthCodeGrant {
  code: string;
  tenantId: string;
  clientId: string;
  userId: string;
  redirectUri: string;
  scopes: string[];
  codeChallenge?: string;
  codeChallengeMethod?: string;
  nonce?: string;
  expiresMs: number;
  redeemed: boolean;
  /** Issued to a SPA redirect URI: redeemed only cross-origin, with PKCE S256. */
  spa: boolean;
}

export interface DeviceCodeGrant {
  deviceCode: string;
  /** The tenant of the authority; undefined for `common`/`organizations` until a user approves. */
  tenantId?: string;
  userCode: string;
  clientId: string;
  scopes: string[];
  expiresMs: number;
  /** Set when a user approves the code. */
  userId?: string;
  declined?: boolean;
}

export interface RefreshTokenGrant {
  token: string;
  tenantId: string;
  clientId: string;
  userId: string;
  scopes: string[];
  /** Entra's 90-day inactivity window (24 hours from sign-in for SPAs), shortened in tests. */
  expiresMs: number;
  revoked: boolean;
  /** Issued to a SPA: redeemed only cross-origin; refreshing keeps the first token's expiry. */
  spa: boolean;
}

export interface TenantStats {
  tokenRequests: number;
  tokenRequestsByGrant: Record<string, number>;
  tokenRequestsByClient: Record<string, number>;
  tokensIssued: number;
  graphRequests: number;
  graphRequestsByEndpoint: Record<string, number>;
  throttled: number;
}

export interface Tenant {
  id: string;
  displayName: string;
  /** Verified domains; the first is the default (`contoso.example`). */
  domains: string[];
  apps: Map<string, AppRegistration>;
  mailboxes: Map<string, Mailbox>;
  /** Mail-enabled security groups: address (lowercase) → member user ids. */
  groups: Map<string, Set<string>>;
  accessPolicies: AccessPolicy[];
  /** RBAC for Applications: management scopes, the apps' role assignments, recipient properties. */
  exchangeAppRbac: ExchangeAppRbac;
  throttling: ThrottlingSettings;
  stats: TenantStats;
}
