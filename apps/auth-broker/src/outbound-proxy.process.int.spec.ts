import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createAuthBrokerTokenClient } from '@mailroute/platform';
import {
  createSandboxMailTenant,
  randomId,
  startAuthBrokerProcess,
  startRecordingProxy,
  startTestGraphSandbox,
  type AuthBrokerProcess,
  type RecordedRequest,
  type RecordingProxy,
} from '@mailroute/testing';

// Enterprises often let Microsoft endpoints out only through an HTTPS proxy. Node 24's
// NODE_USE_ENV_PROXY=1 makes the process honour HTTPS_PROXY/NO_PROXY for every HTTPS request (MSAL's
// token requests here): auth-broker as a process reaches the graph sandbox's Entra token endpoint
// through an HTTP CONNECT proxy when configured to, and past it when the host is in NO_PROXY.
describe('auth-broker behind an HTTPS proxy (HTTPS_PROXY, NODE_USE_ENV_PROXY=1)', () => {
  const workDir = mkdtempSync(path.join(tmpdir(), 'auth-broker-proxy-'));
  const certDir = path.join(workDir, 'certs');
  const serviceToken = `mrs_${randomId('proxy')}`;
  const requests: RecordedRequest[] = [];
  let started: Awaited<ReturnType<typeof startTestGraphSandbox>>;
  let proxy: RecordingProxy;
  const processes: AuthBrokerProcess[] = [];

  beforeAll(async () => {
    started = await startTestGraphSandbox({ certDir });
    proxy = await startRecordingProxy({ label: 'auth-broker', upstream: started.endpoints.baseUrl, certDir, requests });
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(processes.map((running) => running.proc.stop('SIGKILL')));
    await proxy?.close();
    await started?.sandbox.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  async function tokenThrough(env: Record<string, string>): Promise<string> {
    const tenantId = randomId('proxied');
    const broker = await startAuthBrokerProcess({
      endpoints: started.endpoints,
      workDir: mkdtempSync(path.join(workDir, 'broker-')),
      apiKeys: { [tenantId]: `mrk_${randomId('key')}` },
      serviceTokens: { 'mailbox-fetch': serviceToken },
      env,
    });
    processes.push(broker);
    await broker.addSandboxCredentials(tenantId, await createSandboxMailTenant(started.endpoints, { mailboxCount: 1 }));
    const tokens = createAuthBrokerTokenClient({ address: broker.address, serviceToken });
    try {
      const token = await tokens.getToken(tenantId, { kind: 'app-only', credentialsId: 'default' }, { forceRefresh: true });
      return token.accessToken;
    } finally {
      tokens.close();
    }
  }

  const tokenRequests = () =>
    requests.filter((request) => request.method === 'POST' && /\/oauth2\/v2\.0\/token(\?|$)/.test(request.path));

  it('acquires the token through the proxy', async () => {
    await expect(tokenThrough({ HTTPS_PROXY: proxy.url, NODE_USE_ENV_PROXY: '1', NO_PROXY: '' })).resolves.toMatch(/\S/);
    expect(tokenRequests().map((request) => request.status)).toContain(200);
  });

  it('goes direct to a host listed in NO_PROXY (in-cluster traffic)', async () => {
    const before = tokenRequests().length;
    await expect(tokenThrough({ HTTPS_PROXY: proxy.url, NODE_USE_ENV_PROXY: '1', NO_PROXY: '127.0.0.1' })).resolves.toMatch(/\S/);
    expect(tokenRequests().length).toBe(before);
  });
});
