import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { hashBearerCredential } from '@mailroute/platform';
import { randomId, startServiceProcess, testInfra, type ServiceProcess } from '@mailroute/testing';
import { runCli } from './cli';

// The CLI's acknowledgement, signature and template attachment commands against the real router
// (a process on the shared Kafka and FerretDB, gRPC over a socket).

describe('acknowledgement, signature and template attachment commands against the router', () => {
  const tenantId = randomId('cli-reply');
  const apiKey = `mrk_${randomBytes(24).toString('base64url')}`;
  const dir = mkdtempSync(path.join(tmpdir(), 'mailroute-cli-reply-'));
  let router: ServiceProcess;
  const env: Record<string, string> = { MAILROUTE_API_KEY: apiKey, INIT_CWD: dir };

  async function mailroute(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const stdin = new PassThrough();
    stdin.end('');
    const code = await runCli(argv, {
      stdout: (text) => out.push(text),
      stderr: (text) => err.push(text),
      stdin,
      env,
      signal: new AbortController().signal,
    });
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  }

  beforeAll(async () => {
    router = startServiceProcess('apps/interaction-router/src/main.ts', {
      GRPC_PORT: '0',
      LOG_LEVEL: 'info',
      ROUTER_MONGODB_URL: testInfra().mongoUrl,
      ROUTER_MONGODB_DATABASE: randomId('cli-reply-router'),
      ROUTER_KAFKA_BROKERS: testInfra().kafkaBrokers.join(','),
      ROUTER_API_KEYS: `cli:${tenantId}:routing.read+routing.write:${hashBearerCredential(apiKey)}`,
      ROUTER_METRICS_PORT: '0',
    });
    env['MAILROUTE_ROUTER'] = `127.0.0.1:${await router.port()}`;
  }, 180_000);

  afterAll(async () => {
    await router?.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('sets and shows acknowledgements per queue and per mailbox, refusing a template of the wrong kind by field', async () => {
    expect(await mailroute('queue', 'create', 'support', '--name', 'Support')).toMatchObject({ code: 0 });
    for (const [id, kind] of [
      ['thanks', 'acknowledgement'],
      ['closed', 'out-of-hours'],
    ] as const)
      expect(
        await mailroute('template', 'create', id, '--name', id, '--kind', kind, '--text', 'Thanks, {{customer_name}}.'),
      ).toMatchObject({ code: 0 });
    const wrong = await mailroute('acknowledgement', 'set', '--queue', 'support', '--template', 'closed');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('queue.acknowledgement.template_id');
    expect(await mailroute('acknowledgement', 'set', '--queue', 'support', '--mailbox', 'm')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('give exactly one of --queue, --mailbox'),
    });

    const queue = await mailroute(
      'acknowledgement',
      'set',
      '--queue',
      'support',
      '--template',
      'thanks',
      '--out-of-hours',
      'closed',
      '--period',
      '2h',
      '--reference-prefix',
      'SUP',
    );
    expect(queue).toMatchObject({ code: 0, stderr: '' });
    expect(queue.stdout).toMatch(/template:\s+thanks/);
    expect(queue.stdout).toMatch(/out of hours:\s+closed/);
    expect(queue.stdout).toMatch(/period:\s+2h00m/);
    expect(queue.stdout).toMatch(/reference prefix:\s+SUP/);

    expect(await mailroute('acknowledgement', 'show', '--mailbox', 'inbox')).toMatchObject({
      code: 0,
      stdout: 'mailbox inbox: no acknowledgements',
    });
    expect(await mailroute('acknowledgement', 'set', '--mailbox', 'inbox', '--template', 'thanks')).toMatchObject({ code: 0 });
    const shown = await mailroute('--json', 'acknowledgement', 'show', '--mailbox', 'inbox');
    expect(JSON.parse(shown.stdout)).toMatchObject({
      mailbox: 'inbox',
      acknowledgement: { enabled: true, templateId: 'thanks' },
    });
    // Searching by reference: none given out yet in this tenant; a malformed one names the field.
    expect(await mailroute('interaction', 'search', '--reference', '[#SUP-12]')).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^INTERACTION\s+STATE/),
    });
    const badReference = await mailroute('interaction', 'search', '--reference', 'nope');
    expect(badReference.code).toBe(1);
    expect(badReference.stderr).toContain('filter.reference');
    expect(await mailroute('acknowledgement', 'set', '--queue', 'support', '--off')).toMatchObject({
      code: 0,
      stdout: 'queue support: no acknowledgements',
    });
  });

  it('sets signatures per agent, queue and mailbox and the rule that picks among them, and lists them', async () => {
    expect(await mailroute('queue', 'create', 'billing', '--name', 'Billing')).toMatchObject({ code: 0 });
    expect(
      await mailroute('agent', 'create', 'ann', '--name', 'Ann', '--upn', 'ann@contoso.example', '--queue', 'billing'),
    ).toMatchObject({ code: 0 });
    for (const id of ['ann-sig', 'team-sig', 'box-sig'])
      expect(await mailroute('template', 'create', id, '--name', id, '--kind', 'signature', '--text', id)).toMatchObject({
        code: 0,
      });
    expect(await mailroute('signature', 'set', 'ann-sig', '--agent', 'ann')).toMatchObject({ code: 0 });
    expect(await mailroute('signature', 'set', 'team-sig', '--queue', 'billing')).toMatchObject({ code: 0 });
    expect(await mailroute('signature', 'set', 'box-sig', '--mailbox', 'inbox')).toMatchObject({
      code: 0,
      stdout: 'mailbox inbox: signature box-sig',
    });
    const refused = await mailroute('signature', 'set', 'ann-sig', '--queue', 'nope');
    expect(refused.code).toBe(1);

    expect(await mailroute('signature', 'rule', 'show')).toMatchObject({ code: 0, stdout: 'rule: agent|queue|mailbox' });
    expect(await mailroute('signature', 'rule', 'set', 'agent', 'queue|mailbox')).toMatchObject({
      code: 0,
      stdout: 'rule: agent, then queue|mailbox',
    });
    const twice = await mailroute('signature', 'rule', 'set', 'agent', 'agent');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('rule.parts[1].sources[0]');
    expect(await mailroute('signature', 'rule', 'set', 'robot')).toMatchObject({ code: 2 });

    const listed = await mailroute('signature', 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('rule: agent, then queue|mailbox');
    expect(listed.stdout).toMatch(/agent\s+ann\s+ann-sig/);
    expect(listed.stdout).toMatch(/queue\s+billing\s+team-sig/);
    expect(listed.stdout).toMatch(/mailbox\s+inbox\s+box-sig/);
    expect(await mailroute('signature', 'set', '--mailbox', 'inbox', '--none')).toMatchObject({
      code: 0,
      stdout: 'mailbox inbox: no signature',
    });
    expect(await mailroute('signature', 'rule', 'set', '--none')).toMatchObject({ code: 0, stdout: 'rule: no signatures' });
  });

  it('uploads a template attachment from a file, lists it on a template, and refuses a file whose content is not its type', async () => {
    writeFileSync(path.join(dir, 'terms.pdf'), Buffer.concat([Buffer.from('%PDF-1.5\n'), randomBytes(3000)]));
    writeFileSync(path.join(dir, 'fake.pdf'), 'not a pdf at all');
    const fake = await mailroute('template', 'attachment', 'upload', 'fake.pdf');
    expect(fake.code).toBe(1);
    expect(fake.stderr).toContain('metadata.content_type');
    const uploaded = await mailroute('--json', 'template', 'attachment', 'upload', 'terms.pdf');
    expect(uploaded.code).toBe(0);
    const uploadId = (JSON.parse(uploaded.stdout) as { upload: { uploadId: string } }).upload.uploadId;
    const created = await mailroute(
      'template',
      'create',
      'terms',
      '--name',
      'Terms',
      '--text',
      'Attached.',
      '--attach',
      uploadId,
    );
    expect(created).toMatchObject({ code: 0 });
    expect(created.stdout).toContain(`terms.pdf (${uploadId}, 3009 bytes)`);
    const inUse = await mailroute('template', 'attachment', 'list');
    expect(inUse.code).toBe(0);
    expect(inUse.stdout).toMatch(new RegExp(`${uploadId}\\s+terms\\.pdf\\s+application/pdf\\s+3009\\s+terms$`, 'm'));
    expect((await mailroute('template', 'attachment', 'delete', uploadId)).code).toBe(1);
    expect(await mailroute('template', 'delete', 'terms')).toMatchObject({ code: 0 });
    // No template lists it any more: it is deleted 48 hours on unless one does by then.
    const unlisted = await mailroute('template', 'attachment', 'list');
    expect(unlisted.stdout).toMatch(new RegExp(`${uploadId}\\s+terms\\.pdf .*none: deleted \\d{4}-\\d\\d-\\d\\dT`));
    expect(await mailroute('template', 'attachment', 'delete', uploadId)).toMatchObject({ code: 0 });
    expect((await mailroute('template', 'attachment', 'list')).stdout).not.toContain(uploadId);
  });
});
