import { ConfidentialClientApplication, PublicClientApplication } from '@azure/msal-node';
import { Client, type ClientOptions } from '@microsoft/microsoft-graph-client';
import { randomBytes } from 'node:crypto';
import type { AppView, CreatedSecret } from '../admin/admin-client';
import type { CreateAppRequest } from '../admin/admin-schemas';
import { createGraphSandbox, type GraphSandbox, type GraphSandboxEndpoints, type GraphSandboxOptions } from '../server';

/** Scope of every app-only Graph token request. */
export const graphDefaultScope = 'https://graph.microsoft.com/.default';

/** A started in-process sandbox whose CA this process trusts (the in-process stand-in for NODE_EXTRA_CA_CERTS). */
export async function startTestSandbox(
  options: GraphSandboxOptions = {},
): Promise<{ sandbox: GraphSandbox; endpoints: GraphSandboxEndpoints }> {
  const sandbox = createGraphSandbox({ trustCaInProcess: true, ...options });
  return { sandbox, endpoints: await sandbox.start() };
}

/** A unique name part, so every test gets its own tenant and mailboxes. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

export interface TestTenant {
  tenantId: string;
  domain: string;
  app: AppView;
  secret: CreatedSecret;
  /** `support@<domain>`, created with the tenant. */
  mailbox: string;
}

/** A fresh tenant with one app (Mail.ReadWrite + Mail.Send granted by default), a secret and a mailbox. */
export async function createTestTenant(endpoints: GraphSandboxEndpoints, app: CreateAppRequest = {}): Promise<TestTenant> {
  const suffix = uniqueSuffix();
  const tenant = await endpoints.admin.createTenant({ displayName: `Test ${suffix}`, domain: `t${suffix}.example` });
  const created = await endpoints.admin.createApp(tenant.id, {
    displayName: 'mailroute test',
    applicationPermissions: ['Mail.ReadWrite', 'Mail.Send'],
    ...app,
  });
  const secret = await endpoints.admin.addSecret(tenant.id, created.clientId);
  const mailbox = `support@${tenant.domains[0]}`;
  await endpoints.admin.createMailbox(tenant.id, { userPrincipalName: mailbox, displayName: 'Support' });
  return { tenantId: tenant.id, domain: tenant.domains[0] ?? '', app: created, secret, mailbox };
}

/** A real MSAL confidential client against the sandbox authority, as mailroute's auth-broker would build it. */
export function createMsalClient(
  endpoints: GraphSandboxEndpoints,
  tenantId: string,
  clientId: string,
  credential: { clientSecret: string } | { clientCertificate: { thumbprintSha256: string; privateKey: string } },
): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: { clientId, authority: `${endpoints.baseUrl}/${tenantId}`, knownAuthorities: [endpoints.authorityHost], ...credential },
  });
}

/** A real MSAL public client (device code) against the sandbox authority. */
export function createMsalPublicClient(
  endpoints: GraphSandboxEndpoints,
  tenantId: string,
  clientId: string,
): PublicClientApplication {
  return new PublicClientApplication({
    auth: { clientId, authority: `${endpoints.baseUrl}/${tenantId}`, knownAuthorities: [endpoints.authorityHost] },
  });
}

/** A real Graph client pointed at the sandbox; `customHosts` is what makes it send the token to 127.0.0.1. */
export function createGraphClient(
  endpoints: GraphSandboxEndpoints,
  getToken: () => Promise<string>,
  options: Omit<Partial<ClientOptions>, 'authProvider'> = {},
): Client {
  return Client.init({
    baseUrl: endpoints.graphBaseUrl,
    customHosts: new Set([new URL(endpoints.baseUrl).hostname]),
    authProvider: (done) => {
      getToken().then(
        (token) => done(null, token),
        (error: unknown) => done(error, null),
      );
    },
    ...options,
  });
}

/** A Graph client authenticated by MSAL client credentials (cached by MSAL). */
export function createAppGraphClient(endpoints: GraphSandboxEndpoints, msal: ConfidentialClientApplication): Client {
  return createGraphClient(endpoints, async () => {
    const result = await msal.acquireTokenByClientCredential({ scopes: [graphDefaultScope] });
    if (!result) throw new Error('MSAL returned no token');
    return result.accessToken;
  });
}

/** `value`, or a test failure naming `what` when it is missing (instead of non-null assertions). */
export function required<T>(value: T | null | undefined, what = 'value'): T {
  if (value === null || value === undefined) throw new Error(`expected ${what} to be present`);
  return value;
}

/** The claims of a JWT (no verification: for asserting what the sandbox issued). */
export function decodeClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
}

/** Runs `action` and returns what it threw (fails when it does not throw). */
export async function caught<T = unknown>(action: () => Promise<unknown>): Promise<T> {
  try {
    await action();
  } catch (error) {
    return error as T;
  }
  throw new Error('expected the action to throw');
}
