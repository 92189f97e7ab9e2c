import { z } from 'zod';
import { graphPermissions } from '../model/sandbox-state';
import { trafficKinds } from '../traffic/traffic-generator';
import { mailboxRights } from '../model/mailbox-permissions';

const permission = z.enum(graphPermissions);
const address = z.string().regex(/^[^@\s]+@[^@\s]+$/, 'must look like user@domain');
const recipient = z.union([address, z.object({ name: z.string().optional(), address }).strict()]);
const isoDate = z.iso.datetime({ offset: true });

/** Entra takes https redirect URIs, and http only for localhost / 127.0.0.1. */
const spaRedirectUri = z
  .url()
  .refine(
    (value) => /^https:\/\//i.test(value) || /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?(\/|$)/i.test(value),
    'must be https, or http on localhost / 127.0.0.1',
  );
const appRole = z
  .object({
    value: z.string().regex(/^[A-Za-z0-9._-]{1,120}$/, 'letters, digits, dot, dash or underscore, at most 120'),
    displayName: z.string().min(1).max(120).optional(),
    description: z.string().max(1000).optional(),
    id: z.uuid().optional(),
  })
  .strict();

export const createTenantSchema = z
  .object({ id: z.uuid().optional(), displayName: z.string().min(1).optional(), domain: z.string().min(3).optional() })
  .strict();

export const createAppSchema = z
  .object({
    clientId: z.uuid().optional(),
    displayName: z.string().min(1).optional(),
    applicationPermissions: z.array(permission).optional(),
    delegatedPermissions: z.array(permission).optional(),
    grantAdminConsent: z.boolean().optional(),
    redirectUris: z.array(z.url()).optional(),
    /** Redirect URIs of the "Single-page application" platform (auth code + PKCE, CORS on the token endpoint). */
    spaRedirectUris: z.array(spaRedirectUri).optional(),
    appRoles: z.array(appRole).optional(),
    /** Scopes the app exposes as an API: `api://<clientId>/<scope>` (Expose an API). */
    apiScopes: z.array(z.string().regex(/^[A-Za-z0-9._-]{1,120}$/, 'letters, digits, dot, dash or underscore')).optional(),
    allowPublicClient: z.boolean().optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

export const updateAppSchema = z
  .object({
    enabled: z.boolean().optional(),
    allowPublicClient: z.boolean().optional(),
    redirectUris: z.array(z.url()).optional(),
    spaRedirectUris: z.array(spaRedirectUri).optional(),
    displayName: z.string().min(1).optional(),
  })
  .strict();

export const roleAssignmentSchema = z.object({ roles: z.array(z.string().min(1).max(120)).max(50) }).strict();

export const createSecretSchema = z
  .object({
    displayName: z.string().optional(),
    /** End date (ISO-8601). A past date makes an already expired secret. */
    endDateTime: isoDate.optional(),
    /** Or: lifetime from now in seconds (negative = already expired). */
    expiresInSeconds: z.number().int().optional(),
    startDateTime: isoDate.optional(),
  })
  .strict();

export const addCertificateSchema = z
  .object({
    /** Public certificate (PEM) to upload. Omit to have the sandbox generate one and return its private key. */
    certificatePem: z.string().optional(),
    displayName: z.string().optional(),
    validDays: z.number().int().min(-3650).max(3650).optional(),
  })
  .strict();

export const consentSchema = z
  .object({
    applicationPermissions: z.array(permission).optional(),
    delegatedPermissions: z.array(permission).optional(),
    /** With delegatedPermissions: consent as this user (id or UPN) instead of tenant-wide admin consent. */
    user: z.string().optional(),
  })
  .strict();

export const accessPolicySchema = z
  .object({
    appId: z.uuid(),
    accessRight: z.enum(['RestrictAccess', 'DenyAccess']),
    /** The mail-enabled security group's address. */
    policyScopeGroupId: address,
    /** Sets the group's members (mailbox ids or addresses) first. */
    members: z.array(z.string()).optional(),
    description: z.string().optional(),
  })
  .strict();

export const groupSchema = z.object({ members: z.array(z.string()) }).strict();

export const createMailboxSchema = z
  .object({
    userPrincipalName: address,
    displayName: z.string().optional(),
    id: z.uuid().optional(),
    mailboxEnabled: z.boolean().optional(),
    maxSendSizeBytes: z.number().int().positive().optional(),
    /** The user's password on the sandbox's sign-in page (unset: the account picker signs in without one). */
    password: z.string().min(1).max(256).optional(),
    /** `shared` for a shared mailbox (mailboxSettings.userPurpose); `user` by default. */
    userPurpose: z.enum(['user', 'shared']).optional(),
  })
  .strict();

/** Grants or removes mailbox permissions of a user (Add-MailboxPermission, Add-RecipientPermission, GrantSendOnBehalfTo). */
export const mailboxPermissionSchema = z
  .object({
    user: z.string().min(1).max(320),
    accessRights: z.array(z.enum(mailboxRights)).min(1),
  })
  .strict();

export const inboundMailSchema = z
  .object({
    from: recipient,
    to: z.array(recipient).optional(),
    cc: z.array(recipient).optional(),
    replyTo: z.array(recipient).optional(),
    subject: z.string(),
    body: z.string().default(''),
    bodyType: z.enum(['text', 'html']).default('text'),
    /** Extra transport headers; any names (inbound mail is not limited to x- headers). */
    headers: z
      .union([z.record(z.string(), z.string()), z.array(z.object({ name: z.string(), value: z.string() }).strict())])
      .optional(),
    attachments: z
      .array(
        z
          .object({
            name: z.string(),
            contentType: z.string().default('application/octet-stream'),
            contentBase64: z.string(),
            isInline: z.boolean().optional(),
            contentId: z.string().optional(),
          })
          .strict(),
      )
      .optional(),
    internetMessageId: z
      .string()
      .regex(/^<[^<>\s]+@[^<>\s]+>$/, 'must look like <id@domain>')
      .optional(),
    /** The Message-ID this replies to: threads into that conversation. */
    inReplyTo: z.string().optional(),
    references: z.array(z.string()).optional(),
    receivedDateTime: isoDate.optional(),
    importance: z.enum(['low', 'normal', 'high']).optional(),
    /** Folder id or well-known name (inbox by default). */
    folder: z.string().optional(),
  })
  .strict();

export const bulkMailSchema = z.object({ messages: z.array(inboundMailSchema).min(1).max(10_000) }).strict();

export const trafficSchema = z
  .object({
    count: z.number().int().min(1).max(10_000),
    seed: z.number().int().optional(),
    mix: z.partialRecord(z.enum(trafficKinds), z.number().min(0)).optional(),
    largeAttachmentBytes: z
      .number()
      .int()
      .min(4)
      .max(3 * 1024 * 1024)
      .optional(),
  })
  .strict();

export const throttlingSchema = z
  .object({
    maxConcurrentRequests: z.number().int().min(1).max(1000).optional(),
    requestsPerWindow: z.number().int().min(1).optional(),
    windowSeconds: z.number().int().min(1).max(86_400).optional(),
    concurrencyRetryAfterSeconds: z.number().int().min(0).max(3600).optional(),
  })
  .strict();

export const deviceApprovalSchema = z
  .object({ userCode: z.string().min(1), user: z.string().min(1), decline: z.boolean().optional() })
  .strict();

export type CreateTenantRequest = z.input<typeof createTenantSchema>;
export type CreateAppRequest = z.input<typeof createAppSchema>;
export type UpdateAppRequest = z.input<typeof updateAppSchema>;
export type RoleAssignmentRequest = z.input<typeof roleAssignmentSchema>;
export type CreateSecretRequest = z.input<typeof createSecretSchema>;
export type AddCertificateRequest = z.input<typeof addCertificateSchema>;
export type ConsentRequest = z.input<typeof consentSchema>;
export type AccessPolicyRequest = z.input<typeof accessPolicySchema>;
export type CreateMailboxRequest = z.input<typeof createMailboxSchema>;
export type MailboxPermissionRequest = z.input<typeof mailboxPermissionSchema>;
export type InboundMailRequest = z.input<typeof inboundMailSchema>;
export type TrafficRequest = z.input<typeof trafficSchema>;
export type ThrottlingRequest = z.input<typeof throttlingSchema>;
