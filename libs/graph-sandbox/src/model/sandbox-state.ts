import { X509Certificate } from 'node:crypto';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../errors';
import type { Clock } from '../shared/clock';
import { isGuid, newGuid, newOpaque } from '../shared/ids';
import { checkPermissions, newAppRegistration, type CreateAppInput } from './app-registration';
import { createMailbox } from './mailbox.store';
import type {
  AccessPolicy,
  AppRegistration,
  ClientSecret,
  CertificateCredential,
  Mailbox,
  MailboxPurpose,
  Tenant,
  ThrottlingSettings,
} from './model.types';

export { graphPermissions, type CreateAppInput } from './app-registration';

/** OpenID Connect scopes, always allowed on delegated requests, never in `scp`. */
export const oidcScopes = new Set(['openid', 'profile', 'email', 'offline_access']);

/** Outlook's documented per app-and-mailbox limits. */
export const defaultThrottling: ThrottlingSettings = {
  maxConcurrentRequests: 4,
  requestsPerWindow: 10_000,
  windowSeconds: 600,
  concurrencyRetryAfterSeconds: 1,
};

export interface CreateTenantInput {
  id?: string;
  displayName?: string;
  /** Default domain; `<slug>.example` when omitted. */
  domain?: string;
}

function slug(value: string): string {
  return (
    value
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'tenant'
  );
}

/** The in-memory directory and mailbox store of every emulated tenant. */
export interface SandboxState {
  readonly tenants: ReadonlyMap<string, Tenant>;
  /** A tenant by id or verified domain (case-insensitive), as the authority's tenant segment names it. */
  resolveTenant(segment: string): Tenant | undefined;
  getTenant(tenantId: string): Tenant;
  createTenant(input: CreateTenantInput): Tenant;
  deleteTenant(tenantId: string): void;
  createApp(tenantId: string, input: CreateAppInput): AppRegistration;
  getApp(tenantId: string, clientId: string): AppRegistration;
  addSecret(
    tenantId: string,
    clientId: string,
    input: { displayName?: string; endMs?: number; startMs?: number; secretText?: string },
  ): ClientSecret;
  addCertificate(
    tenantId: string,
    clientId: string,
    input: { certificatePem: string; displayName?: string },
  ): CertificateCredential;
  setApplicationConsent(tenantId: string, clientId: string, permissions: string[]): AppRegistration;
  setDelegatedConsent(tenantId: string, clientId: string, permissions: string[], userId?: string): AppRegistration;
  /** Replaces a user's app-role assignments on an app (role values the app defines). */
  setRoleAssignments(tenantId: string, clientId: string, user: string, roles: string[]): AppRegistration;
  createMailbox(
    tenantId: string,
    input: {
      userPrincipalName: string;
      displayName?: string;
      id?: string;
      mailboxEnabled?: boolean;
      maxSendSizeBytes?: number;
      password?: string;
      /** `shared`: a shared mailbox (its account is disabled: nobody signs in as it). Default `user`. */
      userPurpose?: MailboxPurpose;
    },
  ): Mailbox;
  /** True when `domain` is an accepted domain of a sandbox tenant (the sandbox is authoritative for it). */
  ownsDomain(domain: string): boolean;
  /** A mailbox by id, UPN or primary address (case-insensitive). */
  findMailbox(tenant: Tenant, idOrAddress: string): Mailbox | undefined;
  getMailbox(tenantId: string, idOrAddress: string): Mailbox;
  /** A mailbox in any tenant by address: where mail sent through Graph is delivered inside the sandbox. */
  findMailboxByAddress(address: string): Mailbox | undefined;
  setGroupMembers(tenantId: string, groupAddress: string, members: string[]): void;
  createAccessPolicy(
    tenantId: string,
    input: Omit<AccessPolicy, 'id' | 'description'> & { description?: string; members?: string[] },
  ): AccessPolicy;
  removeAccessPolicy(tenantId: string, policyId: string): void;
  setThrottling(tenantId: string, settings: Partial<ThrottlingSettings>): ThrottlingSettings;
  /** Forgets every tenant. */
  reset(): void;
}

/** Creates the empty state. Nothing here does I/O; time comes from `clock`. */
export function createSandboxState(options: { clock: Clock; throttling?: Partial<ThrottlingSettings> }): SandboxState {
  const { clock } = options;
  const tenants = new Map<string, Tenant>();
  const domainIndex = new Map<string, string>();
  const addressIndex = new Map<string, Mailbox>();

  const getTenant = (tenantId: string): Tenant => {
    const tenant = tenants.get(tenantId);
    if (!tenant) throw new NotFoundError('tenant', tenantId);
    return tenant;
  };

  const getApp = (tenantId: string, clientId: string): AppRegistration => {
    const app = getTenant(tenantId).apps.get(clientId);
    if (!app) throw new NotFoundError('app', clientId);
    return app;
  };

  const findMailbox = (tenant: Tenant, idOrAddress: string): Mailbox | undefined => {
    const byId = tenant.mailboxes.get(idOrAddress);
    if (byId) return byId;
    const byAddress = addressIndex.get(idOrAddress.toLowerCase());
    return byAddress && byAddress.tenantId === tenant.id ? byAddress : undefined;
  };

  const state: SandboxState = {
    tenants,
    resolveTenant(segment) {
      const lowered = segment.toLowerCase();
      return tenants.get(lowered) ?? tenants.get(domainIndex.get(lowered) ?? '');
    },
    getTenant,
    createTenant(input) {
      const id = (input.id ?? newGuid()).toLowerCase();
      if (!isGuid(id)) throw new ValidationError('id', 'a tenant id must be a GUID');
      if (tenants.has(id)) throw new AlreadyExistsError('tenant', id);
      const displayName = input.displayName ?? `Sandbox tenant ${id.slice(0, 8)}`;
      const domain = (input.domain ?? `${slug(displayName)}-${id.slice(0, 8)}.example`).toLowerCase();
      if (domainIndex.has(domain)) throw new AlreadyExistsError('domain', domain);
      const tenant: Tenant = {
        id,
        displayName,
        domains: [domain],
        apps: new Map(),
        mailboxes: new Map(),
        groups: new Map(),
        accessPolicies: [],
        exchangeAppRbac: { scopes: new Map(), assignments: [], recipients: new Map() },
        throttling: { ...defaultThrottling, ...options.throttling },
        stats: {
          tokenRequests: 0,
          tokenRequestsByGrant: {},
          tokenRequestsByClient: {},
          tokensIssued: 0,
          graphRequests: 0,
          graphRequestsByEndpoint: {},
          throttled: 0,
        },
      };
      tenants.set(id, tenant);
      domainIndex.set(domain, id);
      return tenant;
    },
    deleteTenant(tenantId) {
      const tenant = getTenant(tenantId);
      for (const domain of tenant.domains) domainIndex.delete(domain);
      for (const mailbox of tenant.mailboxes.values()) {
        addressIndex.delete(mailbox.userPrincipalName.toLowerCase());
        addressIndex.delete(mailbox.mail.toLowerCase());
      }
      tenants.delete(tenantId);
    },
    createApp(tenantId, input) {
      const tenant = getTenant(tenantId);
      const clientId = (input.clientId ?? newGuid()).toLowerCase();
      if (!isGuid(clientId)) throw new ValidationError('clientId', 'an application (client) id must be a GUID');
      if (tenant.apps.has(clientId)) throw new AlreadyExistsError('app', clientId);
      const app = newAppRegistration(clientId, input);
      tenant.apps.set(clientId, app);
      return app;
    },
    getApp,
    addSecret(tenantId, clientId, input) {
      const app = getApp(tenantId, clientId);
      const now = clock();
      // Entra secret values are 40 characters and contain a `~`; the first three characters are the "hint".
      const secretText = input.secretText ?? `${newOpaque(6).slice(0, 3)}8Q~${newOpaque(27).slice(0, 34)}`;
      const secret: ClientSecret = {
        keyId: newGuid(),
        displayName: input.displayName ?? 'sandbox secret',
        secretText,
        hint: secretText.slice(0, 3),
        startMs: input.startMs ?? now,
        endMs: input.endMs ?? now + 180 * 86_400_000,
      };
      app.secrets.push(secret);
      return secret;
    },
    addCertificate(tenantId, clientId, input) {
      const app = getApp(tenantId, clientId);
      let certificate: X509Certificate;
      try {
        certificate = new X509Certificate(input.certificatePem);
      } catch (error) {
        throw new ValidationError('certificatePem', 'not a PEM X.509 certificate', { cause: error });
      }
      if (certificate.publicKey.asymmetricKeyType !== 'rsa')
        throw new ValidationError('certificatePem', 'Entra client certificates must have an RSA key');
      const credential: CertificateCredential = {
        keyId: newGuid(),
        displayName: input.displayName ?? certificate.subject,
        thumbprintSha256: certificate.fingerprint256.replace(/:/g, '').toLowerCase(),
        thumbprintSha1: certificate.fingerprint.replace(/:/g, '').toLowerCase(),
        publicKey: certificate.publicKey,
        startMs: Date.parse(certificate.validFrom),
        endMs: Date.parse(certificate.validTo),
      };
      app.certificates.push(credential);
      return credential;
    },
    setApplicationConsent(tenantId, clientId, permissions) {
      const app = getApp(tenantId, clientId);
      const granted = checkPermissions('applicationPermissions', permissions);
      for (const permission of granted) app.configuredApplicationPermissions.add(permission);
      app.grantedApplicationPermissions = new Set(granted);
      return app;
    },
    setDelegatedConsent(tenantId, clientId, permissions, userId) {
      const app = getApp(tenantId, clientId);
      const granted = checkPermissions('delegatedPermissions', permissions);
      for (const permission of granted) app.configuredDelegatedPermissions.add(permission);
      if (userId) app.userConsents.set(userId, new Set(granted));
      else app.adminConsentedDelegatedPermissions = new Set(granted);
      return app;
    },
    setRoleAssignments(tenantId, clientId, user, roles) {
      const app = getApp(tenantId, clientId);
      const mailbox = findMailbox(getTenant(tenantId), user);
      if (!mailbox) throw new ValidationError('user', `no user ${JSON.stringify(user)} in this tenant`);
      const defined = new Set(app.appRoles.map((role) => role.value));
      roles.forEach((role, index) => {
        if (!defined.has(role)) throw new ValidationError(`roles[${index}]`, `the app defines no role ${JSON.stringify(role)}`);
      });
      if (roles.length === 0) app.roleAssignments.delete(mailbox.id);
      else app.roleAssignments.set(mailbox.id, new Set(roles));
      return app;
    },
    createMailbox(tenantId, input) {
      const tenant = getTenant(tenantId);
      const upn = input.userPrincipalName.trim();
      if (!/^[^@\s]+@[^@\s]+$/.test(upn)) throw new ValidationError('userPrincipalName', 'must look like user@domain');
      if (addressIndex.has(upn.toLowerCase())) throw new AlreadyExistsError('mailbox', upn);
      const id = (input.id ?? newGuid()).toLowerCase();
      if (!isGuid(id)) throw new ValidationError('id', 'a user id must be a GUID');
      const mailbox = createMailbox({
        id,
        tenantId,
        userPrincipalName: upn,
        displayName: input.displayName ?? upn.split('@')[0] ?? upn,
        ...(input.mailboxEnabled === undefined ? {} : { mailboxEnabled: input.mailboxEnabled }),
        ...(input.userPurpose ? { userPurpose: input.userPurpose } : {}),
      });
      if (input.maxSendSizeBytes !== undefined) mailbox.maxSendSizeBytes = input.maxSendSizeBytes;
      if (input.password !== undefined) mailbox.password = input.password;
      tenant.mailboxes.set(id, mailbox);
      addressIndex.set(upn.toLowerCase(), mailbox);
      return mailbox;
    },
    findMailbox,
    getMailbox(tenantId, idOrAddress) {
      const mailbox = findMailbox(getTenant(tenantId), idOrAddress);
      if (!mailbox) throw new NotFoundError('mailbox', idOrAddress);
      return mailbox;
    },
    findMailboxByAddress(address) {
      return addressIndex.get(address.toLowerCase());
    },
    ownsDomain(domain) {
      return domainIndex.has(domain.toLowerCase());
    },
    setGroupMembers(tenantId, groupAddress, members) {
      const tenant = getTenant(tenantId);
      const ids = members.map((member, index) => {
        const mailbox = findMailbox(tenant, member);
        if (!mailbox) throw new ValidationError(`members[${index}]`, `no mailbox ${JSON.stringify(member)} in this tenant`);
        return mailbox.id;
      });
      tenant.groups.set(groupAddress.toLowerCase(), new Set(ids));
    },
    createAccessPolicy(tenantId, input) {
      const tenant = getTenant(tenantId);
      if (!tenant.apps.has(input.appId.toLowerCase())) throw new ValidationError('appId', `no app ${input.appId} in this tenant`);
      if (input.members) state.setGroupMembers(tenantId, input.policyScopeGroupId, input.members);
      if (!tenant.groups.has(input.policyScopeGroupId.toLowerCase())) {
        throw new ValidationError('policyScopeGroupId', 'no such mail-enabled security group (pass members to create it)');
      }
      if (tenant.accessPolicies.length >= 300)
        throw new ValidationError('appId', 'a tenant holds at most 300 application access policies');
      const policy: AccessPolicy = {
        id: `${tenant.id}\\${newGuid()}`,
        appId: input.appId.toLowerCase(),
        accessRight: input.accessRight,
        policyScopeGroupId: input.policyScopeGroupId.toLowerCase(),
        description: input.description ?? '',
      };
      tenant.accessPolicies.push(policy);
      return policy;
    },
    removeAccessPolicy(tenantId, policyId) {
      const tenant = getTenant(tenantId);
      const before = tenant.accessPolicies.length;
      tenant.accessPolicies = tenant.accessPolicies.filter((policy) => policy.id !== policyId);
      if (tenant.accessPolicies.length === before) throw new NotFoundError('access policy', policyId);
    },
    setThrottling(tenantId, settings) {
      const tenant = getTenant(tenantId);
      tenant.throttling = { ...tenant.throttling, ...settings };
      return tenant.throttling;
    },
    reset() {
      tenants.clear();
      domainIndex.clear();
      addressIndex.clear();
    },
  };
  return state;
}
