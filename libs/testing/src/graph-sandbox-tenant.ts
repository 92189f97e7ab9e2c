import { ConfidentialClientApplication } from '@azure/msal-node';
import {
  createGraphSandbox,
  type GraphSandboxAdminClient,
  type GraphSandbox,
  type GraphSandboxEndpoints,
  type GraphSandboxOptions,
} from '@mailroute/graph-sandbox';
import { randomBytes } from 'node:crypto';

/** A started in-process graph sandbox whose CA this process trusts. Stop it with `sandbox.stop()`. */
export async function startTestGraphSandbox(
  options: GraphSandboxOptions = {},
): Promise<{ sandbox: GraphSandbox; endpoints: GraphSandboxEndpoints }> {
  const sandbox = createGraphSandbox({ trustCaInProcess: true, ...options });
  return { sandbox, endpoints: await sandbox.start() };
}

/** A sandbox tenant with one app (Mail.ReadWrite, Mail.Send, User.Read.All), a secret and mailboxes. */
export interface SandboxMailTenant {
  /** Directory (tenant) id in the sandbox. */
  directoryId: string;
  domain: string;
  clientId: string;
  clientSecret: string;
  /** Addresses of the created mailboxes, `box0@<domain>`, `box1@<domain>`, … */
  mailboxes: string[];
}

/** Creates a fresh sandbox tenant with `mailboxCount` mailboxes named `box<i>@<domain>`. */
export async function createSandboxMailTenant(
  endpoints: GraphSandboxEndpoints,
  options: {
    mailboxCount?: number;
    applicationPermissions?: NonNullable<Parameters<GraphSandboxAdminClient['createApp']>[1]>['applicationPermissions'];
  } = {},
): Promise<SandboxMailTenant> {
  const suffix = randomBytes(4).toString('hex');
  const tenant = await endpoints.admin.createTenant({ displayName: `Test ${suffix}`, domain: `t${suffix}.example` });
  const app = await endpoints.admin.createApp(tenant.id, {
    displayName: 'mailroute test',
    applicationPermissions: options.applicationPermissions ?? ['Mail.ReadWrite', 'Mail.Send', 'User.Read.All'],
  });
  const secret = await endpoints.admin.addSecret(tenant.id, app.clientId);
  const domain = tenant.domains[0] ?? '';
  const mailboxes: string[] = [];
  for (let i = 0; i < (options.mailboxCount ?? 1); i += 1) {
    const address = `box${i}@${domain}`;
    await endpoints.admin.createMailbox(tenant.id, { userPrincipalName: address, displayName: `Box ${i}` });
    mailboxes.push(address);
  }
  return { directoryId: tenant.id, domain, clientId: app.clientId, clientSecret: secret.secretText, mailboxes };
}

/**
 * A token provider shaped like graph-mail's GraphTokenProvider, backed by real MSAL client
 * credentials against the sandbox: mailroute tenant id → sandbox tenant. Stands in for
 * auth-broker in tests that are not about auth-broker.
 */
export function createSandboxTokenProvider(
  endpoints: GraphSandboxEndpoints,
  tenants: ReadonlyMap<string, SandboxMailTenant> | Map<string, SandboxMailTenant>,
) {
  const clients = new Map<string, ConfidentialClientApplication>();
  const clientFor = (tenantId: string): { msal: ConfidentialClientApplication } => {
    const tenant = tenants.get(tenantId);
    if (!tenant) throw Object.assign(new Error(`no sandbox tenant for mailroute tenant ${tenantId}`), { retryable: false });
    let msal = clients.get(tenantId);
    if (!msal) {
      msal = new ConfidentialClientApplication({
        auth: {
          clientId: tenant.clientId,
          clientSecret: tenant.clientSecret,
          authority: `${endpoints.baseUrl}/${tenant.directoryId}`,
          knownAuthorities: [endpoints.authorityHost],
        },
      });
      clients.set(tenantId, msal);
    }
    return { msal };
  };
  return {
    calls: 0,
    async getToken(
      tenantId: string,
      _principal: unknown,
      options: { forceRefresh: boolean },
    ): Promise<{ accessToken: string; graphEndpoint: string }> {
      this.calls += 1;
      const { msal } = clientFor(tenantId);
      const result = await msal.acquireTokenByClientCredential({
        scopes: ['https://graph.microsoft.com/.default'],
        skipCache: options.forceRefresh,
      });
      if (!result) throw new Error('MSAL returned no token');
      return { accessToken: result.accessToken, graphEndpoint: endpoints.baseUrl };
    },
  };
}
