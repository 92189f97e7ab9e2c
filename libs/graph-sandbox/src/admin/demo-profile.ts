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
  /** The agent desktop's app registration: a public client (device code, no secret) agents sign in to. */
  desktopClientId: '3c9a1e4b-8d2f-4a6e-b5c7-1f0e9d8c7b6a',
  routedMailboxes: ['support@contoso-demo.example', 'sales@contoso-demo.example', 'billing@contoso-demo.example'],
  agents: ['alice@contoso-demo.example', 'bob@contoso-demo.example'],
  routedGroup: 'mailroute-routed@contoso-demo.example',
} as const;

/** What seeding created, for logs and the admin API. */
export interface DemoSummary {
  tenantId: string;
  authority: string;
  graphBaseUrl: string;
  clientId: string;
  clientSecret: string;
  desktopClientId: string;
  mailboxes: string[];
  agents: string[];
  messages: number;
}

/**
 * Seeds the demo tenant like the admin guides set up a customer: one app registration with Mail.ReadWrite,
 * Mail.Send and User.Read.All granted, a client secret, an application access policy restricting the app
 * to the routed mailboxes, agent accounts for "Sign in with Microsoft", and some realistic inbound mail.
 * Idempotent: a second call returns the existing tenant's summary.
 */
export function seedDemoProfile(state: SandboxState, now: number, baseUrl: string): DemoSummary {
  const summary = (messages: number): DemoSummary => ({
    tenantId: demoProfile.tenantId,
    authority: `${baseUrl}/${demoProfile.tenantId}`,
    graphBaseUrl: `${baseUrl}/`,
    clientId: demoProfile.clientId,
    clientSecret: demoProfile.clientSecret,
    desktopClientId: demoProfile.desktopClientId,
    mailboxes: [...demoProfile.routedMailboxes],
    agents: [...demoProfile.agents],
    messages,
  });
  if (state.tenants.has(demoProfile.tenantId)) return summary(0);
  const tenant = state.createTenant({ id: demoProfile.tenantId, displayName: 'Contoso (demo)', domain: demoProfile.domain });
  state.createApp(tenant.id, {
    clientId: demoProfile.clientId,
    displayName: 'mailroute (demo)',
    applicationPermissions: ['Mail.ReadWrite', 'Mail.Send', 'User.Read.All'],
    delegatedPermissions: ['User.Read', 'Mail.ReadWrite', 'Mail.Send'],
    redirectUris: ['http://localhost:3000/auth/callback'],
  });
  state.createApp(tenant.id, {
    clientId: demoProfile.desktopClientId,
    displayName: 'mailroute agent desktop (demo)',
    delegatedPermissions: ['User.Read'],
    allowPublicClient: true,
  });
  state.addSecret(tenant.id, demoProfile.clientId, {
    displayName: 'demo',
    secretText: demoProfile.clientSecret,
    endMs: now + 2 * 365 * 86_400_000,
  });
  const names: Record<string, string> = {
    support: 'Contoso Support',
    sales: 'Contoso Sales',
    billing: 'Contoso Billing',
    alice: 'Alice Agent',
    bob: 'Bob Agent',
  };
  for (const address of [...demoProfile.routedMailboxes, ...demoProfile.agents]) {
    state.createMailbox(tenant.id, { userPrincipalName: address, displayName: names[address.split('@')[0] ?? ''] ?? address });
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
