import { deliverInbound } from '../model/mail-delivery';
import type { SandboxState } from '../model/sandbox-state';
import { generateTraffic } from '../traffic/traffic-generator';

/**
 * The demo tenant's fixed identifiers, so the embedded default can be configured before the sandbox
 * starts. The secret is public on purpose: this tenant exists only inside a local sandbox.
 */
export const demoProfile = {
  tenantId: '7d3b6e2a-5c4f-4e8b-9a1d-7f2c3b4a5d6e',
  domain: 'contoso-demo.example',
  clientId: '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
  clientSecret: 'demo8Q~graph-sandbox-secret-never-use-in-production',
  /**
   * "mailroute desktop": the app agents and supervisors sign in to — a public client (device code, for
   * the CLI and the demo's simulated agents) and a single-page app (the web console, auth code + PKCE),
   * with the app roles `Supervisor` and `Agent`. Its client id is the audience the router accepts.
   */
  desktopClientId: '3c9a1e4b-8d2f-4a6e-b5c7-1f0e9d8c7b6a',
  /** The console's SPA redirect URI by default (the all-in-one host serves the console there). */
  consoleRedirectUri: 'http://127.0.0.1:8080/',
  /** App role values of the desktop app. */
  roles: { supervisor: 'Supervisor', agent: 'Agent' },
  routedMailboxes: ['support@contoso-demo.example', 'sales@contoso-demo.example', 'billing@contoso-demo.example'],
  /** The demo's simulated agents (mailroute agents; they sign in with the device-code flow). */
  agents: ['alice@contoso-demo.example', 'bob@contoso-demo.example'],
  routedGroup: 'mailroute-routed@contoso-demo.example',
  /** The password of every demo user on the sandbox's sign-in page. Public on purpose, like the secret. */
  password: 'mailroute-demo',
  /** People who sign in to the web console. */
  consoleUsers: {
    /** A mailroute agent of the demo tenant not driven by the simulation (role Agent). */
    agent: 'carol@contoso-demo.example',
    /** Holds the Supervisor app role: the workload-manager API of the demo tenant. */
    supervisor: 'sam@contoso-demo.example',
    /** Signs in, but holds no app role and is no agent: the console says "not allowed". */
    noRole: 'erin@contoso-demo.example',
  },
  /** A second tenant (with the same multi-tenant desktop app) for isolation tests. */
  otherTenant: {
    tenantId: '2b8e4f1a-6c3d-4e5f-9a7b-0c1d2e3f4a5b',
    domain: 'fabrikam-demo.example',
    /** Holds Agent and Supervisor in Fabrikam. */
    user: 'frank@fabrikam-demo.example',
    mailbox: 'support@fabrikam-demo.example',
  },
} as const;

/** One person of the demo, as the all-in-one host prints them for signing in to the console. */
export interface DemoUser {
  userPrincipalName: string;
  displayName: string;
  password: string;
  /** App roles on the desktop app. */
  roles: string[];
  /** Their sandbox tenant (Entra directory) id. */
  tenantId: string;
  /** What they are for, in a few words. */
  description: string;
}

/** Everyone who can sign in on the demo's sign-in page, with the password and roles (the host prints these). */
function demoUsers(): DemoUser[] {
  const { roles, password, consoleUsers, otherTenant, tenantId } = demoProfile;
  const user = (upn: string, displayName: string, userRoles: string[], description: string, tenant: string = tenantId) => ({
    userPrincipalName: upn,
    displayName,
    password,
    roles: userRoles,
    tenantId: tenant,
    description,
  });
  return [
    user(consoleUsers.agent, 'Carol Agent', [roles.agent], 'agent (not simulated)'),
    user(consoleUsers.supervisor, 'Sam Supervisor', [roles.supervisor], 'supervisor of the demo tenant'),
    user(consoleUsers.noRole, 'Erin Example', [], 'no role: not allowed in the console'),
    user('alice@contoso-demo.example', 'Alice Agent', [roles.agent], 'agent (simulated with --demo)'),
    user('bob@contoso-demo.example', 'Bob Agent', [roles.agent], 'agent (simulated with --demo)'),
    user(
      otherTenant.user,
      'Frank Fabrikam',
      [roles.agent, roles.supervisor],
      'agent and supervisor of the other tenant',
      otherTenant.tenantId,
    ),
  ];
}

/** Options of the demo profile. */
export interface DemoProfileOptions {
  /** SPA redirect URIs of the desktop app (the console's URL). Default [`demoProfile.consoleRedirectUri`]. */
  consoleRedirectUris?: readonly string[];
}

/** What seeding created, for logs and the admin API. */
export interface DemoSummary {
  tenantId: string;
  authority: string;
  graphBaseUrl: string;
  clientId: string;
  clientSecret: string;
  desktopClientId: string;
  consoleRedirectUris: string[];
  mailboxes: string[];
  agents: string[];
  /** Who can sign in to the console, with the password. */
  users: DemoUser[];
  messages: number;
}

/**
 * Seeds the demo tenant like the admin guides set up a customer: shared routed mailboxes, one app
 * registration with Mail.ReadWrite, Mail.Send, User.Read.All and MailboxSettings.Read granted, a client secret, an application access policy restricting the app
 * to the routed mailboxes, agent accounts for "Sign in with Microsoft", and some realistic inbound mail.
 * Idempotent: a second call returns the existing tenant's summary.
 */
export function seedDemoProfile(
  state: SandboxState,
  now: number,
  baseUrl: string,
  options: DemoProfileOptions = {},
): DemoSummary {
  const consoleRedirectUris = [...(options.consoleRedirectUris ?? [demoProfile.consoleRedirectUri])];
  const summary = (messages: number): DemoSummary => ({
    tenantId: demoProfile.tenantId,
    authority: `${baseUrl}/${demoProfile.tenantId}`,
    graphBaseUrl: `${baseUrl}/`,
    clientId: demoProfile.clientId,
    clientSecret: demoProfile.clientSecret,
    desktopClientId: demoProfile.desktopClientId,
    consoleRedirectUris,
    mailboxes: [...demoProfile.routedMailboxes],
    agents: [...demoProfile.agents],
    users: demoUsers(),
    messages,
  });
  if (state.tenants.has(demoProfile.tenantId)) return summary(0);
  const tenant = state.createTenant({ id: demoProfile.tenantId, displayName: 'Contoso (demo)', domain: demoProfile.domain });
  state.createApp(tenant.id, {
    clientId: demoProfile.clientId,
    displayName: 'mailroute (demo)',
    applicationPermissions: ['Mail.ReadWrite', 'Mail.Send', 'User.Read.All', 'MailboxSettings.Read'],
    delegatedPermissions: ['User.Read', 'Mail.ReadWrite', 'Mail.Send', 'Mail.ReadWrite.Shared', 'Mail.Send.Shared'],
    redirectUris: ['http://localhost:3000/auth/callback'],
  });
  const desktopApp = {
    clientId: demoProfile.desktopClientId,
    displayName: 'mailroute desktop (demo)',
    delegatedPermissions: ['User.Read'],
    allowPublicClient: true,
    spaRedirectUris: consoleRedirectUris,
    // Expose an API: access tokens for api://<desktop client id>/access_as_user carry the same roles.
    apiScopes: ['access_as_user'],
    appRoles: [
      { value: demoProfile.roles.supervisor, displayName: 'Supervisor', description: 'Workload-manager API of the own tenant' },
      { value: demoProfile.roles.agent, displayName: 'Agent', description: 'Agent desktop' },
    ],
  };
  state.createApp(tenant.id, desktopApp);
  state.addSecret(tenant.id, demoProfile.clientId, {
    displayName: 'demo',
    secretText: demoProfile.clientSecret,
    endMs: now + 2 * 365 * 86_400_000,
  });
  const names: Record<string, string> = { support: 'Contoso Support', sales: 'Contoso Sales', billing: 'Contoso Billing' };
  for (const address of demoProfile.routedMailboxes) {
    // Contact centers route shared mailboxes (support@, billing@): so does the demo.
    state.createMailbox(tenant.id, {
      userPrincipalName: address,
      displayName: names[address.split('@')[0] ?? ''] ?? address,
      userPurpose: 'shared',
    });
  }
  const other = state.createTenant({
    id: demoProfile.otherTenant.tenantId,
    displayName: 'Fabrikam (demo)',
    domain: demoProfile.otherTenant.domain,
  });
  // The desktop app is multi-tenant: the same client id has a service principal (with its roles) in Fabrikam.
  state.createApp(other.id, desktopApp);
  state.createMailbox(other.id, { userPrincipalName: demoProfile.otherTenant.mailbox, displayName: 'Fabrikam Support' });
  for (const user of demoUsers()) {
    state.createMailbox(user.tenantId, {
      userPrincipalName: user.userPrincipalName,
      displayName: user.displayName,
      password: user.password,
    });
    state.setRoleAssignments(user.tenantId, demoProfile.desktopClientId, user.userPrincipalName, user.roles);
  }
  state.createAccessPolicy(tenant.id, {
    appId: demoProfile.clientId,
    accessRight: 'RestrictAccess',
    policyScopeGroupId: demoProfile.routedGroup,
    members: [...demoProfile.routedMailboxes],
    description: 'Restrict mailroute to the routed mailboxes',
  });
  let messages = 0;
  for (const [index, address] of demoProfile.routedMailboxes.entries()) {
    const mailbox = state.getMailbox(tenant.id, address);
    for (const { kind: _kind, ...mail } of generateTraffic({
      count: [12, 5, 3][index] ?? 3,
      seed: 42 + index,
      mailboxAddress: address,
      now,
      mix: { large: 0 },
    })) {
      deliverInbound(mailbox, mail, now);
      messages += 1;
    }
  }
  return summary(messages);
}
