// The supervisor's Replies tab in real Chromium, through the web gateway, against the real services and the
// graph sandbox: templates (create with a placeholder and see it rendered, markup in a sample value shown as
// text, search, an attached file, edit, the API's refusal shown naming the field, delete), signatures per
// mailbox and the tenant's signature rule, and a mailbox's acknowledgement. Every change is checked through
// the router's workload-manager API, not only on the screen. Screenshots (1280×800 and a narrow window):
// .cache/screenshots/web-console-replies/.
import { ClientError, Status } from 'nice-grpc';
import { SignatureSource, TemplateKind } from '@mailroute/contracts';
import { randomId, waitFor } from '@mailroute/testing';
import type { Locator, Page } from 'playwright-core';
import {
  screenshots,
  sidewaysOverflowWhenNarrow,
  signIn,
  startConsoleStack,
  support,
  users,
  type ConsoleStack,
} from './console-stack';

const shots = screenshots('replies');

let stack: ConsoleStack;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  stack = await startConsoleStack();
  page = (await stack.browser.newPage()).page;
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await signIn(page, stack, users.supervisor);
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

afterEach(() => {
  expect(pageErrors).toEqual([]);
});

async function openReplies(): Promise<void> {
  await page.goto(`${stack.consoleUrl}#/supervisor/replies`);
  // A reload, so lists read after the API changed them are fresh.
  await page.reload();
  await page.getByRole('heading', { name: 'Templates', exact: true }).waitFor({ timeout: 60_000 });
}

async function createTemplate(kind: TemplateKind, displayName: string, text: string): Promise<string> {
  const { template } = await stack.admin.createTemplate({ templateId: '', template: { displayName, kind, text } });
  return template?.templateId ?? '';
}

/** The support mailbox's id, as the Replies tab lists it (mailbox-fetch's id). */
async function supportMailboxId(card: Locator): Promise<string> {
  return (await card.getAttribute('data-id')) ?? '';
}

describe("the supervisor's Replies tab in Chromium", () => {
  it('creates a template with a placeholder and previews it rendered (markup in a sample shows as text), attaches a file, edits it, shows the refusal naming the field, and deletes it', async () => {
    const tag = randomId('late');
    await openReplies();
    await page.getByRole('button', { name: 'New template' }).click();
    const form = page.locator('[data-testid=template-form]');
    await form.getByLabel('Name').fill(`Late order ${tag}`);
    await form.getByLabel('Subject').fill('Re: {{subject}}');
    await form.getByLabel('HTML body').fill('<p>Dear {{customer_name}},</p><p>your order is on its way.</p>');
    await form.getByLabel('Text body').fill('Dear {{customer_name}}, your order is on its way.');
    await form.getByRole('button', { name: 'Create template' }).click();

    const stored = await waitFor(
      async () => (await stack.admin.listTemplates({ page: { pageSize: 50, pageToken: '' }, query: tag, kind: 0 })).templates[0],
      { timeoutMs: 30_000, description: 'the template in the router' },
    );
    expect(stored.html).toContain('{{customer_name}}');
    expect(stored.kind).toBe(TemplateKind.TEMPLATE_KIND_CANNED_RESPONSE);

    // The router renders it with the sample values; a customer name with markup stays text.
    const preview = page.locator('[data-testid=template-preview]');
    await preview.getByLabel('Customer name').fill('Dana <b>Bold</b>');
    await preview.getByRole('button', { name: 'Render with these values' }).click();
    const frame = page.frameLocator('[data-testid=template-preview] [data-testid=mail-frame]');
    await frame.locator('body', { hasText: 'Dear Dana <b>Bold</b>,' }).waitFor({ timeout: 30_000 });
    expect(await frame.locator('b').count()).toBe(0);
    await expect(preview.locator('[data-testid=rendered-subject]').textContent()).resolves.toBe('Re: My order is late');
    await shots.take(page, 'template-preview');
    expect(await sidewaysOverflowWhenNarrow(page)).toBe(0);

    // Search by text goes through the router's ListTemplates query.
    await page.getByTestId('template-search').fill(tag);
    await page.locator('[data-testid=template-row]', { hasText: tag }).waitFor();
    await waitFor(async () => (await page.locator('[data-testid=template-row]').count()) === 1, {
      timeoutMs: 30_000,
      description: 'only the matching template listed',
    });

    // A file attached by reference: uploaded through the gateway, listed on the template after the save.
    await form.getByLabel('Add a file to the template').setInputFiles({
      name: 'delivery-terms.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF-1.4\n% delivery terms\n%%EOF\n'),
    });
    await form.locator('[data-testid=template-attachment]', { hasText: 'delivery-terms.pdf' }).waitFor({ timeout: 30_000 });
    // Edit: the agent's name added to the text.
    await form.getByLabel('Text body').fill('Dear {{customer_name}}, your order is on its way. {{agent_name}}');
    await form.getByRole('button', { name: 'Save changes' }).click();
    const edited = await waitFor(
      async () => {
        const { template } = await stack.admin.getTemplate({ templateId: stored.templateId });
        return template?.text.includes('{{agent_name}}') && template.attachments.length === 1 ? template : undefined;
      },
      { timeoutMs: 30_000, description: 'the edit and the attachment in the router' },
    );
    expect(edited.attachments[0]).toMatchObject({ name: 'delivery-terms.pdf', contentType: 'application/pdf' });
    await preview.getByText('Attached: delivery-terms.pdf').waitFor({ timeout: 30_000 });

    // Removed from the template: the file itself is deleted too once no template lists it.
    const uploadId = edited.attachments[0]?.uploadId ?? '';
    await form.getByRole('button', { name: 'Remove delivery-terms.pdf' }).click();
    await form.getByRole('button', { name: 'Save changes' }).click();
    // "Saved" shows once the template is updated and the file deleted.
    await form.getByRole('status').getByText('Saved').waitFor({ timeout: 30_000 });
    expect((await stack.admin.getTemplate({ templateId: stored.templateId })).template?.attachments).toEqual([]);
    const deleted = await stack.admin.deleteTemplateAttachment({ uploadId }).catch((error: unknown) => error);
    expect(deleted).toBeInstanceOf(ClientError);
    expect((deleted as ClientError).code).toBe(Status.NOT_FOUND);

    // A placeholder the router does not know: its INVALID_ARGUMENT, naming the field, beside the form.
    await form.getByLabel('HTML body').fill('<p>Dear {{custmer_name}},</p>');
    await form.getByRole('button', { name: 'Save changes' }).click();
    const refusal = form.locator('[data-testid=failure]');
    await refusal.waitFor({ timeout: 30_000 });
    expect(await refusal.textContent()).toMatch(/^Not saved: template\.html: uses an unknown placeholder \{\{custmer_name\}\}/);
    await expect(form.getByLabel('HTML body').getAttribute('aria-invalid')).resolves.toBe('true');
    await refusal.scrollIntoViewIfNeeded();
    await shots.take(page, 'template-refused');
    const unchanged = (await stack.admin.getTemplate({ templateId: stored.templateId })).template;
    expect(unchanged?.html).toContain('{{customer_name}}');

    await form.getByRole('button', { name: 'Delete…' }).click();
    await form.getByRole('button', { name: 'Delete template' }).click();
    await page.locator('[data-testid=template-form]').waitFor({ state: 'detached', timeout: 30_000 });
    const gone = await stack.admin.getTemplate({ templateId: stored.templateId }).catch((error: unknown) => error);
    expect(gone).toBeInstanceOf(ClientError);
    expect((gone as ClientError).code).toBe(Status.NOT_FOUND);
    await page.locator('[data-testid=template-row]', { hasText: tag }).waitFor({ state: 'detached', timeout: 30_000 });
  });

  it('attaches a file the tenant already uploaded to a new template by its upload id', async () => {
    const tag = randomId('price');
    const content = Buffer.from('%PDF-1.4\n% price list\n%%EOF\n');
    async function* parts() {
      yield {
        part: {
          $case: 'metadata' as const,
          value: { name: `${tag}.pdf`, contentType: 'application/pdf', sizeBytes: content.length, sha256: '' },
        },
      };
      yield { part: { $case: 'chunk' as const, value: content } };
    }
    const uploadId = (await stack.admin.uploadTemplateAttachment(parts())).upload?.uploadId ?? '';
    await openReplies();
    await page.getByRole('button', { name: 'New template' }).click();
    const form = page.locator('[data-testid=template-form]');
    await form.getByLabel('Name').fill(`Prices ${tag}`);
    await form.getByLabel('Text body').fill('Our price list is attached, {{customer_name}}.');
    await form.getByLabel('Or attach a file already uploaded').selectOption({ value: uploadId });
    await form.locator('[data-testid=template-attachment]', { hasText: `${tag}.pdf` }).waitFor();
    await form.getByRole('button', { name: 'Create template' }).click();
    const created = await waitFor(
      async () => (await stack.admin.listTemplates({ page: { pageSize: 50, pageToken: '' }, query: tag, kind: 0 })).templates[0],
      { timeoutMs: 30_000, description: 'the template in the router' },
    );
    expect(created.attachments.map((a) => a.uploadId)).toEqual([uploadId]);
  });

  it("sets the support mailbox's signature and the tenant's signature rule; the router's API has both", async () => {
    const signatureId = await createTemplate(
      TemplateKind.TEMPLATE_KIND_SIGNATURE,
      'Support team signature',
      '-- The support team',
    );
    await openReplies();
    const row = page.locator('[data-testid=signature-row][data-kind=mailbox]', { hasText: support });
    await row.waitFor({ timeout: 30_000 });
    const mailboxId = await supportMailboxId(row);
    await row.getByRole('combobox').selectOption({ label: 'Support team signature' });
    await row.getByText('Saved').waitFor({ timeout: 30_000 });
    const settings = (await stack.admin.getMailboxSettings({ mailboxId })).settings;
    expect(settings?.signatureTemplateId).toBe(signatureId);

    // The rule: the mailbox's signature, then the agent's.
    const rule = page.locator('[data-testid=signature-rule]');
    await expect(rule.getByTestId('signature-rule-summary').textContent()).resolves.toBe(
      "Replies end with the agent's, else the queue's, else the mailbox's signature.",
    );
    await rule.getByRole('button', { name: 'Remove part 1' }).click();
    await rule.getByRole('button', { name: 'Add a part' }).click();
    await rule.getByLabel('Part 1, choice 1').selectOption({ label: "Mailbox's signature" });
    await rule.getByRole('button', { name: 'Add a part' }).click();
    await rule.getByLabel('Part 2, choice 1').selectOption({ label: "Agent's signature" });
    await expect(rule.getByTestId('signature-rule-summary').textContent()).resolves.toBe(
      "Replies end with the mailbox's signature; then the agent's signature.",
    );
    await rule.getByRole('button', { name: 'Save rule' }).click();
    await rule.getByText('Saved').waitFor({ timeout: 30_000 });
    const stored = (await stack.admin.getSignatureRule({})).rule;
    expect(stored?.parts.map((part) => part.sources)).toEqual([
      [SignatureSource.SIGNATURE_SOURCE_MAILBOX],
      [SignatureSource.SIGNATURE_SOURCE_AGENT],
    ]);
    await page.locator('#replies-signatures').scrollIntoViewIfNeeded();
    await shots.take(page, 'signatures');
    expect(await sidewaysOverflowWhenNarrow(page)).toBe(0);
  });

  it("turns on the support mailbox's acknowledgement with an out-of-hours template and a period; a period out of range shows the API's error naming the field", async () => {
    const ackId = await createTemplate(
      TemplateKind.TEMPLATE_KIND_ACKNOWLEDGEMENT,
      'We got your mail',
      'Thanks, {{customer_name}}.',
    );
    const closedId = await createTemplate(TemplateKind.TEMPLATE_KIND_OUT_OF_HOURS, 'We are closed', 'We reply when we open.');
    await openReplies();
    const card = page.locator('[data-testid=acknowledgement][data-kind=mailbox]', { hasText: support });
    await card.waitFor({ timeout: 30_000 });
    const mailboxId = await supportMailboxId(card);
    await card.getByRole('checkbox').check();
    await card.getByLabel(/^Acknowledgement template of/).selectOption({ label: 'We got your mail' });
    await card.getByLabel(/^Out-of-hours template of/).selectOption({ label: 'We are closed' });
    await card.getByLabel(/^Period of/).fill('2');
    await card.getByLabel(/^Period unit of/).selectOption('hours');
    await card.getByRole('button', { name: 'Save' }).click();
    await card.getByText('Saved').waitFor({ timeout: 30_000 });
    const acknowledgement = (await stack.admin.getMailboxSettings({ mailboxId })).settings?.acknowledgement;
    expect(acknowledgement).toMatchObject({ enabled: true, templateId: ackId, outOfHoursTemplateId: closedId });
    expect(acknowledgement?.period?.seconds).toBe(7200);

    const saved = page.locator('[data-testid=acknowledgement][data-kind=mailbox]', { hasText: support });
    await saved.getByLabel(/^Period of/).fill('31');
    await saved.getByLabel(/^Period unit of/).selectOption('days');
    await saved.getByRole('button', { name: 'Save' }).click();
    const refusal = saved.locator('[data-testid=failure]');
    await refusal.waitFor({ timeout: 30_000 });
    expect(await refusal.textContent()).toMatch(/^Not saved: .*acknowledgement\.period/);
    await saved.scrollIntoViewIfNeeded();
    await shots.take(page, 'acknowledgements');
    expect((await stack.admin.getMailboxSettings({ mailboxId })).settings?.acknowledgement?.period?.seconds).toBe(7200);
  });
});
