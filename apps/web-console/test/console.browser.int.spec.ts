// The web console in real Chromium, through the web gateway, against the real services and the graph
// sandbox: the agent desktop, then the supervisor console. Screenshots of every screen (1280×800 and a
// narrow window): .cache/screenshots/web-console-agent-desktop/ and web-console-supervisor/.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { InteractionRouterServiceDefinition, InteractionState, type InteractionHistoryEntry } from '@mailroute/contracts';
import { demoProfile } from '@mailroute/graph-sandbox';
import { freePort, randomId, signInWithDeviceCode, waitFor, workspaceRoot } from '@mailroute/testing';
import { ClientError, createChannel, createClient, Metadata, NodeHttpTransport, Status } from 'nice-grpc-web';
import type { Page, Request } from 'playwright-core';
import { screenshots, signIn, startConsoleStack, support, users, type ConsoleStack } from './console-stack';

const shots = screenshots('agent-desktop');
const supervisorShots = screenshots('supervisor');

async function historyOf(stack: ConsoleStack, interactionId: string): Promise<InteractionHistoryEntry[]> {
  return (await stack.admin.listInteractionHistory({ interactionId, page: { pageSize: 200, pageToken: '' } })).entries;
}

async function goAvailable(page: Page): Promise<void> {
  await page.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 60_000 });
  await page.getByRole('radio', { name: 'Available' }).click();
  await page.locator('[role=radio][aria-checked=true]', { hasText: 'Available' }).waitFor();
}

let stack: ConsoleStack;

beforeAll(async () => {
  stack = await startConsoleStack();
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

describe('the agent desktop in Chromium', () => {
  let page: Page;
  const requests: Request[] = [];
  const consoleLines: string[] = [];

  beforeAll(async () => {
    const opened = await stack.browser.newPage();
    page = opened.page;
    page.on('request', (request) => requests.push(request));
    page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => consoleLines.push(`pageerror: ${error.message}`));
    await signIn(page, stack, users.agent, shots);
    await page.locator('[data-testid=agent-desktop]').waitFor({ timeout: 60_000 });
  }, 300_000);

  // The screen as each test left it (also what a failure looked like).
  afterEach(async () => {
    await shots
      .take(page, `after-${expect.getState().currentTestName?.split(' ').slice(5, 9).join('-') ?? 'test'}`)
      .catch(() => undefined);
  });

  it("signs in, goes available, accepts an offer and replies; the reply lands in Sent Items in the customer's conversation", async () => {
    await goAvailable(page);
    await page.locator('[data-testid=no-offers]').waitFor();
    await shots.take(page, 'available-no-offers');

    const tag = randomId('order');
    const inbound = (await stack.endpoints.admin.deliver(demoProfile.tenantId, support, {
      from: 'dana@customer.example',
      subject: `Order ${tag} is late`,
      body: '<p>Hello, my <b>order</b> was due yesterday.</p>',
      bodyType: 'html',
    })) as { conversationId?: string };
    const offer = page.locator('[data-testid=offer]', { hasText: tag });
    await offer.waitFor({ timeout: 120_000 });
    await shots.take(page, 'offer');
    // Keyboard only: Tab reaches Accept, Enter accepts.
    const accept = offer.getByRole('button', { name: 'Accept' });
    for (let tab = 0; tab < 30 && !(await accept.evaluate((button) => button === button.ownerDocument.activeElement)); tab += 1) {
      await page.keyboard.press('Tab');
    }
    await page.keyboard.press('Enter');
    const view = page.locator('[data-testid=interaction]');
    await view.locator('#interaction-subject', { hasText: tag }).waitFor();
    await page
      .frameLocator('[data-testid=interaction] [data-testid=mail-frame]')
      .first()
      .locator('b', { hasText: 'order' })
      .waitFor();
    await shots.take(page, 'interaction');

    await view.locator('.editor-content').click();
    await page.keyboard.type(`Your order ${tag} left our warehouse today.`);
    await view.getByRole('button', { name: 'Send' }).click();
    await view.locator('[data-testid=send-status][data-state=SEND_STATE_SENT]').first().waitFor({ timeout: 120_000 });
    await shots.take(page, 'reply-sent');

    const sent = await waitFor(
      async () =>
        (await stack.endpoints.admin.sent(demoProfile.tenantId, support)).value.find((record) =>
          record.body.content.includes(tag),
        ),
      { timeoutMs: 60_000, description: 'the reply in Sent Items' },
    );
    expect(sent.conversationId).toBe(inbound.conversationId);
    expect(sent.savedToSentItems).toBe(true);
    expect(sent.toRecipients.map((r) => r.emailAddress.address)).toEqual(['dana@customer.example']);
    expect(consoleLines.filter((line) => line.startsWith('pageerror'))).toEqual([]);
  });

  it("downloads a customer's attachment byte for byte and replies with a 5 MB upload that reaches Sent Items with the reply", async () => {
    const tag = randomId('invoice');
    const invoice = randomBytes(300 * 1024);
    const inbound = (await stack.endpoints.admin.deliver(demoProfile.tenantId, support, {
      from: 'dana@customer.example',
      subject: `Invoice ${tag} is wrong`,
      body: '<p>Hello, the <b>attached invoice</b> charges me twice.</p>',
      bodyType: 'html',
      attachments: [{ name: 'invoice.pdf', contentType: 'application/pdf', contentBase64: invoice.toString('base64') }],
    })) as { conversationId?: string };
    const offer = page.locator('[data-testid=offer]', { hasText: tag });
    await offer.waitFor({ timeout: 120_000 });
    await offer.getByRole('button', { name: 'Accept' }).click();
    const view = page.locator('[data-testid=interaction]');
    await view.locator('#interaction-subject', { hasText: tag }).waitFor();
    const attachment = view.locator('[data-testid=attachment]', { hasText: 'invoice.pdf' });
    await attachment.waitFor();
    await shots.take(page, 'attachment');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      attachment.getByRole('button', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('invoice.pdf');
    const downloaded = await readFile(await download.path());
    expect(createHash('sha256').update(downloaded).digest('hex')).toBe(createHash('sha256').update(invoice).digest('hex'));

    const statement = randomBytes(5 * 1024 * 1024);
    await view.locator('.editor-content').click();
    await page.keyboard.type(`The corrected statement for ${tag} is attached.`);
    await view
      .locator('[data-testid=attach-file]')
      .setInputFiles({ name: 'statement.pdf', mimeType: 'application/pdf', buffer: statement });
    await view.locator('[data-testid=reply-attachment]', { hasText: 'uploaded' }).waitFor({ timeout: 120_000 });
    await shots.take(page, 'reply-with-upload');
    await view.getByRole('button', { name: 'Send' }).click();
    await view.locator('[data-testid=send-status][data-state=SEND_STATE_SENT]').first().waitFor({ timeout: 120_000 });
    await shots.take(page, 'reply-with-upload-sent');

    const sent = await waitFor(
      async () =>
        (await stack.endpoints.admin.sent(demoProfile.tenantId, support)).value.find((record) =>
          record.body.content.includes(tag),
        ),
      { timeoutMs: 60_000, description: 'the reply in Sent Items' },
    );
    expect(sent.conversationId).toBe(inbound.conversationId);
    expect(sent.attachments).toEqual([expect.objectContaining({ name: 'statement.pdf', size: statement.length })]);
  });

  it("filters the agent's templates, inserts the one the router rendered for this customer (markup in the name as text) with its attachment, and sends it", async () => {
    const tag = randomId('returns');
    const terms = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(4096)]);
    const { upload } = await stack.admin.uploadTemplateAttachment(
      (async function* () {
        yield {
          part: {
            $case: 'metadata' as const,
            value: { name: 'terms.pdf', contentType: '', sizeBytes: terms.length, sha256: '' },
          },
        };
        yield { part: { $case: 'chunk' as const, value: terms } };
      })(),
    );
    await stack.admin.createTemplate({
      templateId: `${tag}-a`,
      template: {
        displayName: `Return approved ${tag}`,
        html: '<p>Dear {{customer_name}}, your return is approved.</p>',
        text: 'Dear {{customer_name}}, your return is approved.',
        attachments: [{ uploadId: upload?.uploadId ?? '' }],
      } as never,
    });
    await stack.admin.createTemplate({
      templateId: `${tag}-b`,
      template: { displayName: `Opening hours ${tag}`, text: 'We answer from 9 to 5.' } as never,
    });
    const inbound = (await stack.endpoints.admin.deliver(demoProfile.tenantId, support, {
      from: { name: '<b>Dana</b> Doe', address: 'dana@customer.example' },
      subject: `Return ${tag}`,
      body: '<p>May I return my order?</p>',
      bodyType: 'html',
    })) as { conversationId?: string };
    const offer = page.locator('[data-testid=offer]', { hasText: tag });
    await offer.waitFor({ timeout: 120_000 });
    await offer.getByRole('button', { name: 'Accept' }).click();
    const view = page.locator('[data-testid=interaction]');
    await view.locator('#interaction-subject', { hasText: tag }).waitFor();

    const toggle = view.getByRole('button', { name: 'Insert template' });
    const picker = view.locator('[data-testid=template-picker]');
    const options = picker.locator('[data-testid=template-option]');
    await toggle.click();
    await picker.getByRole('combobox', { name: 'Filter templates' }).waitFor();
    await page.keyboard.press('Escape');
    await picker.waitFor({ state: 'detached' });
    await toggle.click();
    // By name: both templates carry the tag; by text: only the second answers "9 to 5".
    await page.keyboard.type(tag);
    await waitFor(async () => (await options.count()) === 2, { timeoutMs: 30_000, description: 'both templates listed' });
    // The highlighted one is previewed as the router renders it for Dana: her name (markup as text), no placeholder.
    const preview = picker.locator('[data-testid=template-preview]');
    await preview.getByText('Dear <b>Dana</b> Doe, your return is approved.').waitFor();
    expect(await preview.textContent()).not.toContain('{{');
    expect(await preview.locator('b').count()).toBe(0);
    await shots.take(page, 'template-picker');
    await page.keyboard.press('ArrowDown');
    await picker.locator('[aria-selected=true]', { hasText: 'Opening hours' }).waitFor();
    await preview.getByText('We answer from 9 to 5.').waitFor();
    await page.keyboard.press('ArrowUp');
    await picker.locator('[aria-selected=true]', { hasText: 'Return approved' }).waitFor();
    await page.keyboard.press('Enter');
    await picker.waitFor({ state: 'detached' });
    const editor = view.locator('.editor-content');
    await editor.getByText('Dear <b>Dana</b> Doe, your return is approved.').waitFor();
    expect(await editor.locator('b').count()).toBe(0);
    await view.locator('[data-testid=reply-attachment]', { hasText: 'terms.pdf' }).waitFor();
    await shots.take(page, 'template-inserted');

    await toggle.click();
    await page.keyboard.type('answer from 9 to 5');
    await picker.locator('[aria-selected=true]', { hasText: `Opening hours ${tag}` }).waitFor();
    await page.keyboard.press('Enter');
    await editor.getByText('We answer from 9 to 5.').waitFor();

    await view.getByRole('button', { name: 'Send' }).click();
    await view.locator('[data-testid=send-status][data-state=SEND_STATE_SENT]').first().waitFor({ timeout: 120_000 });
    const sent = await waitFor(
      async () =>
        (await stack.endpoints.admin.sent(demoProfile.tenantId, support)).value.find((record) =>
          record.body.content.includes('your return is approved'),
        ),
      { timeoutMs: 60_000, description: 'the templated reply in Sent Items' },
    );
    expect(sent.conversationId).toBe(inbound.conversationId);
    expect(sent.body.content).toContain('Dear &lt;b&gt;Dana&lt;/b&gt; Doe');
    expect(sent.body.content).toContain('We answer from 9 to 5.');
    expect(sent.attachments).toEqual([expect.objectContaining({ name: 'terms.pdf', size: terms.length })]);
  });

  it('shows hostile mail without running anything in the page or loading anything remote', async () => {
    const hits: string[] = [];
    const tracker: Server = createServer((request, response) => {
      hits.push(request.url ?? '');
      response.end('x');
    });
    await new Promise<void>((resolve) => tracker.listen(0, '127.0.0.1', resolve));
    const trackerUrl = `http://127.0.0.1:${(tracker.address() as AddressInfo).port}`;
    try {
      const tag = randomId('hostile');
      const hostileHtml = [
        `<script>console.log('HOSTILE script ran'); window.top.hostile = 1;</script>`,
        `<img src="${trackerUrl}/pixel.gif" onerror="console.log('HOSTILE onerror ran')">`,
        `<img src="x" onerror="console.log('HOSTILE onerror ran')">`,
        `<a href="javascript:console.log('HOSTILE link ran')">click me</a>`,
        `<div style="background-image:url(${trackerUrl}/bg.png)">styled</div>`,
        `<style>body{background:url(${trackerUrl}/css.png)} @import url(${trackerUrl}/import.css);</style>`,
        `<link rel="stylesheet" href="${trackerUrl}/link.css">`,
        `<iframe src="${trackerUrl}/frame"></iframe><object data="${trackerUrl}/object"></object>`,
        `<svg onload="console.log('HOSTILE svg ran')"><image href="${trackerUrl}/svg.png"/></svg>`,
        `<form action="${trackerUrl}/form"><input type="image" src="${trackerUrl}/input.png"></form>`,
        `<meta http-equiv="refresh" content="0;url=${trackerUrl}/refresh"><base href="${trackerUrl}/">`,
        `<p>Please pay to the new account ${tag}.</p>`,
      ].join('\n');
      await stack.endpoints.admin.deliver(demoProfile.tenantId, support, {
        from: 'mallory@attacker.example',
        subject: `Account change ${tag}`,
        body: hostileHtml,
        bodyType: 'html',
      });
      const offer = page.locator('[data-testid=offer]', { hasText: tag });
      await offer.waitFor({ timeout: 120_000 });
      await offer.getByRole('button', { name: 'Accept' }).click();
      const view = page.locator('[data-testid=interaction]');
      await view.locator('#interaction-subject', { hasText: tag }).waitFor();
      const frame = view.locator('[data-testid=mail-frame]').first();
      await frame.waitFor();
      const content = page.frameLocator('[data-testid=interaction] [data-testid=mail-frame]').first();
      await content.locator('p', { hasText: tag }).waitFor();
      await shots.take(page, 'hostile-mail');
      // Clicking the javascript: link does nothing either.
      await content.getByText('click me').click();

      expect(await frame.getAttribute('sandbox')).not.toContain('allow-scripts');
      // The page's DOM types are not in this (node) project: the frame's document is read structurally.
      type Doc = {
        querySelectorAll(
          selector: string,
        ): ArrayLike<{ attributes: ArrayLike<{ name: string }>; getAttribute(name: string): string | null }>;
      };
      const frameDom = await frame.evaluate((element) => {
        const doc = (element as unknown as { contentDocument: Doc | null }).contentDocument;
        return {
          scripts: doc?.querySelectorAll('script').length,
          handlers: Array.from(doc?.querySelectorAll('*') ?? []).filter((e) =>
            Array.from(e.attributes).some((a) => /^on/i.test(a.name)),
          ).length,
          javascriptLinks: doc?.querySelectorAll('a[href^="javascript" i]').length,
          remote: Array.from(doc?.querySelectorAll('[src],[href],[data],[action]') ?? []).filter((e) =>
            ['src', 'href', 'data', 'action'].some((name) => (e.getAttribute(name) ?? '').includes('127.0.0.1')),
          ).length,
          frames: doc?.querySelectorAll('iframe, object, embed, form, meta[http-equiv=refresh], base').length,
        };
      });
      expect(frameDom).toEqual({ scripts: 0, handlers: 0, javascriptLinks: 0, remote: 0, frames: 0 });
      expect(await page.evaluate(() => (globalThis as { hostile?: number }).hostile)).toBeUndefined();
      expect(consoleLines.filter((line) => line.includes('HOSTILE'))).toEqual([]);
      expect(requests.map((request) => request.url()).filter((url) => url.startsWith(trackerUrl))).toEqual([]);
      expect(hits).toEqual([]);
    } finally {
      tracker.close();
    }
  });

  it("shows a message's remote images only when the agent asks, in a frame with its own policy that still runs nothing", async () => {
    const hits: string[] = [];
    const tracker: Server = createServer((request, response) => {
      hits.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'image/gif' });
      // A 1×1 transparent GIF.
      response.end(Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64'));
    });
    await new Promise<void>((resolve) => tracker.listen(0, '127.0.0.1', resolve));
    const trackerUrl = `http://127.0.0.1:${(tracker.address() as AddressInfo).port}`;
    try {
      const tag = randomId('newsletter');
      await stack.endpoints.admin.deliver(demoProfile.tenantId, support, {
        from: 'news@shop.example',
        subject: `Your order ${tag}`,
        body: [
          `<p>Your order ${tag} has shipped.</p>`,
          `<img alt="logo" width="120" height="40" src="${trackerUrl}/logo.gif?${tag}">`,
          `<img src="x" onerror="console.log('HOSTILE onerror ran')">`,
        ].join('\n'),
        bodyType: 'html',
      });
      const offer = page.locator('[data-testid=offer]', { hasText: tag });
      await offer.waitFor({ timeout: 120_000 });
      await offer.getByRole('button', { name: 'Accept' }).click();
      const view = page.locator('[data-testid=interaction]');
      await view.locator('#interaction-subject', { hasText: tag }).waitFor();
      const blocked = view.locator('[data-testid=remote-images-blocked]');
      await blocked.waitFor();
      await shots.take(page, 'remote-images-blocked');
      expect(hits).toEqual([]);
      // In a narrow window the message wraps onto more lines: its frame grows with it, the placeholder stays in view.
      const wide = page.viewportSize() ?? { width: 1280, height: 800 };
      await page.setViewportSize({ width: 420, height: 860 });
      type SealedFrame = {
        clientHeight: number;
        contentDocument: {
          body: { scrollHeight: number };
          querySelector(selector: string): { getBoundingClientRect(): { bottom: number } } | null;
        } | null;
      };
      const fitted = () =>
        view.locator('[data-testid=mail-frame]').evaluate((element) => {
          const frame = element as unknown as SealedFrame;
          const placeholder = frame.contentDocument?.querySelector('[data-blocked]');
          return (
            !!placeholder &&
            placeholder.getBoundingClientRect().bottom <= frame.clientHeight &&
            (frame.contentDocument?.body.scrollHeight ?? Infinity) <= frame.clientHeight
          );
        });
      await waitFor(fitted, { timeoutMs: 10_000, description: 'the frame to fit the wrapped message, placeholder included' });
      await page.setViewportSize(wide);

      await blocked.getByRole('button', { name: 'Show remote images' }).click();
      const frame = view.locator('[data-testid=mail-frame][data-remote-images=shown]');
      await frame.waitFor();
      await waitFor(() => hits.includes(`/logo.gif?${tag}`), { timeoutMs: 30_000, description: 'the remote image to load' });
      const content = page.frameLocator('[data-testid=interaction] [data-testid=mail-frame][data-remote-images=shown]');
      await content.locator('p', { hasText: tag }).waitFor();
      await waitFor(
        () =>
          content.locator('img[alt=logo]').evaluate((image) => (image as unknown as { naturalWidth: number }).naturalWidth === 1),
        { timeoutMs: 30_000, description: 'the image to be shown' },
      );
      await shots.take(page, 'remote-images-shown');
      // The frame is still sealed: no allow-scripts, sanitized content, nothing ran.
      expect(await frame.getAttribute('sandbox')).not.toContain('allow-scripts');
      expect(await content.locator('[onerror]').count()).toBe(0);
      expect(consoleLines.filter((line) => line.includes('HOSTILE'))).toEqual([]);
      // Only the image of this message was fetched; the page's own policy is unchanged for every other frame.
      expect(hits).toEqual([`/logo.gif?${tag}`]);
      const frameResponse = await page.request.get(`${stack.consoleUrl}mail-frame.html`);
      expect(frameResponse.headers()['content-security-policy']).toContain("default-src 'none'");
      expect(frameResponse.headers()['content-security-policy']).not.toContain('script-src');
    } finally {
      tracker.close();
    }
  });

  it('recovers from a cut stream with the same work, and nothing is accepted twice', async () => {
    const tag = randomId('cut');
    const requestsBefore = requests.length;
    await stack.endpoints.admin.deliver(demoProfile.tenantId, support, {
      from: 'erik@customer.example',
      subject: `First ${tag}`,
      body: 'one',
    });
    const first = page.locator('[data-testid=offer]', { hasText: `First ${tag}` });
    await first.waitFor({ timeout: 120_000 });
    await first.getByRole('button', { name: 'Accept' }).click();
    await page.locator('[data-testid=work-item]', { hasText: `First ${tag}` }).waitFor();
    await stack.endpoints.admin.deliver(demoProfile.tenantId, support, {
      from: 'erik@customer.example',
      subject: `Second ${tag}`,
      body: 'two',
    });
    await page.locator('[data-testid=offer]', { hasText: `Second ${tag}` }).waitFor({ timeout: 120_000 });

    await stack.restartGateway();
    await page.locator('[data-testid=connection][data-state=reconnecting]').waitFor({ timeout: 60_000 });
    await shots.take(page, 'reconnecting');
    await page.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 120_000 });
    await shots.take(page, 'reconnected');

    // The same work: the accepted one in the list once, the pending offer still an offer, once.
    await expect(page.locator('[data-testid=work-item]', { hasText: `First ${tag}` }).count()).resolves.toBe(1);
    await expect(page.locator('[data-testid=offer]', { hasText: `First ${tag}` }).count()).resolves.toBe(0);
    const second = page.locator('[data-testid=offer]', { hasText: `Second ${tag}` });
    await expect(second.count()).resolves.toBe(1);
    await second.getByRole('button', { name: 'Accept' }).click();
    await page.locator('[data-testid=work-item]', { hasText: `Second ${tag}` }).waitFor();

    const found = (
      await stack.admin.searchInteractions({ page: { pageSize: 10, pageToken: '' }, filter: { subjectContains: tag }, order: 0 })
    ).interactions;
    expect(found).toHaveLength(2);
    for (const interaction of found) {
      const assigned = (await historyOf(stack, interaction.interactionId)).filter(
        (e) => e.state === InteractionState.INTERACTION_STATE_ASSIGNED,
      );
      expect(assigned).toHaveLength(1);
    }
    const accepts = requests
      .slice(requestsBefore)
      .filter((request) => request.url().endsWith('/mailroute.v1.AgentDesktopService/Accept'));
    expect(accepts).toHaveLength(2);
  });

  it('says so when the desktop is opened in another tab, and when the agent goes offline', async () => {
    const other = await stack.browser.newPage();
    // Same browser storage would share the sign-in; a new context signs in again as the same agent.
    await signIn(other.page, stack, users.agent);
    await other.page.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 60_000 });
    await page.locator('[data-testid=session-replaced]').waitFor({ timeout: 60_000 });
    await shots.take(page, 'session-replaced');
    await other.context.close();
    await page.getByRole('button', { name: 'Use the desktop here' }).click();
    await page.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 60_000 });
    await page.getByRole('radio', { name: 'Offline' }).click();
    await page.locator('[data-testid=offline]').waitFor({ timeout: 60_000 });
    await shots.take(page, 'offline');
    await page.getByRole('button', { name: 'Go available' }).click();
    await page.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 60_000 });
  });
});

describe('the supervisor console in Chromium', () => {
  it("shows a queue's waiting count change as mail arrives, and reassigns an interaction from one agent to another", async () => {
    // Both agents at their desktops but away: mail waits in the queue, and either can be given work.
    const desktops = [];
    for (const upn of [users.agent, users.other]) {
      const desktop = await stack.browser.newPage();
      await signIn(desktop.page, stack, upn);
      await desktop.page.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: 60_000 });
      await desktop.page.getByRole('radio', { name: 'Away' }).click();
      await desktop.page.locator('[role=radio][aria-checked=true]', { hasText: 'Away' }).waitFor();
      desktops.push(desktop.page);
    }
    const [carolDesk, bobDesk] = desktops;
    const { page } = await stack.browser.newPage();
    page.on('pageerror', (error) => console.error(error));
    await signIn(page, stack, users.supervisor, supervisorShots);
    await page.goto(`${stack.consoleUrl}#/supervisor/queues`);
    const waiting = page.locator('[data-testid=queue-card]', { hasText: 'support' }).locator('[data-testid=queue-waiting]');
    await waiting.waitFor({ timeout: 60_000 });
    const before = Number(await waiting.textContent());
    const tag = randomId('waiting');
    const receipt = randomBytes(200 * 1024);
    await stack.endpoints.admin.deliver(demoProfile.tenantId, support, {
      from: 'fay@customer.example',
      subject: `Refund ${tag}`,
      body: 'Where is it?',
      attachments: [{ name: 'receipt.pdf', contentType: 'application/pdf', contentBase64: receipt.toString('base64') }],
    });
    await waitFor(async () => Number(await waiting.textContent()) === before + 1, {
      timeoutMs: 120_000,
      description: 'the waiting count to go up',
    });
    await supervisorShots.take(page, 'queues');

    await page.goto(`${stack.consoleUrl}#/supervisor/agents`);
    await page.locator('[data-testid=agent-row]').first().waitFor({ timeout: 30_000 });
    await supervisorShots.take(page, 'agents');

    await page.goto(`${stack.consoleUrl}#/supervisor/interactions`);
    await page.getByLabel('Subject contains').fill(tag);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('[data-testid=interaction-row]', { hasText: tag }).getByRole('link').click();
    const detail = page.locator('[data-testid=interaction-detail]');
    await detail.locator('[data-testid=detail-state]', { hasText: 'Queued' }).waitFor({ timeout: 30_000 });
    // The supervisor downloads the customer's attachment (GetInteractionAttachment) byte for byte.
    const attachment = detail.locator('[data-testid=attachment]', { hasText: 'receipt.pdf' });
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      attachment.getByRole('button', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('receipt.pdf');
    const downloaded = await readFile(await download.path());
    expect(createHash('sha256').update(downloaded).digest('hex')).toBe(createHash('sha256').update(receipt).digest('hex'));
    await attachment.scrollIntoViewIfNeeded();
    await supervisorShots.take(page, 'interaction-detail-attachment');
    await detail.getByLabel('Agent to assign').selectOption('carol');
    await detail.getByRole('button', { name: 'Assign' }).click();
    await detail.locator('[data-testid=detail-state]', { hasText: 'Assigned' }).waitFor({ timeout: 30_000 });
    await detail.getByLabel('Agent to assign').selectOption('bob');
    await detail.getByRole('button', { name: 'Assign' }).click();
    await waitFor(
      async () => {
        const found = await stack.admin.searchInteractions({
          page: { pageSize: 5, pageToken: '' },
          filter: { subjectContains: tag },
          order: 0,
        });
        return found.interactions[0]?.agentId === 'bob';
      },
      { timeoutMs: 30_000, description: 'the interaction to be reassigned to bob' },
    );
    // Each assignment once, naming the agent it went to.
    const assignedRows = detail.locator('[data-testid=history] li', { hasText: 'Assigned to' });
    await assignedRows.nth(1).waitFor({ timeout: 30_000 });
    const assignments = await assignedRows.allTextContents();
    expect(assignments).toHaveLength(2);
    expect(assignments[0]).toMatch(/^Assigned to carol\b.* — by supervisor/i);
    expect(assignments[1]).toMatch(/^Assigned to bob\b.* — by supervisor/i);
    await supervisorShots.take(page, 'interaction-detail');
    // The agents see it: bob has it, carol is told it went to another agent.
    await bobDesk?.locator('[data-testid=work-item]', { hasText: tag }).waitFor({ timeout: 30_000 });
    await carolDesk?.locator('.ended', { hasText: 'given to another agent' }).waitFor({ timeout: 30_000 });
    await shots.take(bobDesk as Page, 'assigned-by-supervisor');

    await page.goto(`${stack.consoleUrl}#/supervisor/configuration`);
    await page.getByRole('heading', { name: 'Routing rules' }).waitFor();
    await page.locator('[data-testid=queue-row]', { hasText: 'support' }).waitFor({ timeout: 30_000 });
    // Mailboxes come from mailbox-fetch, which takes the supervisor's token as the router does: the host's mailbox.
    const mailboxRow = page.locator('[data-testid=mailbox-row]', { hasText: support });
    await mailboxRow.waitFor({ timeout: 30_000 });
    await supervisorShots.take(page, 'configuration');
    await mailboxRow.scrollIntoViewIfNeeded();
    await supervisorShots.take(page, 'configuration-mailboxes');
  });

  it('gives a user without the Supervisor role a clear "not allowed" screen, and PERMISSION_DENIED at the API through the gateway', async () => {
    const { page } = await stack.browser.newPage();
    await signIn(page, stack, users.noRole);
    await page.locator('[data-testid=not-allowed]').waitFor({ timeout: 60_000 });
    await supervisorShots.take(page, 'not-an-agent');
    await page.goto(`${stack.consoleUrl}#/supervisor/queues`);
    await page.locator('[data-testid=not-allowed]', { hasText: 'Supervisor role' }).waitFor();
    await supervisorShots.take(page, 'not-a-supervisor');

    const token = await signInWithDeviceCode(
      stack.endpoints,
      stack.endpoints.admin,
      demoProfile.tenantId,
      demoProfile.desktopClientId,
      users.noRole,
    );
    const router = createClient(
      InteractionRouterServiceDefinition,
      createChannel(stack.consoleUrl.replace(/\/$/, ''), NodeHttpTransport()),
      {
        '*': { metadata: Metadata({ authorization: `Bearer ${token}` }) },
      },
    );
    const refused = await router.listQueues({ page: { pageSize: 10, pageToken: '' } }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ClientError);
    expect((refused as ClientError).code).toBe(Status.PERMISSION_DENIED);
  });
});

describe('the console in development (the Vite dev server)', () => {
  it('serves /mail-frame.html as the gateway does in production: the same page under the same policy', async () => {
    const port = await freePort();
    const vite = spawn(
      process.execPath,
      [
        path.join(workspaceRoot, 'node_modules', 'vite', 'bin', 'vite.js'),
        '--config',
        'apps/web-console/vite.config.mts',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--strictPort',
      ],
      { cwd: workspaceRoot, stdio: 'ignore' },
    );
    try {
      const dev = await waitFor(
        () =>
          fetch(`http://127.0.0.1:${port}/mail-frame.html`).then(
            (response) => (response.ok ? response : undefined),
            () => undefined,
          ),
        { timeoutMs: 60_000, description: 'the Vite dev server' },
      );
      const production = await fetch(`${stack.consoleUrl}mail-frame.html`);
      expect(production.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(dev.headers.get('content-security-policy')).toBe(production.headers.get('content-security-policy'));
      expect(dev.headers.get('content-type')).toBe(production.headers.get('content-type'));
      expect(await dev.text()).toBe(await production.text());
    } finally {
      vite.kill('SIGTERM');
    }
  });
});
