// What the console's browser tests run against, all real and over sockets: the graph sandbox (demo
// profile, HTTPS, the SPA sign-in page), the all-in-one host as a process configured like a real tenant
// (the sandbox stands in for Microsoft 365), the web gateway as its own process serving the built console,
// and headless Chromium trusting exactly the sandbox's certificate.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createChannel, createClient, Metadata, type Channel } from 'nice-grpc';
import { InteractionRouterServiceDefinition, InteractionState, type InteractionRouterServiceClient } from '@mailroute/contracts';
import { demoProfile, type GraphSandbox, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import {
  freePort,
  launchChromium,
  saveScreenshot,
  startServiceProcess,
  startTestGraphSandbox,
  waitFor,
  type ServiceProcess,
  type TestBrowser,
} from '@mailroute/testing';
import type { Page } from 'playwright-core';

export const support = 'support@contoso-demo.example';
const password = demoProfile.password;
export const users = {
  agent: demoProfile.consoleUsers.agent,
  supervisor: demoProfile.consoleUsers.supervisor,
  noRole: demoProfile.consoleUsers.noRole,
  /** A second agent (reassignment target); not simulated here. */
  other: 'bob@contoso-demo.example',
};

export interface ConsoleStack {
  sandbox: GraphSandbox;
  endpoints: GraphSandboxEndpoints;
  /** `http://127.0.0.1:<port>/`, the console's URL (its SPA redirect URI). */
  consoleUrl: string;
  host: ServiceProcess;
  gateway: ServiceProcess;
  browser: TestBrowser;
  /** The workload-manager API with the host's API key (what the tests check the console against). */
  admin: InteractionRouterServiceClient;
  /** Stops the gateway and starts it again on the same port (cuts every open stream). */
  restartGateway(): Promise<void>;
  stop(): Promise<void>;
}

async function waitForLine(process: ServiceProcess, prefix: string, what: string): Promise<void> {
  await waitFor(() => process.output.some((line) => line.includes(prefix)) || process.child.exitCode !== null, {
    timeoutMs: 120_000,
    description: what,
  });
  if (process.child.exitCode !== null) throw new Error(`${what}: the process exited:\n${process.output.slice(-40).join('\n')}`);
}

export async function startConsoleStack(): Promise<ConsoleStack> {
  const gatewayPort = await freePort();
  const consoleUrl = `http://127.0.0.1:${gatewayPort}/`;
  const { sandbox, endpoints } = await startTestGraphSandbox({ profile: 'demo', consoleRedirectUris: [consoleUrl] });
  const dir = mkdtempSync(path.join(tmpdir(), 'mailroute-console-'));
  const ports = {
    authBroker: await freePort(),
    mailboxFetch: await freePort(),
    interactionRouter: await freePort(),
    outboundSend: await freePort(),
  };
  const configFile = path.join(dir, 'mailroute.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      dataDir: 'data',
      // The host's own gateway on a free port; the tests use one of their own that they can restart.
      ports: { ...ports, webGateway: 0 },
      sandbox: { enabled: false },
      pollIntervalCapMs: 1000,
      agentSignIn: { authorityHost: endpoints.baseUrl, audience: demoProfile.desktopClientId },
      tenants: [
        {
          id: 'demo',
          directoryId: demoProfile.tenantId,
          clientId: demoProfile.clientId,
          clientSecretEnv: 'CONTOSO_CLIENT_SECRET',
          clientSecretExpires: new Date(Date.now() + 200 * 86_400_000).toISOString().slice(0, 10),
          authorityHost: endpoints.baseUrl,
          graphEndpoint: endpoints.baseUrl,
          queues: [{ id: 'support' }],
          mailboxes: [{ id: 'support', address: support, queue: 'support' }],
          agents: [
            { id: 'carol', upn: users.agent, queues: ['support'], capacity: 10 },
            { id: 'bob', upn: users.other, queues: ['support'], capacity: 5 },
          ],
        },
      ],
    }),
  );
  const host = startServiceProcess('apps/mailroute/src/main.ts', {
    MAILROUTE_CONFIG: configFile,
    NODE_EXTRA_CA_CERTS: endpoints.caCertPath,
    CONTOSO_CLIENT_SECRET: demoProfile.clientSecret,
  });
  await waitForLine(host, 'mailroute: ready', 'the host to be ready');
  const gatewayEnv = {
    WEB_GATEWAY_PORT: String(gatewayPort),
    WEB_GATEWAY_METRICS_PORT: '0',
    WEB_GATEWAY_ROUTER_ADDRESS: `127.0.0.1:${ports.interactionRouter}`,
    WEB_GATEWAY_MAILBOX_FETCH_ADDRESS: `127.0.0.1:${ports.mailboxFetch}`,
    WEB_GATEWAY_AUTH_BROKER_ADDRESS: `127.0.0.1:${ports.authBroker}`,
    WEB_GATEWAY_AUTHORITY: `${endpoints.baseUrl}/${demoProfile.tenantId}`,
    WEB_GATEWAY_CLIENT_ID: demoProfile.desktopClientId,
    WEB_GATEWAY_TITLE: 'Contoso support',
    LOG_LEVEL: 'warn',
  };
  const startGateway = async () => {
    const started = startServiceProcess('apps/web-gateway/src/main.ts', gatewayEnv);
    await waitFor(
      async () => {
        if (started.child.exitCode !== null) throw new Error(`the gateway exited:\n${started.output.join('\n')}`);
        return fetch(`${consoleUrl}readyz`).then(
          (response) => response.ok,
          () => false,
        );
      },
      { timeoutMs: 60_000, description: 'the gateway to be ready' },
    );
    return started;
  };
  let gateway = await startGateway();
  const apiKey = (
    JSON.parse(readFileSync(path.join(dir, 'data', 'host-secrets.json'), 'utf8')) as { apiKeys: Record<string, string> }
  ).apiKeys['demo'];
  const channel: Channel = createChannel(`127.0.0.1:${ports.interactionRouter}`);
  const admin = createClient(InteractionRouterServiceDefinition, channel, {
    '*': { metadata: Metadata({ authorization: `Bearer ${apiKey ?? ''}` }) },
  });
  await completeSeededMail(admin, endpoints);
  const browser = await launchChromium({ trustOrigins: [endpoints.baseUrl] });
  const stack: ConsoleStack = {
    sandbox,
    endpoints,
    consoleUrl,
    host,
    get gateway() {
      return gateway;
    },
    browser,
    admin,
    async restartGateway() {
      await gateway.stop('SIGKILL');
      gateway = await startGateway();
    },
    async stop() {
      await browser.close().catch(() => undefined);
      channel.close();
      await gateway.stop('SIGTERM').catch(() => undefined);
      await host.stop('SIGTERM').catch(() => undefined);
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/**
 * The demo profile seeds the support inbox with a dozen messages; once each became an interaction they are
 * completed, so the tests' offers are their own.
 */
async function completeSeededMail(admin: InteractionRouterServiceClient, endpoints: GraphSandboxEndpoints): Promise<void> {
  const seeded = (await endpoints.admin.folderMessages(demoProfile.tenantId, support, 'inbox')).value.length;
  const open = [
    InteractionState.INTERACTION_STATE_QUEUED,
    InteractionState.INTERACTION_STATE_OFFERED,
    InteractionState.INTERACTION_STATE_UNROUTED,
  ];
  const all = () =>
    admin.searchInteractions({ page: { pageSize: 200, pageToken: '' }, filter: {}, order: 0 }).then((r) => r.interactions);
  await waitFor(async () => (await all()).length >= seeded, { timeoutMs: 120_000, description: 'the seeded mail to be routed' });
  for (const interaction of await all()) {
    if (!open.includes(interaction.state)) continue;
    await admin.completeInteraction({
      interactionId: interaction.interactionId,
      dispositionCode: 'seeded',
      note: 'test setup',
      expectedVersion: 0,
    });
  }
}

/** Signs in through the sandbox's sign-in page (msal-browser: authorization code + PKCE), as a person does. */
export async function signIn(page: Page, stack: ConsoleStack, upn: string, shots?: Shots): Promise<void> {
  await page.goto(stack.consoleUrl);
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).waitFor();
  await shots?.take(page, 'signed-out');
  await page.getByRole('button', { name: 'Sign in with Microsoft' }).click();
  await page.locator('#login').waitFor();
  await shots?.take(page, 'sandbox-sign-in');
  await page.locator('#login').fill(upn);
  await page.locator('#passwd').fill(password);
  await page.locator('#signin').click();
  await page.waitForURL((url) => url.href.startsWith(stack.consoleUrl), { timeout: 60_000 });
  await page.locator('.topbar').waitFor({ timeout: 60_000 });
}

/**
 * How far the page scrolls sideways in a narrow (420 px) window: 0 when everything wraps. With `boxes` (CSS selectors),
 * the largest of the page's and those elements' sideways scroll: a table that only scrolls inside its box also counts.
 */
export async function sidewaysOverflowWhenNarrow(page: Page, ...boxes: string[]): Promise<number> {
  const wide = page.viewportSize() ?? { width: 1280, height: 800 };
  await page.setViewportSize({ width: 420, height: 860 });
  // The test's tsconfig has no DOM types: each element's two widths, typed here.
  const overflows = await page.locator(['html', ...boxes].join(', ')).evaluateAll((elements) =>
    elements.map((element) => {
      const { scrollWidth, clientWidth } = element as unknown as { scrollWidth: number; clientWidth: number };
      return scrollWidth - clientWidth;
    }),
  );
  await page.setViewportSize(wide);
  return Math.max(...overflows);
}

/** Screenshots of every screen a test visits, at 1280×800 and in a narrow window: `.cache/screenshots/web-console/...`. */
export interface Shots {
  take(page: Page, name: string): Promise<void>;
}

export function screenshots(suite: string): Shots {
  return {
    async take(page, name) {
      const wide = page.viewportSize() ?? { width: 1280, height: 800 };
      // What the person sees at 1280×800 (the window, not the whole page: the desktop scrolls inside it) …
      await saveScreenshot(page, `web-console-${suite}`, `${name}-1280x800`, { fullPage: false });
      // … and the whole page in a narrow window.
      await page.setViewportSize({ width: 420, height: 860 });
      await saveScreenshot(page, `web-console-${suite}`, `${name}-narrow`);
      await page.setViewportSize(wide);
    },
  };
}
