import {
  createSandboxMailTenant,
  createSandboxTokenProvider,
  startTestGraphSandbox,
  type SandboxMailTenant,
} from '@mailroute/testing';
import { createGraphMailClient, type GraphMailClient, type MailboxGraph } from './graph-mail.client';
import { isGraphMailError } from './errors';
import type { GraphMessage } from './graph-mail.types';
import { createGraphSendClient } from './graph-send.client';
import { mailboxKey } from './mailbox-call';
import { createMailboxLimiter } from './mailbox-limiter';

type Started = Awaited<ReturnType<typeof startTestGraphSandbox>>;

describe('graph-mail against the graph sandbox', () => {
  let started: Started;
  let tenant: SandboxMailTenant;
  let client: GraphMailClient;
  const tenants = new Map<string, SandboxMailTenant>();

  beforeAll(async () => {
    started = await startTestGraphSandbox();
    tenant = await createSandboxMailTenant(started.endpoints, { mailboxCount: 4 });
    tenants.set('t1', tenant);
    client = createGraphMailClient({
      tokens: createSandboxTokenProvider(started.endpoints, tenants),
      limiter: createMailboxLimiter({ perMailbox: 3 }),
      deltaPageSize: 3,
    });
  });

  afterAll(async () => {
    await started.sandbox.stop();
  });

  const box = (i: number): MailboxGraph =>
    client.mailbox({
      tenantId: 't1',
      address: tenant.mailboxes[i] ?? '',
      principal: { kind: 'app-only', credentialsId: 'default' },
    });
  const deliver = (i: number, subject: string, extra: Record<string, unknown> = {}) =>
    started.endpoints.admin.deliver(tenant.directoryId, tenant.mailboxes[i] ?? '', {
      from: 'customer@example.org',
      subject,
      body: `body of ${subject}`,
      ...extra,
    });

  async function readRound(mailbox: MailboxGraph, link?: string) {
    const messages: GraphMessage[] = [];
    const removed: string[] = [];
    let page = link ? await mailbox.deltaPage(link) : await mailbox.deltaStart({ folderId: 'inbox' });
    let pages = 1;
    for (;;) {
      messages.push(...page.messages);
      removed.push(...page.removedIds);
      if (page.deltaLink) return { messages, removed, deltaLink: page.deltaLink, pages };
      page = await mailbox.deltaPage(page.nextLink ?? '');
      pages += 1;
    }
  }

  it('pages through a delta round, then sees only new mail and removals from the delta link', async () => {
    for (let i = 0; i < 7; i += 1) await deliver(0, `first ${i}`);
    const first = await readRound(box(0));
    expect(first.messages.map((m) => m.subject)).toEqual(Array.from({ length: 7 }, (_, i) => `first ${i}`));
    expect(first.pages).toBe(3);

    const fresh = await deliver(0, 'second');
    const gone = await deliver(0, 'to delete');
    await started.endpoints.admin.deleteMessage(tenant.directoryId, tenant.mailboxes[0] ?? '', gone.id);
    const second = await readRound(box(0), first.deltaLink);
    expect(second.messages.map((m) => m.subject)).toEqual(['second']);
    expect(second.messages[0]?.internetMessageId).toBe(fresh.internetMessageId);
    expect(second.removed).toHaveLength(1);
  });

  it('reports an expired delta link as resync-required', async () => {
    await deliver(1, 'one');
    const round = await readRound(box(1));
    await started.endpoints.admin.expireDeltaTokens(tenant.directoryId, tenant.mailboxes[1] ?? '');
    const error = await box(1)
      .deltaPage(round.deltaLink)
      .catch((e: unknown) => e);
    expect(isGraphMailError(error, 'resync-required')).toBe(true);
  });

  it('reads headers, body and attachments (as JSON, as raw content whole and streamed), marks read and moves into a created folder', async () => {
    await deliver(2, 'with parts', {
      headers: { 'Auto-Submitted': 'auto-replied', Precedence: 'bulk' },
      bodyType: 'html',
      body: '<p>Hello <b>there</b></p>',
      attachments: [{ name: 'a.txt', contentType: 'text/plain', contentBase64: Buffer.from('hello').toString('base64') }],
    });
    const round = await readRound(box(2));
    const id = round.messages[0]?.id ?? '';
    const message = await box(2).getMessage(id);
    expect(message.internetMessageHeaders?.find((h) => h.name.toLowerCase() === 'auto-submitted')?.value).toBe('auto-replied');
    expect(message.body?.contentType?.toLowerCase()).toBe('html');
    const attachments = await box(2).listAttachments(id);
    expect(attachments).toEqual([expect.objectContaining({ name: 'a.txt', size: expect.any(Number) })]);
    const content = await box(2).getAttachment(id, attachments[0]?.id ?? '');
    expect(Buffer.from(content.contentBytes ?? '', 'base64').toString()).toBe('hello');
    expect((await box(2).getAttachmentContent(id, attachments[0]?.id ?? '')).toString()).toBe('hello');
    const streamed = await box(2).streamAttachmentContent(id, attachments[0]?.id ?? '', async (chunks) => {
      const parts: Uint8Array[] = [];
      for await (const chunk of chunks) parts.push(chunk);
      return Buffer.concat(parts).toString();
    });
    expect(streamed).toBe('hello');

    await box(2).markRead(id);
    const target = await box(2).resolveFolderPath('Inbox/Processed/Done', true);
    expect(target?.displayName).toBe('Done');
    expect((await box(2).resolveFolderPath('inbox/processed/done', false))?.id).toBe(target?.id);
    await box(2).move(id, target?.id ?? '');
    const done = await started.endpoints.admin.folderMessages(tenant.directoryId, tenant.mailboxes[2] ?? '', target?.id ?? '');
    expect(done.value).toEqual([expect.objectContaining({ subject: 'with parts', isRead: true })]);
  });

  it("runs a mailbox's fence as the last step before each request: a refusal ends the call with the fence's own error and changes nothing", async () => {
    const sent = await deliver(3, 'fenced');
    let allow = true;
    const checks: number[] = [];
    const refusal = new Error('no longer the owner');
    const fenced = client.mailbox(
      { tenantId: 't1', address: tenant.mailboxes[3] ?? '', principal: { kind: 'app-only', credentialsId: 'default' } },
      {
        beforeRequest: () => {
          if (!allow) throw refusal;
          checks.push(Date.now());
        },
      },
    );
    const round = await readRound(fenced);
    expect(round.messages.map((m) => m.subject)).toEqual(['fenced']);
    expect(checks).toHaveLength(round.pages);

    allow = false;
    await expect(fenced.markRead(sent.id)).rejects.toBe(refusal);
    expect(checks).toHaveLength(round.pages);
    const inbox = await started.endpoints.admin.folderMessages(tenant.directoryId, tenant.mailboxes[3] ?? '', 'inbox');
    expect(inbox.value).toEqual([expect.objectContaining({ subject: 'fenced', isRead: false })]);
  });

  it('keeps to three concurrent requests per mailbox under latency, so the sandbox never throttles', async () => {
    for (let i = 0; i < 4; i += 1) await deliver(3, `slow ${i}`);
    const round = await readRound(box(3));
    const fault = await started.endpoints.admin.addFault({
      tenantId: tenant.directoryId,
      mailbox: tenant.mailboxes[3] ?? '',
      endpoint: 'messages.get',
      latency: { distribution: 'fixed', ms: 50 },
    });
    const before = (await started.endpoints.admin.stats(tenant.directoryId)).throttled;
    const ids = round.messages.map((m) => m.id);
    await Promise.all(Array.from({ length: 24 }, (_, i) => box(3).getMessage(ids[i % ids.length] ?? '')));
    await started.endpoints.admin.removeFault(fault.id);
    expect((await started.endpoints.admin.stats(tenant.directoryId)).throttled).toBe(before);
    expect(client.limiter.peakPerMailbox).toBeLessThanOrEqual(3);
  });

  it('waits out a 429 with Retry-After and then succeeds', async () => {
    await started.endpoints.admin.addFault({
      tenantId: tenant.directoryId,
      mailbox: tenant.mailboxes[3] ?? '',
      endpoint: 'mailFolders.*',
      status: 429,
      retryAfterSeconds: 1,
      times: 1,
    });
    const begun = Date.now();
    await expect(box(3).getFolder({ wellKnownName: 'Inbox' })).resolves.toMatchObject({ displayName: 'Inbox' });
    expect(Date.now() - begun).toBeGreaterThanOrEqual(900);
  });

  it('classifies a mailbox outside the application access policy and an unknown mailbox', async () => {
    await started.endpoints.admin.createAccessPolicy(tenant.directoryId, {
      appId: tenant.clientId,
      accessRight: 'DenyAccess',
      policyScopeGroupId: `denied@${tenant.domain}`,
      members: [tenant.mailboxes[1] ?? ''],
    });
    const denied = await box(1)
      .getFolder({ wellKnownName: 'inbox' })
      .catch((e: unknown) => e);
    expect(isGraphMailError(denied, 'outside-access-policy')).toBe(true);
    const unknown = await client
      .mailbox({ tenantId: 't1', address: `nobody@${tenant.domain}`, principal: { kind: 'app-only', credentialsId: 'default' } })
      .getFolder({ wellKnownName: 'inbox' })
      .catch((e: unknown) => e);
    expect(isGraphMailError(unknown, 'mailbox-not-found')).toBe(true);
  });

  it('makes one attempt of a send-side call on a 503 and on a 429 (pausing the mailbox for its Retry-After), where the mail client retries', async () => {
    const target = {
      tenantId: 't1',
      address: tenant.mailboxes[2] ?? '',
      principal: { kind: 'app-only' as const, credentialsId: 'default' },
    };
    const limiter = createMailboxLimiter({ perMailbox: 1 });
    const sender = createGraphSendClient({ tokens: createSandboxTokenProvider(started.endpoints, tenants), limiter }).mailbox(
      target,
    );
    const fault = { tenantId: tenant.directoryId, mailbox: target.address, endpoint: 'messages.create', times: 1 };
    await started.endpoints.admin.addFault({ ...fault, status: 503 });
    const unavailable = await sender.createDraft({ subject: 'once' }).catch((e: unknown) => e);
    expect(isGraphMailError(unavailable, 'unavailable')).toBe(true);
    await started.endpoints.admin.addFault({ ...fault, status: 429, retryAfterSeconds: 60 });
    const throttled = await sender.createDraft({ subject: 'once' }).catch((e: unknown) => e);
    expect(isGraphMailError(throttled, 'throttled')).toBe(true);
    expect(limiter.pausedUntil(mailboxKey(target))).toBeGreaterThan(Date.now() + 30_000);

    await started.endpoints.admin.addFault({ ...fault, endpoint: 'mailFolders.*', status: 503 });
    await expect(box(2).getFolder({ wellKnownName: 'Inbox' })).resolves.toMatchObject({ displayName: 'Inbox' });
  });
});
