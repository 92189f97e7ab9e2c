import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GraphSandboxAdminClient } from '@mailroute/graph-sandbox';

const root = path.resolve(__dirname, '../../..');

/** A client process as a mailroute service would run: real MSAL + Graph client, CA trusted only via its env. */
const clientScript = `
const { ConfidentialClientApplication } = require('@azure/msal-node');
const { Client } = require('@microsoft/microsoft-graph-client');
const [authority, host, clientId, clientSecret, mailbox, graphBaseUrl] = process.argv.slice(1);
const msal = new ConfidentialClientApplication({ auth: { clientId, authority, clientSecret, knownAuthorities: [host] } });
const graph = Client.init({ baseUrl: graphBaseUrl, customHosts: new Set(['127.0.0.1']), authProvider: (done) => {
  msal.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] }).then((r) => done(null, r.accessToken), (e) => done(e, null));
} });
graph.api('/users/' + mailbox + '/mailFolders/inbox').get().then(
  (inbox) => { console.log('OK ' + inbox.displayName); },
  (error) => { console.log('FAIL ' + String(error.errorCode || '') + ' ' + error.message); },
);
`;

function runClient(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', clientScript, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(output.trim()));
  });
}

describe('the sandbox as its own process, trusted through NODE_EXTRA_CA_CERTS', () => {
  let sandbox: ChildProcess | undefined;
  let certDir = '';

  afterAll(async () => {
    if (sandbox && sandbox.exitCode === null) sandbox.kill('SIGKILL');
    await rm(certDir, { recursive: true, force: true });
  });

  it('starts from main.ts with the demo profile, serves a client process that trusts ca.pem, and drains on SIGTERM', async () => {
    certDir = await mkdtemp(path.join(tmpdir(), 'graph-sandbox-proc-'));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'apps/graph-sandbox/src/main.ts')], {
      cwd: root,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.base.json'),
        GRAPH_SANDBOX_PORT: '0',
        GRAPH_SANDBOX_ADMIN_PORT: '0',
        GRAPH_SANDBOX_CERT_DIR: certDir,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    sandbox = child;
    const ready = await new Promise<{ baseUrl: string; adminUrl: string; caCertPath: string }>((resolve, reject) => {
      let buffer = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        for (const line of buffer.split('\n')) {
          if (line.includes('graph-sandbox ready'))
            resolve(JSON.parse(line) as { baseUrl: string; adminUrl: string; caCertPath: string });
        }
      });
      child.on('exit', (code) => reject(new Error(`sandbox exited early with ${code}`)));
    });
    expect(ready.caCertPath).toBe(path.join(certDir, 'ca.pem'));

    const admin = new GraphSandboxAdminClient(ready.adminUrl);
    const demo = await admin.seedDemo();
    const args = [
      demo.authority,
      new URL(ready.baseUrl).host,
      demo.clientId,
      demo.clientSecret,
      'support@contoso-demo.example',
      `${ready.baseUrl}/`,
    ];
    const { NODE_EXTRA_CA_CERTS: _ignored, ...baseEnv } = process.env;
    expect(await runClient(args, { ...baseEnv, NODE_EXTRA_CA_CERTS: ready.caCertPath })).toBe('OK Inbox');
    // Without the CA, MSAL only reports that it could not resolve the authority's endpoints.
    expect(await runClient(args, baseEnv)).toMatch(/^FAIL .*endpoints_resolution_error/);

    const exitCode = await new Promise<number | null>((resolve) => {
      child.on('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    });
    expect(exitCode).toBe(0);
  }, 30_000);
});
