// Throughput and latency of the graph sandbox on this machine, so later benchmarks know whether it is their
// bottleneck. Starts the sandbox as its own process (main.ts), seeds a tenant with 500 messages, then drives
// four endpoints with autocannon for a bounded time each and prints req/s, latency p50/p95/p99 and the
// sandbox process's RSS. Run: node --import tsx bench/graph-sandbox/graph-sandbox.bench.ts
// (with TSX_TSCONFIG_PATH=tsconfig.base.json), or `node tools/scripts/run-ts.mjs bench/graph-sandbox/graph-sandbox.bench.ts`.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GraphSandboxAdminClient, trustCertificateAuthority } from '@mailroute/graph-sandbox';

interface AutocannonResult {
  requests: { average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
interface AutocannonInstance {
  on(event: 'response', listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void): void;
}
type Autocannon = (
  options: Record<string, unknown>,
  callback: (error: Error | null, result: AutocannonResult) => void,
) => AutocannonInstance;

const autocannon = createRequire(__filename)('autocannon') as Autocannon;
const root = path.resolve(__dirname, '../..');
const durationSeconds = Number(process.env['BENCH_DURATION_SECONDS'] ?? 10);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 16);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function main(): Promise<void> {
  const certDir = await mkdtemp(path.join(tmpdir(), 'graph-sandbox-bench-'));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'apps/graph-sandbox/src/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.base.json'),
      GRAPH_SANDBOX_PORT: '0',
      GRAPH_SANDBOX_ADMIN_PORT: '0',
      GRAPH_SANDBOX_CERT_DIR: certDir,
      GRAPH_SANDBOX_PROFILE: 'empty',
      // The bench measures the sandbox, not Outlook's limits: lift them.
      GRAPH_SANDBOX_MAX_CONCURRENT_REQUESTS: '100000',
      GRAPH_SANDBOX_REQUESTS_PER_WINDOW: '1000000000',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const ready = await new Promise<{ baseUrl: string; adminUrl: string; caCertPath: string }>((resolve, reject) => {
      let buffer = '';
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        for (const line of buffer.split('\n'))
          if (line.includes('graph-sandbox ready'))
            resolve(JSON.parse(line) as { baseUrl: string; adminUrl: string; caCertPath: string });
      });
      child.on('exit', (code) => reject(new Error(`sandbox exited with ${code}`)));
    });
    trustCertificateAuthority(await readFile(ready.caCertPath, 'utf8'));
    const admin = new GraphSandboxAdminClient(ready.adminUrl);
    const tenant = await admin.createTenant({ displayName: 'Bench', domain: 'bench.example' });
    const app = await admin.createApp(tenant.id, { applicationPermissions: ['Mail.ReadWrite', 'Mail.Send'] });
    const secret = await admin.addSecret(tenant.id, app.clientId);
    const mailbox = 'support@bench.example';
    await admin.createMailbox(tenant.id, { userPrincipalName: mailbox });
    for (let batch = 0; batch < 5; batch += 1)
      await admin.generateTraffic(tenant.id, mailbox, { count: 100, seed: batch + 1, mix: { large: 0 } });
    const tokenForm = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: app.clientId,
      client_secret: secret.secretText,
      scope: 'https://graph.microsoft.com/.default',
    }).toString();
    const tokenResponse = (await (
      await fetch(`${ready.baseUrl}/${tenant.id}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: tokenForm,
      })
    ).json()) as { access_token: string };
    const authorization = `Bearer ${tokenResponse.access_token}`;
    const list = (await (
      await fetch(`${ready.baseUrl}/v1.0/users/${mailbox}/messages?$top=1`, { headers: { authorization } })
    ).json()) as { value: Array<{ id: string }> };
    const messageId = list.value[0]?.id ?? '';

    const scenarios: Array<{ name: string; path: string; method?: string; body?: string; headers?: Record<string, string> }> = [
      {
        name: 'GET messages list ($top=10, $select)',
        path: `/v1.0/users/${mailbox}/mailFolders/inbox/messages?$top=10&$select=subject,from,receivedDateTime`,
      },
      { name: 'GET message by id', path: `/v1.0/users/${mailbox}/messages/${messageId}` },
      {
        name: 'GET delta first page (maxpagesize=50)',
        path: `/v1.0/users/${mailbox}/mailFolders/inbox/messages/delta`,
        headers: { prefer: 'odata.maxpagesize=50' },
      },
      {
        name: 'POST token (client credentials)',
        path: `/${tenant.id}/oauth2/v2.0/token`,
        method: 'POST',
        body: tokenForm,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
    ];
    const rows: string[] = [];
    for (const scenario of scenarios) {
      const latencies: number[] = [];
      const result = await new Promise<AutocannonResult>((resolve, reject) => {
        const instance = autocannon(
          {
            url: `${ready.baseUrl}${scenario.path}`,
            method: scenario.method ?? 'GET',
            connections,
            duration: durationSeconds,
            headers: { authorization, ...scenario.headers },
            ...(scenario.body ? { body: scenario.body } : {}),
          },
          (error, output) => (error ? reject(error) : resolve(output)),
        );
        instance.on('response', (_client, _status, _bytes, responseTimeMs) => latencies.push(responseTimeMs));
      });
      latencies.sort((a, b) => a - b);
      const rss = await rssMb(child.pid ?? 0);
      rows.push(
        [
          scenario.name.padEnd(40),
          result.requests.average.toFixed(0).padStart(7),
          percentile(latencies, 50).toFixed(1).padStart(7),
          percentile(latencies, 95).toFixed(1).padStart(7),
          percentile(latencies, 99).toFixed(1).padStart(7),
          String(result.non2xx + result.errors + result.timeouts).padStart(6),
          String(rss).padStart(7),
        ].join(' '),
      );
    }
    const cpu = (await readFile('/proc/cpuinfo', 'utf8').catch(() => ''))
      .split('\n')
      .filter((line) => line.startsWith('processor')).length;
    console.log(
      `\ngraph-sandbox benchmark — Node ${process.version}, ${cpu} CPU(s), ${connections} connections, ${durationSeconds} s per scenario, sandbox in its own process`,
    );
    console.log(
      `${'scenario'.padEnd(40)} ${'req/s'.padStart(7)} ${'p50 ms'.padStart(7)} ${'p95 ms'.padStart(7)} ${'p99 ms'.padStart(7)} ${'errors'.padStart(6)} ${'RSS MB'.padStart(7)}`,
    );
    for (const row of rows) console.log(row);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
    await rm(certDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
