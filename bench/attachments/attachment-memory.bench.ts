// Peak memory of moving one large attachment, held whole (how outbound-send and mailbox-fetch did it)
// against streamed (how they do it now), each case in a process of its own so that one case's garbage
// cannot count in another's figure:
// - outbound: a stored upload (FileBlobStore) attached to a draft through a Graph upload session
//   (graph-mail's MailboxSender.addAttachment); "whole" reads the blob into one Buffer first, as
//   outbound-send's readBlob did; "streamed" passes the blob as StreamedAttachmentContent;
// - inbound: an attachment fetched from Graph (`…/$value`) into the blob store; "whole" is
//   getAttachmentContent's Buffer put into the store, "streamed" is streamAttachmentContent → put.
// The graph sandbox runs in the parent process, so the figures are the client side's only.
// Reported: the peak RSS above the RSS before the transfer (sampled every 10 ms).
// Run: npx nx run bench:attachment-memory. Env: BENCH_OUTBOUND_MB (default 100), BENCH_INBOUND_MB (40).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createGraphMailClient, createGraphSendClient, type StreamedAttachmentContent } from '@mailroute/graph-mail';
import { GraphSandboxAdminClient, trustCertificateAuthority, type GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import { FileBlobStore } from '@mailroute/persistence';
import {
  createSandboxMailTenant,
  createSandboxTokenProvider,
  startTestGraphSandbox,
  type SandboxMailTenant,
} from '@mailroute/testing';

type Case = 'outbound-whole' | 'outbound-streamed' | 'inbound-whole' | 'inbound-streamed';
const cases: Case[] = ['outbound-whole', 'outbound-streamed', 'inbound-whole', 'inbound-streamed'];
const outboundBytes = Number(process.env['BENCH_OUTBOUND_MB'] ?? 100) * 1_048_576;
const inboundBytes = Number(process.env['BENCH_INBOUND_MB'] ?? 40) * 1_048_576;

/** The old way: the whole content in one Buffer. */
async function whole(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

/** Samples this process's RSS while `work` runs; the peak above the RSS at the start, in MiB. */
async function peakRssAbove(work: () => Promise<void>): Promise<number> {
  globalThis.gc?.();
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  return (peak - start) / 1_048_576;
}

type SandboxAddresses = Omit<GraphSandboxEndpoints, 'admin' | 'subscriptions' | 'demo'>;

async function runCase(which: Case, sandbox: SandboxAddresses): Promise<void> {
  trustCertificateAuthority(sandbox.caCertPem);
  const endpoints = { ...sandbox, admin: new GraphSandboxAdminClient(sandbox.adminUrl) } as unknown as GraphSandboxEndpoints;
  const tenant = await createSandboxMailTenant(endpoints, { mailboxCount: 1 });
  const tokens = createSandboxTokenProvider(endpoints, new Map<string, SandboxMailTenant>([['t1', tenant]]));
  const target = {
    tenantId: 't1',
    address: tenant.mailboxes[0] ?? '',
    principal: { kind: 'app-only' as const, credentialsId: 'default' },
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'attachment-memory-'));
  try {
    const blobs = new FileBlobStore({ directory: dir });
    if (which.startsWith('outbound')) {
      // The upload as the router stores it, written in 1 MiB pieces.
      const piece = randomBytes(1_048_576);
      await blobs.put(
        'upload',
        (async function* () {
          for (let written = 0; written < outboundBytes; written += piece.length) yield piece;
        })(),
        { name: 'big.bin', contentType: 'application/octet-stream' },
      );
      const sender = createGraphSendClient({ tokens, requestTimeoutMs: 120_000 }).mailbox(target);
      const draft = await sender.createDraft({ subject: 'attachment memory', body: { contentType: 'text', content: 'x' } });
      const mib = await peakRssAbove(async () => {
        const content: Buffer | StreamedAttachmentContent =
          which === 'outbound-whole'
            ? await whole(blobs.read('upload'))
            : { sizeBytes: outboundBytes, read: () => blobs.read('upload') };
        await sender.addAttachment(draft.id, {
          name: 'big.bin',
          contentType: 'application/octet-stream',
          content,
          isInline: false,
        });
      });
      process.stdout.write(`${JSON.stringify({ which, mib, mb: outboundBytes / 1_048_576 })}\n`);
      return;
    }
    const content = randomBytes(inboundBytes);
    await endpoints.admin.deliver(tenant.directoryId, target.address, {
      from: 'customer@example.org',
      subject: 'big attachment',
      body: 'see attached',
      attachments: [{ name: 'big.bin', contentType: 'application/octet-stream', contentBase64: content.toString('base64') }],
    });
    const mailbox = createGraphMailClient({ tokens, requestTimeoutMs: 120_000 }).mailbox(target);
    const [message] = (await mailbox.deltaStart({ folderId: 'inbox' })).messages;
    const [attachment] = await mailbox.listAttachments(message?.id ?? '');
    const ids = [message?.id ?? '', attachment?.id ?? ''] as const;
    const expected = createHash('sha256').update(content).digest('hex');
    content.fill(0);
    let stored = '';
    const mib = await peakRssAbove(async () => {
      const info =
        which === 'inbound-whole'
          ? await blobs.put('inbound', await mailbox.getAttachmentContent(...ids), { name: 'big.bin', contentType: '' })
          : await mailbox.streamAttachmentContent(...ids, (stream) =>
              blobs.put('inbound', stream, { name: 'big.bin', contentType: '' }),
            );
      stored = info.sha256;
    });
    if (stored !== expected) throw new Error(`${which}: the stored content differs from the delivered one`);
    process.stdout.write(`${JSON.stringify({ which, mib, mb: inboundBytes / 1_048_576 })}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const which = process.env['BENCH_CASE'] as Case | undefined;
  if (which) return runCase(which, JSON.parse(process.env['BENCH_SANDBOX'] ?? '{}') as SandboxAddresses);
  const { sandbox, endpoints } = await startTestGraphSandbox();
  try {
    const { admin: _admin, subscriptions: _subscriptions, demo: _demo, ...addresses } = endpoints;
    const lines: string[] = [];
    for (const each of cases) {
      // Asynchronous: the sandbox answers from this process meanwhile.
      const child = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const started = spawn(process.execPath, [...process.execArgv, '--expose-gc', __filename], {
          env: {
            ...process.env,
            BENCH_CASE: each,
            BENCH_SANDBOX: JSON.stringify(addresses),
            NODE_EXTRA_CA_CERTS: endpoints.caCertPath,
          },
        });
        let stdout = '';
        let stderr = '';
        started.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
        started.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
        started.on('close', (status) => resolve({ status, stdout, stderr }));
      });
      if (child.status !== 0) throw new Error(`${each} failed:\n${child.stderr}`);
      const result = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as { which: Case; mib: number; mb: number };
      lines.push(
        `  ${result.which.padEnd(18)} ${String(result.mb).padStart(4)} MiB attachment: peak RSS +${result.mib.toFixed(1)} MiB`,
      );
    }
    process.stdout.write(`attachment memory (client side; the sandbox runs in the parent process)\n${lines.join('\n')}\n`);
  } finally {
    await sandbox.stop();
  }
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
