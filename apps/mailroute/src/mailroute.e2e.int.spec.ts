import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Metadata, createChannel, createClient, type Channel } from 'nice-grpc';
import {
  AgentDesktopServiceDefinition,
  AgentPresence,
  InteractionOrder,
  InteractionRouterServiceDefinition,
  OutgoingMessage,
  ReplyMode,
  TemplateKind,
  type Interaction,
} from '@mailroute/contracts';
import {
  GraphSandboxAdminClient,
  demoProfile,
  trustCertificateAuthority,
  type GraphSandbox,
  type GraphSandboxEndpoints,
  type SentRecord,
} from '@mailroute/graph-sandbox';
import {
  freePort,
  randomId,
  signInAsSpa,
  signInWithDeviceCode,
  startDedicatedKafka,
  startServiceProcess,
  startTestGraphSandbox,
  testInfra,
  waitFor,
  workspaceRoot,
  type ServiceProcess,
} from '@mailroute/testing';

// The whole flow through the public APIs only, with the all-in-one host running as a real process
// (what the README's `npm start` runs): an email delivered to a sandbox mailbox is offered on an
// agent's desktop stream, accepted, replied to, and the reply lands in the customer's thread.

const support = 'support@contoso-demo.example';
const billing = 'billing@contoso-demo.example';

interface Host {
  dir: string;
  configFile: string;
  env: Record<string, string>;
  ports: {
    authBroker: number;
    mailboxFetch: number;
    interactionRouter: number;
    outboundSend: number;
    webGateway: number;
    sandbox: number;
    sandboxAdmin: number;
  };
  /** The sandbox the test runs (real-tenant mode) or the host's own (demo mode). */
  sandbox: { admin: GraphSandboxAdminClient; endpoints: GraphSandboxEndpoints };
  running?: ServiceProcess;
}

async function ports(): Promise<Host['ports']> {
  return {
    authBroker: await freePort(),
    mailboxFetch: await freePort(),
    interactionRouter: await freePort(),
    outboundSend: await freePort(),
    webGateway: await freePort(),
    sandbox: await freePort(),
    sandboxAdmin: await freePort(),
  };
}

function writeConfig(dir: string, config: Record<string, unknown>): string {
  const configFile = path.join(dir, 'mailroute.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  return configFile;
}

/**
 * A host configured like an operator with a real tenant: the test's sandbox stands in for
 * Microsoft 365 (its demo directory, reached through the configuration file, the client secret in an
 * environment variable, the sandbox's CA through NODE_EXTRA_CA_CERTS).
 */
async function prepareRealTenant(endpoints: GraphSandboxEndpoints, extra: Record<string, unknown>): Promise<Host> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailroute-host-'));
  const chosen = await ports();
  const configFile = writeConfig(dir, {
    dataDir: 'data',
    ports: {
      authBroker: chosen.authBroker,
      mailboxFetch: chosen.mailboxFetch,
      interactionRouter: chosen.interactionRouter,
      outboundSend: chosen.outboundSend,
      webGateway: chosen.webGateway,
    },
    sandbox: { enabled: false },
    pollIntervalCapMs: 1000,
    agentSignIn: { authorityHost: endpoints.baseUrl, audience: demoProfile.desktopClientId },
    tenants: [
      {
        id: 'demo',
        directoryId: demoProfile.tenantId,
        clientId: demoProfile.clientId,
        clientSecretEnv: 'CONTOSO_CLIENT_SECRET',
        clientSecretExpires: new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10),
        authorityHost: endpoints.baseUrl,
        graphEndpoint: endpoints.baseUrl,
        queues: [{ id: 'support' }],
        rules: [{ id: 'urgent', subjectContains: ['urgent'], queue: 'support', priority: 500, tags: ['urgent'] }],
        mailboxes: [
          { id: 'support', address: support, queue: 'support' },
          { id: 'billing', address: billing, queue: 'support' },
        ],
        agents: [{ id: 'alice', upn: 'alice@contoso-demo.example', queues: ['support'], capacity: 5 }],
      },
    ],
    ...extra,
  });
  return {
    dir,
    configFile,
    env: { NODE_EXTRA_CA_CERTS: endpoints.caCertPath, CONTOSO_CLIENT_SECRET: demoProfile.clientSecret },
    ports: chosen,
    sandbox: { admin: new GraphSandboxAdminClient(endpoints.adminUrl), endpoints },
  };
}

async function start(host: Host): Promise<ServiceProcess> {
  const running = startServiceProcess('apps/mailroute/src/main.ts', { MAILROUTE_CONFIG: host.configFile, ...host.env });
  host.running = running;
  await waitFor(() => running.output.some((line) => line.startsWith('mailroute: ready')) || running.child.exitCode !== null, {
    timeoutMs: 90_000,
    description: 'the host to be ready',
  });
  if (running.child.exitCode !== null) throw new Error(`the host exited:\n${running.output.join('\n')}`);
  return running;
}

function apiKeyOf(host: Host): string {
  const secrets = JSON.parse(readFileSync(path.join(host.dir, 'data', 'host-secrets.json'), 'utf8')) as {
    apiKeys: Record<string, string>;
  };
  return secrets.apiKeys['demo'] ?? '';
}

/** All interactions of the demo tenant whose subject contains `tag`, through the admin API. */
async function interactionsTagged(host: Host, tag: string): Promise<Interaction[]> {
  const channel = createChannel(`127.0.0.1:${host.ports.interactionRouter}`);
  try {
    const admin = createClient(InteractionRouterServiceDefinition, channel, {
      '*': { metadata: Metadata({ authorization: `Bearer ${apiKeyOf(host)}` }) },
    });
    const found: Interaction[] = [];
    let pageToken = '';
    do {
      const page = await admin.searchInteractions({
        page: { pageSize: 200, pageToken },
        filter: { subjectContains: tag },
        order: InteractionOrder.INTERACTION_ORDER_UNSPECIFIED,
      });
      found.push(...page.interactions);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return found;
  } finally {
    channel.close();
  }
}

/**
 * An agent at the desktop: accepts every offer; replies (and completes) those whose subject carries
 * `tag`, completes the rest (the sandbox's seeded demo mail) so capacity stays free.
 */
async function runAgent(host: Host, upn: string, tag: string, signal: AbortSignal): Promise<Set<string>> {
  const { admin, endpoints } = host.sandbox;
  const token = await signInWithDeviceCode(endpoints, admin, demoProfile.tenantId, demoProfile.desktopClientId, upn);
  const channel: Channel = createChannel(`127.0.0.1:${host.ports.interactionRouter}`);
  const desktop = createClient(AgentDesktopServiceDefinition, channel, {
    '*': { metadata: Metadata({ authorization: `Bearer ${token}` }) },
  });
  const replied = new Set<string>();
  void (async () => {
    try {
      for await (const update of desktop.connect(
        { clientInstanceId: randomId('desk'), initialPresence: AgentPresence.AGENT_PRESENCE_AVAILABLE },
        { signal },
      )) {
        if (update.event?.$case !== 'offer') continue;
        const offer = update.event.value;
        void (async () => {
          const { interaction } = await desktop.accept({ offerId: offer.offerId });
          if (!interaction) return;
          if (interaction.subject.includes(tag)) {
            await desktop.reply({
              idempotencyKey: `e2e-${interaction.interactionId}`,
              interactionId: interaction.interactionId,
              replyToGraphMessageId: '',
              mode: ReplyMode.REPLY_MODE_REPLY,
              content: OutgoingMessage.fromPartial({ bodyHtml: `<p>Answer to ${interaction.subject}</p>` }),
              completeAfterSend: true,
            });
            replied.add(interaction.interactionId);
          } else {
            await desktop.complete({ interactionId: interaction.interactionId, dispositionCode: '', note: 'e2e: not ours' });
          }
        })().catch(() => undefined);
      }
    } catch {
      // the stream ends when the test aborts it or the host stops
    } finally {
      channel.close();
    }
  })();
  return replied;
}

interface Mode {
  config: Record<string, unknown>;
  dispose: () => Promise<void>;
}

const modes: [string, () => Promise<Mode>][] = [
  [
    'the embedded default (SQLite stores, journaled in-process bus)',
    async () => ({ config: {}, dispose: async () => undefined }),
  ],
  [
    'Kafka + FerretDB',
    async () => {
      // A broker of its own: a new consumer group on the shared broker would start by reading every
      // inbound event the other suites ever published (groups start from the beginning: nothing lost).
      const kafka = await startDedicatedKafka();
      return {
        config: {
          bus: { kind: 'kafka', brokers: [kafka.brokers], consumerGroupPrefix: randomId('e2e') },
          store: { kind: 'mongodb', url: testInfra().mongoUrl, database: randomId('e2e').replace(/[^A-Za-z0-9_-]/g, '_') },
        },
        dispose: () => kafka.dispose(),
      };
    },
  ],
];

describe.each(modes)('mailroute end to end: %s', (_mode, makeMode) => {
  let host: Host;
  let sandbox: GraphSandbox;
  let mode: Mode | undefined;
  const agents = new AbortController();

  beforeAll(async () => {
    mode = await makeMode();
    const started = await startTestGraphSandbox({ profile: 'demo' });
    sandbox = started.sandbox;
    host = await prepareRealTenant(started.endpoints, mode.config);
    await start(host);
  }, 180_000);

  afterAll(async () => {
    agents.abort();
    await host?.running?.stop('SIGTERM');
    await sandbox?.stop();
    await mode?.dispose();
    if (host) rmSync(host.dir, { recursive: true, force: true });
  });

  it('routes an email to an agent, and the reply lands in the customer thread in the sandbox', async () => {
    const tag = randomId('order');
    const { admin } = host.sandbox;
    const replied = await runAgent(host, 'alice@contoso-demo.example', tag, agents.signal);
    const inbound = await admin.deliver(demoProfile.tenantId, support, {
      from: 'carol@customer.example',
      subject: `Urgent: where is my order ${tag}?`,
      body: 'It was due yesterday.',
    });

    // The first email of a run also waits for the Kafka consumers to join their groups.
    await waitFor(() => replied.size === 1, { timeoutMs: 180_000, description: 'the agent to accept and reply' });
    await waitFor(
      async () => (await admin.sent(demoProfile.tenantId, support)).value.some((sent) => sent.subject.includes(tag)),
      { timeoutMs: 60_000, description: 'the reply in Sent Items' },
    );
    const sent = (await admin.sent(demoProfile.tenantId, support)).value.filter((record) => record.subject.includes(tag));
    expect(sent).toHaveLength(1);
    expect(sent[0]?.toRecipients.map((recipient) => recipient.emailAddress.address)).toEqual(['carol@customer.example']);
    expect(sent[0]?.conversationId).toBe((inbound as { conversationId?: string }).conversationId);
    expect(sent[0]?.body.content).toContain(`Answer to`);
    // The router records the send when outbound-send's result event reaches it.
    await waitFor(async () => (await interactionsTagged(host, tag))[0]?.replyCount === 1, {
      timeoutMs: 30_000,
      description: 'the interaction to count the reply',
    });
    const routed = await interactionsTagged(host, tag);
    expect(routed).toHaveLength(1);
    // The configured rule matched: its priority and tag are on the interaction.
    expect(routed[0]).toMatchObject({ matchedRuleId: 'urgent', priority: 500, tags: ['urgent'] });
  });

  it('stops cleanly on SIGTERM and, restarted, continues from its stored state: nothing lost, nothing doubled', async () => {
    const tag = randomId('restart');
    const { admin } = host.sandbox;
    const count = 12;
    for (let i = 0; i < count; i += 1) {
      await admin.deliver(demoProfile.tenantId, billing, {
        from: `customer${i}@customer.example`,
        subject: `Invoice question ${tag} #${i}`,
        body: `Question ${i}`,
      });
    }
    // Kill it hard while the batch is being fetched and routed, then a clean stop after the restart.
    await waitFor(async () => (await interactionsTagged(host, tag)).length > 0, {
      timeoutMs: 60_000,
      description: 'the first interactions',
    });
    await host.running?.stop('SIGKILL');
    await start(host);
    await waitFor(async () => (await interactionsTagged(host, tag)).length >= count, {
      timeoutMs: 90_000,
      description: 'every email routed after the restart',
    });
    const found = await interactionsTagged(host, tag);
    expect(found.map((interaction) => interaction.subject).sort()).toEqual(
      Array.from({ length: count }, (_, i) => `Invoice question ${tag} #${i}`).sort(),
    );
    const stopped = await host.running?.stop('SIGTERM');
    expect(stopped?.code).toBe(0);
    expect(host.running?.output.some((line) => line.includes('stopped cleanly'))).toBe(true);
    await start(host);
    expect((await interactionsTagged(host, tag)).length).toBe(count);
  });
});

describe('npm start on a fresh machine: the demo', () => {
  it('`npm start -- --demo` brings up the sandbox demo tenant, routes generated mail to simulated agents who reply, and Ctrl-C stops it cleanly', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mailroute-demo-'));
    const chosen = await ports();
    // Only the ports differ from a bare `npm start -- --demo` (tests must not take the fixed ones).
    const configFile = writeConfig(dir, {
      dataDir: 'data',
      ports: {
        authBroker: chosen.authBroker,
        mailboxFetch: chosen.mailboxFetch,
        interactionRouter: chosen.interactionRouter,
        outboundSend: chosen.outboundSend,
        webGateway: chosen.webGateway,
      },
      sandbox: { port: chosen.sandbox, adminPort: chosen.sandboxAdmin },
      demo: { emailsPerMinute: 120 },
    });
    // The README's command, in its own process group like a terminal's foreground job.
    const child = spawn('npm', ['start', '--', '--demo', '--config', configFile], {
      cwd: workspaceRoot,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const output: string[] = [];
    const collect = (chunk: Buffer) =>
      output.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((line) => line.length > 0),
      );
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      // The summary after "ready" may reach the pipe in more than one chunk: wait for its last line.
      await waitFor(() => output.some((line) => line.includes('API keys for the CLI')) || child.exitCode !== null, {
        timeoutMs: 90_000,
        description: 'ready, and its summary printed',
      });
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${output.join('\n')}`);
      // The console is served at the printed URL, under its policy, configured to sign in at the sandbox.
      const consoleUrl = `http://127.0.0.1:${chosen.webGateway}/`;
      expect(output).toContain(`  console: ${consoleUrl}`);
      // … with the demo people a newcomer signs in as, and their password.
      expect(output).toContainEqual(expect.stringContaining(`sign in as ${demoProfile.consoleUsers.supervisor}`));
      expect(output).toContainEqual(expect.stringContaining(`password ${demoProfile.password}`));
      const page = await fetch(consoleUrl);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain(`connect-src 'self' https://127.0.0.1:${chosen.sandbox}`);
      expect(await fetch(new URL('config.json', consoleUrl)).then((response) => response.json())).toMatchObject({
        authority: `https://127.0.0.1:${chosen.sandbox}/${demoProfile.tenantId}`,
        clientId: demoProfile.desktopClientId,
      });
      // Signing in at that URL works (the host registered it as the desktop app's SPA redirect URI), and the
      // demo supervisor's token opens the workload-manager API of the demo tenant, where carol is an agent.
      trustCertificateAuthority(readFileSync(path.join(dir, 'data', 'sandbox-certs', 'ca.pem'), 'utf8'));
      const supervisor = await signInAsSpa(
        { baseUrl: `https://127.0.0.1:${chosen.sandbox}` },
        {
          authority: demoProfile.tenantId,
          clientId: demoProfile.desktopClientId,
          redirectUri: consoleUrl,
          user: demoProfile.consoleUsers.supervisor,
          password: demoProfile.password,
        },
      );
      const supervisorChannel = createChannel(`127.0.0.1:${chosen.interactionRouter}`);
      try {
        const asSupervisor = createClient(InteractionRouterServiceDefinition, supervisorChannel, {
          '*': { metadata: Metadata({ authorization: `Bearer ${supervisor.idToken}` }) },
        });
        expect((await asSupervisor.listAgents({})).agents.map((agent) => agent.agentId)).toEqual(
          expect.arrayContaining(['alice', 'bob', 'carol']),
        );
        // The demo tenant has business hours on its sales queue and templates to show.
        expect((await asSupervisor.getCalendar({ calendarId: 'office' })).calendar).toMatchObject({ timeZone: 'Europe/Berlin' });
        expect((await asSupervisor.getQueue({ queueId: 'sales' })).queue?.hours).toMatchObject({
          calendarId: 'office',
          serviceLevelBusinessTime: true,
        });
        expect((await asSupervisor.listTemplates({})).templates.map((template) => template.kind)).toEqual(
          expect.arrayContaining([
            TemplateKind.TEMPLATE_KIND_CANNED_RESPONSE,
            TemplateKind.TEMPLATE_KIND_ACKNOWLEDGEMENT,
            TemplateKind.TEMPLATE_KIND_OUT_OF_HOURS,
            TemplateKind.TEMPLATE_KIND_SIGNATURE,
          ]),
        );
      } finally {
        supervisorChannel.close();
      }
      // A customer's mail gets exactly one acknowledgement (automatic, in the customer's thread, with its reference)
      // and exactly one reply from a simulated agent; "Urgent" puts it ahead of the generated mail.
      const sandboxAdmin = new GraphSandboxAdminClient(`http://127.0.0.1:${chosen.sandboxAdmin}`);
      const tag = randomId('parcel');
      const inbound = (await sandboxAdmin.deliver(demoProfile.tenantId, support, {
        from: 'dora@customer.example',
        subject: `Urgent: where is my parcel ${tag}?`,
        body: 'It was due on Monday.',
      })) as { conversationId?: string };
      const tagged = async () =>
        (await sandboxAdmin.sent(demoProfile.tenantId, support)).value.filter((record) => record.subject.includes(tag));
      const autoSubmitted = (record: SentRecord) =>
        record.internetMessageHeaders.find((header) => header.name.toLowerCase() === 'auto-submitted')?.value;
      await waitFor(async () => (await tagged()).length >= 2, {
        timeoutMs: 120_000,
        description: 'the acknowledgement and the agent reply in Sent Items',
      });
      const sent = await tagged();
      const acknowledgements = sent.filter((record) => autoSubmitted(record) === 'auto-replied');
      const replies = sent.filter((record) => autoSubmitted(record) === undefined);
      expect(sent).toHaveLength(2);
      expect(acknowledgements).toHaveLength(1);
      expect(replies).toHaveLength(1);
      expect(acknowledgements[0]?.subject).toMatch(/^We received your message: Urgent: where is my parcel .* \[#CON-\d+\]$/);
      expect(replies[0]?.body.content).toContain('from the Contoso team is on it');
      for (const record of sent) {
        expect(record.toRecipients.map((recipient) => recipient.emailAddress.address)).toEqual(['dora@customer.example']);
        expect(record.conversationId).toBe(inbound.conversationId);
      }
      // The progress lines (not a log flood) show mail fetched, routed, and replies sent by the simulated agents.
      const progress = /^\[demo\] fetched (\d+) .*demo: (\d+) delivered, (\d+) accepted, (\d+) replied, (\d+) sent/;
      await waitFor(
        () =>
          output.some((line) => {
            const match = progress.exec(line);
            return match !== null && Number(match[1]) > 0 && Number(match[4]) > 0 && Number(match[5]) > 0;
          }),
        { timeoutMs: 120_000, description: 'a progress line with replies sent' },
      );
      expect(output.filter((line) => line.startsWith('{')).length).toBe(0);
      // Ctrl-C: SIGINT to the whole foreground group.
      // npm itself ends by the signal, as with a real Ctrl-C; the host drains and exits 0 behind it.
      process.kill(-(child.pid ?? 0), 'SIGINT');
      await exited;
      await waitFor(() => output.includes('mailroute: stopped cleanly'), { timeoutMs: 60_000, description: 'a clean drain' });
      await waitFor(
        () => {
          try {
            process.kill(-(child.pid ?? 0), 0);
            return false;
          } catch {
            return true;
          }
        },
        { timeoutMs: 30_000, description: 'every process of the group to exit' },
      );
    } finally {
      try {
        process.kill(-(child.pid ?? 0), 'SIGKILL');
      } catch {
        // the group is gone: it stopped
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
