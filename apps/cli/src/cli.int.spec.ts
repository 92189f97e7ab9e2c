import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { inboundAttachmentBlobKey, MongoBlobStore, MongoStore } from '@mailroute/persistence';
import { hashBearerCredential } from '@mailroute/platform';
import type { GraphSandbox, GraphSandboxEndpoints } from '@mailroute/graph-sandbox';
import {
  createSandboxMailTenant,
  randomId,
  startServiceProcess,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  workspaceRoot,
  type SandboxMailTenant,
  type ServiceProcess,
} from '@mailroute/testing';

/**
 * The `mailroute` CLI as an operator and an agent use it: a real child process per command, against
 * auth-broker, mailbox-fetch and interaction-router running as real processes (embedded stores for
 * the first two, FerretDB for the router), a Kafka broker of this suite's own (the router's inbound
 * consumer group is fixed, so a shared broker would hand this suite's e-mail to other suites'
 * routers), and the graph sandbox as Entra ID and Graph over HTTPS.
 */

interface TestInfraModule {
  startKafka(options?: {
    log?: (line: string) => void;
  }): Promise<{ pid: number; brokers: string; runDir: string | null; dataDir: string }>;
  stopProcess(pid: number, options?: { timeoutMs?: number }): Promise<unknown>;
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const cliEntry = path.join(workspaceRoot, 'apps', 'cli', 'src', 'main.ts');

function spawnCli(args: string[], env: Record<string, string>): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', cliEntry, ...args], {
    cwd: workspaceRoot,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '',
      TSX_TSCONFIG_PATH: path.join(workspaceRoot, 'tsconfig.base.json'),
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

describe('mailroute CLI against real services', () => {
  let sandbox: GraphSandbox;
  let endpoints: GraphSandboxEndpoints;
  let tenant: SandboxMailTenant;
  let desktopClientId: string;
  let agentUpn: string;
  let kafka: { pid: number; brokers: string; runDir: string | null; dataDir: string } | undefined;
  let infra: TestInfraModule;
  const services: ServiceProcess[] = [];
  const tenantId = randomId('cli');
  const routerDatabase = randomId('cli-router');
  const apiKey = `mrk_${randomBytes(24).toString('base64url')}`;
  const stateDir = mkdtempSync(path.join(tmpdir(), 'mailroute-cli-'));
  const cliEnv: Record<string, string> = { MAILROUTE_API_KEY: apiKey };

  const mailroute = (args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> =>
    new Promise((resolve) => {
      const child = spawnCli(args, { ...cliEnv, ...options.env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdin.end(options.stdin ?? '');
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
    });

  beforeAll(async () => {
    infra = (await import(pathToFileURL(path.join(workspaceRoot, 'tools', 'test-infra', 'index.mjs')).href)) as TestInfraModule;
    ({ sandbox, endpoints } = await startTestGraphSandbox({ deviceCodeIntervalSeconds: 1 }));
    const brokerStarting = infra.startKafka({ log: () => undefined });
    const hash = hashBearerCredential(apiKey);
    const serviceToken = randomBytes(24).toString('base64url');
    const common = { GRPC_PORT: '0', LOG_LEVEL: 'info', NODE_EXTRA_CA_CERTS: endpoints.caCertPath };
    // auth-broker needs neither Kafka nor FerretDB: it starts while the broker does.
    const authBroker = startServiceProcess('apps/auth-broker/src/main.ts', {
      ...common,
      AUTH_BROKER_EMBEDDED_PATH: path.join(stateDir, 'auth-broker.db'),
      AUTH_BROKER_API_KEYS: `cli:${tenantId}:credentials.read+credentials.write:${hash}`,
      AUTH_BROKER_SERVICE_TOKENS: `mailbox-fetch:${hashBearerCredential(serviceToken)}`,
      AUTH_BROKER_ALLOWED_CLOUD_ORIGINS: endpoints.baseUrl,
      AUTH_BROKER_METRICS_PORT: '0',
    });
    services.push(authBroker);
    tenant = await createSandboxMailTenant(endpoints, { mailboxCount: 1 });
    const desktop = await endpoints.admin.createApp(tenant.directoryId, {
      displayName: 'mailroute desktop',
      delegatedPermissions: ['User.Read'],
      allowPublicClient: true,
      grantAdminConsent: true,
    });
    desktopClientId = desktop.clientId;
    agentUpn = `anna@${tenant.domain}`;
    await endpoints.admin.createMailbox(tenant.directoryId, { userPrincipalName: agentUpn, displayName: 'Anna Agent' });
    kafka = await brokerStarting;
    const broker = kafka;

    const router = startServiceProcess('apps/interaction-router/src/main.ts', {
      ...common,
      ROUTER_MONGODB_URL: testInfra().mongoUrl,
      ROUTER_MONGODB_DATABASE: routerDatabase,
      ROUTER_KAFKA_BROKERS: broker.brokers,
      ROUTER_API_KEYS: `cli:${tenantId}:routing.read+routing.write:${hash}`,
      ROUTER_AGENT_DIRECTORIES: `${tenantId}:${tenant.directoryId}`,
      ROUTER_AGENT_AUDIENCE: desktopClientId,
      ROUTER_AGENT_AUTHORITY: endpoints.baseUrl,
      ROUTER_METRICS_PORT: '0',
    });
    services.push(router);
    const authBrokerPort = await authBroker.port();
    const mailboxFetch = startServiceProcess('apps/mailbox-fetch/src/main.ts', {
      ...common,
      MAILBOX_FETCH_EMBEDDED_PATH: path.join(stateDir, 'mailbox-fetch.db'),
      MAILBOX_FETCH_KAFKA_BROKERS: broker.brokers,
      MAILBOX_FETCH_AUTH_BROKER_ADDRESS: `127.0.0.1:${authBrokerPort}`,
      MAILBOX_FETCH_AUTH_BROKER_TOKEN: serviceToken,
      MAILBOX_FETCH_API_KEYS: `cli:${tenantId}:mailboxes.read+mailboxes.write:${hash}`,
      MAILBOX_FETCH_METRICS_PORT: '0',
      MAILBOX_FETCH_SCAN_INTERVAL_MS: '500',
      MAILBOX_FETCH_POLL_INTERVAL_CAP_MS: '1000',
    });
    services.push(mailboxFetch);
    cliEnv['MAILROUTE_AUTH_BROKER'] = `127.0.0.1:${authBrokerPort}`;
    const [fetchPort, routerPort] = await Promise.all([mailboxFetch.port(), router.port()]);
    cliEnv['MAILROUTE_MAILBOX_FETCH'] = `127.0.0.1:${fetchPort}`;
    cliEnv['MAILROUTE_ROUTER'] = `127.0.0.1:${routerPort}`;
  }, 180_000);

  afterAll(async () => {
    await Promise.all(services.map((service) => service.stop('SIGTERM')));
    await sandbox?.stop();
    if (kafka) await infra.stopProcess(kafka.pid);
    if (kafka) rmSync(kafka.runDir ?? kafka.dataDir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  it('stores credentials read from stdin, never echoing the secret, and diagnoses the tenant healthy', async () => {
    const added = await mailroute(
      [
        'credentials',
        'add',
        '--directory',
        tenant.directoryId,
        '--client-id',
        tenant.clientId,
        '--client-secret-stdin',
        '--secret-expires',
        '+365d',
        '--cloud',
        'custom',
        '--authority-host',
        endpoints.baseUrl,
        '--graph-endpoint',
        endpoints.baseUrl,
        '--name',
        'CLI test',
      ],
      { stdin: `${tenant.clientSecret}\n` },
    );
    expect(added).toMatchObject({ code: 0, stderr: '' });
    expect(added.stdout).toMatch(/state:\s+UNVERIFIED/);
    expect(added.stdout).toContain('client secret (stored, never shown)');
    expect(added.stdout + added.stderr).not.toContain(tenant.clientSecret);

    const diagnosed = await mailroute(['tenant', 'diagnose']);
    expect(diagnosed.stdout).toContain('tenant credentials "default": HEALTHY');
    expect(diagnosed.stdout).toMatch(/PASSED\s+TOKEN_ACQUIRED/);
    expect(diagnosed.stdout).toMatch(/PASSED\s+PERMISSION_MAIL_SEND/);
    expect(diagnosed.code).toBe(0);

    const listed = await mailroute(['credentials', 'list', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({
      credentials: [{ credentialsId: 'default', clientId: tenant.clientId, state: 'CREDENTIAL_STATE_VALID' }],
    });
  });

  it('shows refusals as the gRPC status with the field named, the mailroute-error-code trailer and a hint, exit code 1, and no stack trace', async () => {
    const invalid = await mailroute(['queue', 'create', 'too-quick', '--name', 'Too quick', '--offer-timeout', '5s']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(
      /^error: INVALID_ARGUMENT from interaction-router \(127\.0\.0\.1:\d+\): queue\.offer_timeout: /,
    );
    expect(invalid.stderr).not.toMatch(/\n\s+at /);

    const noCredentials = await mailroute(['mailbox', 'sign-in', `owner@${tenant.domain}`, '--credentials', 'missing']);
    expect(noCredentials.code).toBe(1);
    expect(noCredentials.stderr).toMatch(
      /^error: FAILED_PRECONDITION from auth-broker \(127\.0\.0\.1:\d+\): tenant credentials "missing": /,
    );
    expect(noCredentials.stderr).toContain('\n  mailroute-error-code: DIAGNOSTIC_CODE_CREDENTIALS_NOT_FOUND');

    const wrongKey = await mailroute(['mailbox', 'list'], { env: { MAILROUTE_API_KEY: 'mrk_not-a-key' } });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('error: UNAUTHENTICATED from mailbox-fetch');
    expect(wrongKey.stderr).toContain('hint: set the API key with --api-key or MAILROUTE_API_KEY');
  });

  it('sets up a queue, a rule and an agent, adds the mailbox with its diagnosis, and names the setup step for a mailbox outside the access policy', async () => {
    const queue = await mailroute([
      'queue',
      'create',
      'support',
      '--name',
      'Support',
      '--offer-timeout',
      '2m',
      '--sl-threshold',
      '1h',
      '--sl-target',
      '90',
    ]);
    expect(queue).toMatchObject({ code: 0, stderr: '' });
    expect(queue.stdout).toContain('queue support created (LONGEST_IDLE, offer timeout 2m)');

    const rule = await mailroute([
      'rule',
      'create',
      'support-mail',
      '--name',
      'Support mailbox',
      '--mailbox',
      'support',
      '--queue',
      'support',
      '--priority',
      '200',
      '--tag',
      'cli',
    ]);
    expect(rule).toMatchObject({ code: 0, stderr: '' });
    expect(rule.stdout).toMatch(/^rule support-mail created: mailbox support → support p200 tags cli$/m);

    const agent = await mailroute([
      'agent',
      'create',
      'anna',
      '--name',
      'Anna Agent',
      '--upn',
      agentUpn,
      '--queue',
      'support',
      '--capacity',
      '3',
    ]);
    expect(agent).toMatchObject({ code: 0, stderr: '' });

    const mailbox = await mailroute([
      'mailbox',
      'add',
      tenant.mailboxes[0] ?? '',
      '--id',
      'support',
      '--default-queue',
      'support',
      '--backfill-days',
      '1',
      '--diagnose',
    ]);
    expect(mailbox.stderr).toBe('');
    expect(mailbox.stdout).toMatch(new RegExp(`^address:\\s+${(tenant.mailboxes[0] ?? '').replaceAll('.', '\\.')}$`, 'm'));
    expect(mailbox.stdout).toContain(`mailbox ${tenant.mailboxes[0] ?? ''}: HEALTHY`);
    expect(mailbox.stdout).toMatch(/PASSED\s+MAILBOX_READ_ACCESS/);
    expect(mailbox.code).toBe(0);

    // Exchange scoping as the real-tenant guide sets it up: the app may only open the routed mailbox.
    await endpoints.admin.createAccessPolicy(tenant.directoryId, {
      appId: tenant.clientId,
      accessRight: 'RestrictAccess',
      policyScopeGroupId: `routed@${tenant.domain}`,
      members: [tenant.mailboxes[0] ?? ''],
    });
    const outside = await mailroute(['mailbox', 'diagnose', '--address', agentUpn]);
    expect(outside.code).toBe(3);
    expect(outside.stdout).toContain(`mailbox ${agentUpn}: FAILED`);
    expect(outside.stdout).toMatch(/FAILED\s+MAILBOX_READ_ACCESS\s+MAILBOX_OUTSIDE_ACCESS_POLICY/);
    expect(outside.stdout).toContain('setup step: SCOPE_MAILBOX_ACCESS (docs/real-tenant.md)');
  });

  it('tenant diagnose reads the routed mailboxes and names the cause and remedy per mailbox', async () => {
    // tenant diagnose reads the routed mailboxes mailbox-fetch knows (here: support, inside the policy) …
    const routed = await mailroute(['tenant', 'diagnose', '--json']);
    expect(JSON.parse(routed.stdout).diagnosis.findings).toContainEqual(
      expect.objectContaining({ check: 'DIAGNOSTIC_CHECK_MAILBOX_READ_ACCESS', details: { mailbox: tenant.mailboxes[0] } }),
    );
    // … and names the cause and remedy of each mailbox it is told to check.
    const both = await mailroute(['tenant', 'diagnose', '--mailboxes', `${tenant.mailboxes[0] ?? ''},${agentUpn}`]);
    expect(both.code).toBe(3);
    expect(both.stdout).toMatch(/FAILED\s+MAILBOX_READ_ACCESS\s+MAILBOX_OUTSIDE_ACCESS_POLICY/);
    expect(both.stdout).toContain(`remedy: Setup step "Scope mailbox access"`);
    expect(both.stdout).toContain(`Test-ApplicationAccessPolicy -Identity ${agentUpn} -AppId ${tenant.clientId}`);
  });

  it('agent mode: signs in with a device code, is offered the e-mail delivered to the mailbox, accepts, replies and completes it', async () => {
    // An 8 s deadline for the agent's unary calls: the stream must outlive it (it has none).
    const agent = spawnCli(
      [
        'agent',
        'connect',
        '--json',
        '--heartbeat',
        '5s',
        '--authority',
        endpoints.baseUrl,
        '--directory',
        tenant.directoryId,
        '--client-id',
        desktopClientId,
      ],
      {
        ...cliEnv,
        MAILROUTE_TIMEOUT: '8s',
        NODE_EXTRA_CA_CERTS: endpoints.caCertPath,
      },
    );
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    let pending = '';
    agent.stdout.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const line of complete) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    agent.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => agent.on('exit', (code) => resolve(code)));
    const line = <T>(pick: (entry: Record<string, unknown>) => T | undefined, description: string) =>
      waitFor(() => lines.map(pick).find((value) => value !== undefined), {
        timeoutMs: 60_000,
        intervalMs: 100,
        description: description,
      }).catch((error: unknown) => {
        throw new Error(
          `${String(error)}\nagent stdout: ${JSON.stringify(lines)}\nagent stderr: ${stderr}\nrouter: ${services[1]?.output.slice(-15).join('\n') ?? ''}`,
        );
      });
    try {
      const userCode = await waitFor(() => /enter the code ([A-Z0-9]+)/.exec(stderr)?.[1], {
        timeoutMs: 30_000,
        description: 'the device-code prompt',
      });
      await endpoints.admin.approveDeviceCode(userCode, agentUpn);
      const connectedAt = await line(
        (entry) =>
          (entry['event'] as { snapshot?: unknown } | undefined)?.snapshot
            ? Date.parse((entry['event'] as { sentAt: string }).sentAt)
            : undefined,
        'the snapshot',
      );

      const subject = `Order ${randomBytes(3).toString('hex')} arrived damaged`;
      const photo = `a photo of the crushed box ${randomBytes(4).toString('hex')}`;
      await endpoints.admin.deliver(tenant.directoryId, tenant.mailboxes[0] ?? '', {
        from: { address: 'carol@customer.example', name: 'Carol' },
        subject,
        body: 'The box was crushed. Can you send a new one?',
        attachments: [{ name: 'photo.txt', contentType: 'text/plain', contentBase64: Buffer.from(photo).toString('base64') }],
      });

      type OfferEvent = { offerId: string; interaction: { interactionId: string; subject: string; queueId: string } };
      const offer = await line((entry) => (entry['event'] as { offer?: OfferEvent } | undefined)?.offer, 'an offer');
      expect(offer.interaction).toMatchObject({ subject, queueId: 'support' });
      const interactionId = offer.interaction.interactionId;

      agent.stdin.write(`accept ${offer.offerId.slice(0, 8)}\n`);
      const accepted = await line(
        (entry) => (entry['result'] as { interaction?: { interactionId: string; state: string } } | undefined)?.interaction,
        'the accept result',
      );
      expect(accepted).toMatchObject({ interactionId, state: 'INTERACTION_STATE_ASSIGNED' });

      agent.stdin.write(`reply ${interactionId} We are sending a replacement today.\n`);
      const reply = await line(
        (entry) =>
          (entry['result'] as { sendId?: string; state?: string } | undefined)?.sendId
            ? (entry['result'] as { sendId: string; state: string })
            : undefined,
        'the reply result',
      );
      expect(reply.state).toBe('SEND_STATE_ACCEPTED');

      // The thread as the agent sees it: the customer's message and the reply just recorded.
      agent.stdin.write('show\n');
      const thread = await line((entry) => (entry['result'] as { messages?: unknown[] } | undefined)?.messages, 'the thread');
      expect(JSON.stringify(thread)).toContain('The box was crushed. Can you send a new one?');
      expect(JSON.stringify(thread)).toContain('We are sending a replacement today.');

      agent.stdin.write('complete resolved\n');
      const completed = await line(
        (entry) =>
          (entry['result'] as { interaction?: { state: string } } | undefined)?.interaction?.state ===
          'INTERACTION_STATE_COMPLETED'
            ? true
            : undefined,
        'the complete result',
      );
      expect(completed).toBe(true);
      await line(
        (entry) =>
          (entry['event'] as { heartbeat?: unknown; sentAt?: string } | undefined)?.heartbeat &&
          Date.parse((entry['event'] as { sentAt: string }).sentAt) >= connectedAt + 9_000
            ? true
            : undefined,
        'a heartbeat after the unary deadline',
      );
      agent.stdin.end();
      expect(await exited).toBe(0);
      expect(stderr).not.toMatch(/^error:/m);

      // The workload manager's view of the same interaction, through the CLI.
      const search = await mailroute(['interaction', 'search', '--customer', 'carol@customer.example', '--state', 'completed']);
      expect(search.code).toBe(0);
      expect(search.stdout).toContain(interactionId);
      expect(search.stdout).toMatch(/COMPLETED\s+support\s+anna\s+carol@customer\.example/);

      const shown = await mailroute(['interaction', 'show', interactionId]);
      expect(shown).toMatchObject({ code: 0, stderr: '' });
      expect(shown.stdout).toMatch(/^state:\s+COMPLETED$/m);
      expect(shown.stdout).toMatch(/^subject:\s+Order [0-9a-f]+ arrived damaged$/m);

      // The supervisor saves the customer's attachment: its ids are listed with the thread.
      const shownThread = await mailroute(['interaction', 'show', interactionId, '--messages']);
      const [, graphMessageId = '', attachmentId = ''] =
        /^attachment (\S+) (\S+): photo\.txt \(\d+ bytes\)$/m.exec(shownThread.stdout) ?? [];
      expect(attachmentId).not.toBe('');
      // mailbox-fetch stored the content in its own (embedded) blob directory; with FerretDB the router reads the
      // GridFS bucket, where a mailbox-fetch on the same database puts it: played here.
      const store = await MongoStore.connect({ url: testInfra().mongoUrl, database: routerDatabase, appName: 'cli-test' });
      await new MongoBlobStore(store, 'attachments')
        .put(inboundAttachmentBlobKey(tenantId, graphMessageId, attachmentId), Buffer.from(photo), {
          name: 'photo.txt',
          contentType: 'text/plain',
        })
        .finally(() => store.close());
      const saved = path.join(stateDir, 'photo.txt');
      const download = await mailroute([
        'interaction',
        'attachment',
        interactionId,
        graphMessageId,
        attachmentId,
        '--out',
        saved,
      ]);
      expect(download).toMatchObject({ code: 0, stderr: '' });
      expect(download.stdout).toMatch(/^name:\s+photo\.txt$/m);
      expect(download.stdout).toMatch(new RegExp(`^size:\\s+${Buffer.byteLength(photo)} bytes$`, 'm'));
      expect(readFileSync(saved, 'utf8')).toBe(photo);
      const again = await mailroute(['interaction', 'attachment', interactionId, graphMessageId, attachmentId, '--out', saved]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`cannot create ${saved}: EEXIST`);
      const unknown = await mailroute([
        'interaction',
        'attachment',
        interactionId,
        graphMessageId,
        'no-such-attachment',
        '-o',
        `${saved}.2`,
      ]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/^error: NOT_FOUND from interaction-router/m);
      expect(() => readFileSync(`${saved}.2`)).toThrow();

      const stats = await mailroute(['queue', 'stats', 'support', '--json']);
      expect(stats.code).toBe(0);
      expect(JSON.parse(stats.stdout)).toMatchObject({
        statistics: { queueId: 'support', acceptedInWindow: 1, completedInWindow: 1 },
      });

      const status = await waitFor(
        async () => {
          const result = await mailroute(['mailbox', 'status', 'support', '--json']);
          const parsed = JSON.parse(result.stdout) as { status: { state: string; messagesIngestedTotal: number } };
          return parsed.status.messagesIngestedTotal >= 1 ? parsed.status : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500, description: 'the mailbox status to count the ingested e-mail' },
      );
      expect(status.state).toBe('MAILBOX_SYNC_STATE_HEALTHY');
    } finally {
      if (agent.exitCode === null) agent.kill('SIGKILL');
    }
  });
});
