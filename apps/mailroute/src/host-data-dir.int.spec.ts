import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Metadata, createChannel, createClient } from 'nice-grpc';
import { InteractionOrder, InteractionRouterServiceDefinition, type Interaction } from '@mailroute/contracts';
import { GraphSandboxAdminClient, demoProfile } from '@mailroute/graph-sandbox';
import { freePort, randomId, startServiceProcess, waitFor, type ServiceProcess } from '@mailroute/testing';

// `npm start` (the sandbox's demo tenant, no generated traffic) as a real process, started twice on
// the same data directory: what it leaves on disk is the user's only, and the sandbox's seeded demo
// mail — delivered again by the restarted, in-memory sandbox — is the same mail, not new interactions.

interface Modes {
  directories: string[];
  files: string[];
}

/** Every directory and file under `root` (itself included) whose permission bits are not `dir`/`file`. */
function loosePermissions(root: string, expected: { dir: number; file: number }): Modes {
  const loose: Modes = { directories: [], files: [] };
  const walk = (at: string) => {
    const stats = statSync(at);
    if (stats.isDirectory()) {
      if ((stats.mode & 0o777) !== expected.dir)
        loose.directories.push(`${path.relative(root, at) || '.'} ${(stats.mode & 0o777).toString(8)}`);
      for (const entry of readdirSync(at)) walk(path.join(at, entry));
    } else if ((stats.mode & 0o777) !== expected.file) {
      loose.files.push(`${path.relative(root, at)} ${(stats.mode & 0o777).toString(8)}`);
    }
  };
  walk(root);
  return loose;
}

function everyPath(root: string): string[] {
  return readdirSync(root, { recursive: true }).map((entry) => path.join(root, String(entry)));
}

describe('npm start: the data directory', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mailroute-data-'));
  const dataDir = path.join(dir, 'data');
  let ports: {
    authBroker: number;
    mailboxFetch: number;
    interactionRouter: number;
    outboundSend: number;
    webGateway: number;
    sandbox: number;
    sandboxAdmin: number;
  };
  let configFile: string;
  let running: ServiceProcess | undefined;
  let sandboxAdmin: GraphSandboxAdminClient;
  let seeded = 0;

  async function start(): Promise<void> {
    const proc = startServiceProcess('apps/mailroute/src/main.ts', { MAILROUTE_CONFIG: configFile });
    running = proc;
    await waitFor(() => proc.output.some((line) => line.startsWith('mailroute: ready')) || proc.child.exitCode !== null, {
      timeoutMs: 120_000,
      description: 'the host to be ready',
    });
    if (proc.child.exitCode !== null) throw new Error(`the host exited:\n${proc.output.join('\n')}`);
  }

  async function allInteractions(): Promise<Interaction[]> {
    const apiKey =
      (JSON.parse(readFileSync(path.join(dataDir, 'host-secrets.json'), 'utf8')) as { apiKeys: Record<string, string> }).apiKeys[
        'demo'
      ] ?? '';
    const channel = createChannel(`127.0.0.1:${ports.interactionRouter}`);
    try {
      const router = createClient(InteractionRouterServiceDefinition, channel, {
        '*': { metadata: Metadata({ authorization: `Bearer ${apiKey}` }) },
      });
      const found: Interaction[] = [];
      let pageToken = '';
      do {
        const page = await router.searchInteractions({
          page: { pageSize: 200, pageToken },
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

  beforeAll(async () => {
    ports = {
      authBroker: await freePort(),
      mailboxFetch: await freePort(),
      interactionRouter: await freePort(),
      outboundSend: await freePort(),
      webGateway: await freePort(),
      sandbox: await freePort(),
      sandboxAdmin: await freePort(),
    };
    configFile = path.join(dir, 'mailroute.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        dataDir: 'data',
        ports: {
          authBroker: ports.authBroker,
          mailboxFetch: ports.mailboxFetch,
          interactionRouter: ports.interactionRouter,
          outboundSend: ports.outboundSend,
          webGateway: ports.webGateway,
        },
        sandbox: { port: ports.sandbox, adminPort: ports.sandboxAdmin },
        pollIntervalCapMs: 1000,
      }),
    );
    sandboxAdmin = new GraphSandboxAdminClient(`http://127.0.0.1:${ports.sandboxAdmin}`);
    await start();
    for (const mailbox of demoProfile.routedMailboxes) {
      seeded += (await sandboxAdmin.folders(demoProfile.tenantId, mailbox)).value.reduce(
        (sum, folder) => sum + folder.totalItemCount,
        0,
      );
    }
    await waitFor(async () => (await allInteractions()).length >= seeded, {
      timeoutMs: 120_000,
      description: "the sandbox's seeded demo mail routed",
    });
  }, 300_000);

  afterAll(async () => {
    await running?.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('is readable by its user only: the directory 0700, every store, journal, log and key file 0600', () => {
    const paths = everyPath(dataDir).map((entry) => path.relative(dataDir, entry));
    // What the issue names is there to be checked: the embedded stores with their WAL files, the bus journal, the log.
    expect(paths).toEqual(
      expect.arrayContaining([
        'mailroute.log',
        'bus.sqlite',
        'bus.sqlite-wal',
        'interaction-router.sqlite',
        'interaction-router.sqlite-wal',
        'mailbox-fetch.sqlite',
        'host-secrets.json',
      ]),
    );
    expect(loosePermissions(dataDir, { dir: 0o700, file: 0o600 })).toEqual({ directories: [], files: [] });
  });

  let before: Interaction[] = [];

  it('restarted on the same data directory: fixes the loose permissions an older version left behind', async () => {
    before = await allInteractions();
    expect(before).toHaveLength(seeded);
    const stopped = await running?.stop('SIGTERM');
    expect(stopped?.code).toBe(0);
    chmodSync(dataDir, 0o755);
    for (const entry of everyPath(dataDir)) chmodSync(entry, statSync(entry).isDirectory() ? 0o755 : 0o644);

    await start();
    expect(loosePermissions(dataDir, { dir: 0o700, file: 0o600 })).toEqual({ directories: [], files: [] });
  });

  it("restarted on the same data directory: the sandbox's seeded demo mail, delivered again, adds no interaction", async () => {
    expect(running?.output.some((line) => line.startsWith('mailroute: ready'))).toBe(true);
    // The restarted sandbox delivered its demo mail again; one new e-mail per mailbox after it marks
    // the point where mailbox-fetch has read everything that was there (one ordered stream per mailbox).
    const marker = randomId('after-restart');
    for (const mailbox of demoProfile.routedMailboxes) {
      await sandboxAdmin.deliver(demoProfile.tenantId, mailbox, {
        from: 'carol@customer.example',
        subject: `Still there? ${marker}`,
        body: 'A new e-mail after the restart.',
      });
    }
    await waitFor(
      async () =>
        (await allInteractions()).filter((interaction) => interaction.subject.includes(marker)).length ===
        demoProfile.routedMailboxes.length,
      {
        timeoutMs: 120_000,
        description: 'the new e-mails routed after the restart',
      },
    );
    const after = await allInteractions();
    expect(
      after
        .filter((interaction) => !interaction.subject.includes(marker))
        .map((interaction) => interaction.interactionId)
        .sort(),
    ).toEqual(before.map((interaction) => interaction.interactionId).sort());
  });
});
