import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { workspaceRoot } from './service-process';

interface ChromiumModule {
  ensureChromium(options?: { log?: (line: string) => void }): Promise<{ executable: string; installed: boolean }>;
}

export interface LaunchChromiumOptions {
  /**
   * HTTPS origins with certificates of the tests' own CAs (the graph sandbox's) that the browser
   * should accept: their server key is pinned (`--ignore-certificate-errors-spki-list`), so exactly
   * those servers are trusted and every other certificate error still fails the page.
   */
  trustOrigins?: readonly string[];
  /** Also pin these CA certificates' keys (PEM files), for servers that send their CA in the chain. */
  trustCaFiles?: readonly string[];
}

/** A headless Chromium and what a browser test needs around it. */
export interface TestBrowser {
  browser: Browser;
  /** A fresh context (cookies, storage) whose pages' console messages are recorded. */
  newPage(options?: { baseURL?: string }): Promise<{ page: Page; context: BrowserContext; console: ConsoleMessage[] }>;
  close(): Promise<void>;
}

/**
 * Launches Debian's Chromium headless through playwright-core (installed by tools/test-infra when
 * missing: apt-get as root, a clear error otherwise). As root, Chromium's own sandbox cannot start,
 * so it runs with `--no-sandbox` there (the tests load only their own pages).
 */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<TestBrowser> {
  const { ensureChromium } = (await import(
    pathToFileURL(path.join(workspaceRoot, 'tools', 'test-infra', 'chromium.mjs')).href
  )) as ChromiumModule;
  const { executable } = await ensureChromium();
  const pins = [
    ...(await Promise.all((options.trustOrigins ?? []).map((origin) => serverKeyPin(origin)))),
    ...(options.trustCaFiles ?? []).map((file) => keyPin(new X509Certificate(readFileSync(file)))),
  ];
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const browser = await chromium.launch({
    executablePath: executable,
    headless: true,
    args: [
      ...(isRoot ? ['--no-sandbox'] : []),
      '--disable-dev-shm-usage',
      ...(pins.length > 0 ? [`--ignore-certificate-errors-spki-list=${pins.join(',')}`] : []),
    ],
  });
  return {
    browser,
    async newPage(pageOptions = {}) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...pageOptions });
      const page = await context.newPage();
      const console: ConsoleMessage[] = [];
      page.on('console', (message) => console.push(message));
      return { page, context, console };
    },
    close: () => browser.close(),
  };
}

/** The file a screenshot of `suite`/`name` is saved to: `.cache/screenshots/<suite>/<name>.png`. */
function screenshotPath(suite: string, name: string): string {
  const safe = (part: string) =>
    part
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[.-]+/, '')
      .slice(0, 100) || 'unnamed';
  return path.join(workspaceRoot, '.cache', 'screenshots', safe(suite), `${safe(name)}.png`);
}

/**
 * Saves a screenshot of `page` for people to look at; returns the file. The whole page by default;
 * `fullPage: false` keeps what the window shows (a desktop that scrolls inside it).
 */
export async function saveScreenshot(
  page: Page,
  suite: string,
  name: string,
  options: { fullPage?: boolean } = {},
): Promise<string> {
  const file = screenshotPath(suite, name);
  mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: options.fullPage ?? true });
  return file;
}

/** base64(sha256(SubjectPublicKeyInfo)), the form Chromium's SPKI list takes. */
function keyPin(certificate: X509Certificate): string {
  const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** The pin of the key of the certificate `origin` serves (read over TLS without verifying it). */
function serverKeyPin(origin: string): Promise<string> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: url.hostname,
        port: Number(url.port || 443),
        ...(isIP(url.hostname) ? {} : { servername: url.hostname }),
        rejectUnauthorized: false,
      },
      () => {
        const raw = socket.getPeerCertificate().raw;
        socket.end();
        if (!raw) return reject(new Error(`${origin} sent no certificate`));
        resolve(keyPin(new X509Certificate(raw)));
      },
    );
    socket.once('error', reject);
  });
}
