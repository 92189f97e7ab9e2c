import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { demoProfile, type GraphSandbox, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { launchChromium, saveScreenshot, startTestGraphSandbox, type TestBrowser } from '@mailroute/testing';
import type { MsalPageConfig } from './testing/msal-browser-page';

/**
 * Bundles testing/msal-browser-page.ts with Vite (the console's bundler) into one IIFE. In a child
 * process: rolldown's native bindings refuse options built inside jest's module sandbox.
 */
async function bundlePage(): Promise<string> {
  const outDir = await mkdtemp(path.join(tmpdir(), 'msal-page-'));
  const entry = path.join(__dirname, 'testing', 'msal-browser-page.ts');
  const script = `import { build } from 'vite';
await build({ configFile: false, logLevel: 'silent', build: { outDir: ${JSON.stringify(outDir)}, emptyOutDir: true, minify: false,
  lib: { entry: ${JSON.stringify(entry)}, formats: ['iife'], name: 'msalPage', fileName: () => 'page.js' } } });`;
  try {
    await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: path.resolve(__dirname, '../../..'),
    });
    return await readFile(path.join(outDir, 'page.js'), 'utf8');
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

/**
 * The real @azure/msal-browser in real Chromium against the sandbox's demo tenant, as the web console
 * signs in: the sandbox's certificate trusted by key pin, openid-configuration read cross-origin,
 * loginRedirect to the sign-in page, the password typed, the code redeemed cross-origin with PKCE, and
 * the SPA refresh token used. Nothing of the console is involved: this proves the authority side.
 */
// Chromium, a bundle and three page loads per test: generous limits for a loaded CI machine.
jest.setTimeout(180_000);

describe('msal-browser signs in against the graph sandbox in Chromium', () => {
  const suite = 'graph-sandbox-msal-browser';
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;
  let browser: TestBrowser;
  let server: Server;
  let origin = '';
  let bundle = '';
  let webOnlyOrigin = '';
  let webOnlyServer: Server;

  /** Serves the test page (the bundle and its config) on 127.0.0.1; the origin is the SPA's. */
  async function servePage(config: () => MsalPageConfig): Promise<{ server: Server; origin: string }> {
    const page = createServer((request, response) => {
      if (request.url === '/page.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
        return;
      }
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(
          `<!doctype html><title>msal-browser</title><pre id="outcome">loading</pre>` +
            `<script>window.msalPageConfig=${JSON.stringify(config())}</script><script src="/page.js"></script>`,
        );
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    return { server: page, origin: `http://127.0.0.1:${(page.address() as AddressInfo).port}` };
  }

  const pageConfig = (): MsalPageConfig => ({
    authority: `${endpoints.baseUrl}/${demoProfile.tenantId}`,
    clientId: demoProfile.desktopClientId,
    knownAuthorities: [endpoints.authorityHost],
  });

  beforeAll(async () => {
    bundle = await bundlePage();
    expect(bundle.length).toBeGreaterThan(10_000);

    ({ server, origin } = await servePage(pageConfig));
    ({ server: webOnlyServer, origin: webOnlyOrigin } = await servePage(pageConfig));
    ({ sandbox, endpoints } = await startTestGraphSandbox({ profile: 'demo', consoleRedirectUris: [`${origin}/`] }));
    // A second page whose URL is registered on the Web platform only: what a wrongly registered console does.
    const app = await endpoints.admin.getApp(demoProfile.tenantId, demoProfile.desktopClientId);
    await endpoints.admin.updateApp(demoProfile.tenantId, demoProfile.desktopClientId, {
      redirectUris: [...app.redirectUris, `${webOnlyOrigin}/`],
    });
    browser = await launchChromium({ trustOrigins: [endpoints.baseUrl] });
  });

  afterAll(async () => {
    await browser?.close();
    await sandbox?.stop();
    server?.close();
    webOnlyServer?.close();
  });

  async function outcome(page: Page): Promise<Record<string, unknown>> {
    await page.waitForFunction(
      () => {
        const text =
          (
            globalThis as unknown as { document: { getElementById(id: string): { textContent: string } | null } }
          ).document.getElementById('outcome')?.textContent ?? '';
        return text.includes('"signed-in"') || text.includes('"error"');
      },
      undefined,
      { timeout: 90_000 },
    );
    return JSON.parse((await page.textContent('#outcome')) ?? '{}') as Record<string, unknown>;
  }

  async function signIn(page: Page, startUrl: string, user: string, password: string): Promise<void> {
    await page.goto(startUrl);
    await page.waitForSelector('#passwd', { timeout: 90_000 });
    await page.fill('#login', user);
    await page.fill('#passwd', password);
    await page.click('#signin');
  }

  it('signs a supervisor in: wrong password refused on the page, then an ID token with the Supervisor role and a refresh', async () => {
    const { page, context } = await browser.newPage();
    try {
      await signIn(page, `${origin}/`, demoProfile.consoleUsers.supervisor, 'not-the-password');
      await page.waitForSelector('#error', { timeout: 90_000 });
      expect(await page.textContent('#error')).toContain('AADSTS50126');
      await saveScreenshot(page, suite, 'sign-in-wrong-password');
      await page.fill('#passwd', demoProfile.password);
      await page.click('#signin');
      const result = await outcome(page);
      expect(result).toMatchObject({
        state: 'signed-in',
        claims: { preferred_username: demoProfile.consoleUsers.supervisor, tid: demoProfile.tenantId, roles: ['Supervisor'] },
        // acquireTokenSilent({ forceRefresh }) redeemed the SPA refresh token cross-origin.
        refreshedFromCache: false,
      });
    } finally {
      await context.close();
    }
  });

  it('signs a user without a role in with no roles claim', async () => {
    const { page, context } = await browser.newPage();
    try {
      await signIn(page, `${origin}/`, demoProfile.consoleUsers.noRole, demoProfile.password);
      const result = await outcome(page);
      expect(result['state']).toBe('signed-in');
      expect(result['claims']).not.toHaveProperty('roles');
    } finally {
      await context.close();
    }
  });

  it('shows a page whose URL is registered as Web, not SPA, the AADSTS9002326 refusal', async () => {
    const { page, context } = await browser.newPage();
    try {
      await signIn(page, `${webOnlyOrigin}/`, demoProfile.consoleUsers.agent, demoProfile.password);
      const result = await outcome(page);
      expect(result['state']).toBe('error');
      expect(String(result['message'])).toContain('AADSTS9002326');
    } finally {
      await context.close();
    }
  });
});
