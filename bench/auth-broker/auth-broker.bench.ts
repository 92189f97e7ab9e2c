// GetAccessToken throughput and latency over real gRPC, from the token cache, and the number of Entra ID
// token requests per tenant under that load. Starts the graph sandbox in this process and a real
// auth-broker process (main.ts, embedded store, the sandbox CA via NODE_EXTRA_CA_CERTS), creates
// BENCH_TENANTS tenants with credentials, warms their tokens, then runs BENCH_CONCURRENCY closed-loop
// callers for BENCH_DURATION_SECONDS (default 15 s; the whole run stays under a minute).
// Run: npx nx run bench:auth-broker, or node tools/scripts/run-ts.mjs bench/auth-broker/auth-broker.bench.ts
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Metadata } from 'nice-grpc';
import { AccessTokenServiceDefinition, AuthBrokerServiceDefinition, AuthorityCloud } from '@mailroute/contracts';
import { createGraphSandbox } from '@mailroute/graph-sandbox';
import { createGrpcClient, hashBearerCredential } from '@mailroute/platform';
import { startServiceProcess } from '@mailroute/testing';

const durationSeconds = Number(process.env['BENCH_DURATION_SECONDS'] ?? 15);
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 64);
const tenantCount = Number(process.env['BENCH_TENANTS'] ?? 10);
const tokenLifetimeSeconds = 3599;
const refreshAheadSeconds = 600;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const sandbox = createGraphSandbox({ trustCaInProcess: true, accessTokenLifetimeSeconds: tokenLifetimeSeconds });
  const endpoints = await sandbox.start();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'auth-broker-bench-'));
  const serviceToken = `mrs_${randomBytes(16).toString('hex')}`;
  const tenants = Array.from({ length: tenantCount }, (_, i) => `bench-${i}`);
  const apiKeys = new Map(tenants.map((tenant) => [tenant, `mrk_${randomBytes(16).toString('hex')}`]));
  const broker = startServiceProcess('apps/auth-broker/src/main.ts', {
    GRPC_PORT: '0',
    LOG_LEVEL: 'info',
    NODE_EXTRA_CA_CERTS: endpoints.caCertPath,
    AUTH_BROKER_STORE: 'embedded',
    AUTH_BROKER_EMBEDDED_PATH: path.join(dataDir, 'auth-broker.db'),
    AUTH_BROKER_ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
    AUTH_BROKER_API_KEYS: tenants
      .map(
        (tenant) =>
          `wm-${tenant}:${tenant}:credentials.read+credentials.write:${hashBearerCredential(apiKeys.get(tenant) ?? '')}`,
      )
      .join(','),
    AUTH_BROKER_SERVICE_TOKENS: `mailbox-fetch:${hashBearerCredential(serviceToken)}`,
    AUTH_BROKER_ALLOWED_CLOUD_ORIGINS: endpoints.baseUrl,
    AUTH_BROKER_METRICS_PORT: '0',
    AUTH_BROKER_REFRESH_AHEAD_SECONDS: String(refreshAheadSeconds),
  });
  const handles: { close(): void }[] = [];
  try {
    const address = `127.0.0.1:${await broker.port()}`;
    const admin = createGrpcClient(AuthBrokerServiceDefinition, address, { deadlineMs: 30_000 });
    const tokens = createGrpcClient(AccessTokenServiceDefinition, address, { deadlineMs: 30_000 });
    handles.push(admin, tokens);
    const directories: string[] = [];
    for (const tenant of tenants) {
      const directory = await endpoints.admin.createTenant({ domain: `${tenant}-${randomBytes(3).toString('hex')}.example` });
      const app = await endpoints.admin.createApp(directory.id, { applicationPermissions: ['Mail.ReadWrite', 'Mail.Send'] });
      const secret = await endpoints.admin.addSecret(directory.id, app.clientId);
      directories.push(directory.id);
      await admin.client.createTenantCredentials(
        {
          credentialsId: '',
          spec: {
            displayName: tenant,
            directoryId: directory.id,
            clientId: app.clientId,
            cloud: AuthorityCloud.AUTHORITY_CLOUD_CUSTOM,
            authorityHost: endpoints.baseUrl,
            graphEndpoint: endpoints.baseUrl,
            credential: {
              $case: 'clientSecret',
              value: { value: secret.secretText, expiresAt: new Date(Date.now() + 180 * 86_400_000) },
            },
          },
        },
        { metadata: Metadata({ authorization: `Bearer ${apiKeys.get(tenant) ?? ''}` }) },
      );
    }
    const metadata = Metadata({ authorization: `Bearer ${serviceToken}` });
    const request = (i: number) => ({
      tenantId: tenants[i % tenants.length] ?? '',
      principal: { $case: 'appOnly' as const, value: { credentialsId: '' } },
      forceRefresh: false,
    });
    await Promise.all(tenants.map((_, i) => tokens.client.getAccessToken(request(i), { metadata })));
    const warm = await Promise.all(directories.map((id) => endpoints.admin.stats(id)));

    const latencies: number[] = [];
    let errors = 0;
    const stopAt = performance.now() + durationSeconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        for (let i = worker; performance.now() < stopAt; i += concurrency) {
          const t0 = performance.now();
          try {
            await tokens.client.getAccessToken(request(i), { metadata });
            latencies.push(performance.now() - t0);
          } catch {
            errors += 1;
          }
        }
      }),
    );
    const elapsedSeconds = (performance.now() - started) / 1000;
    const after = await Promise.all(directories.map((id) => endpoints.admin.stats(id)));
    latencies.sort((a, b) => a - b);
    const loadRequests = after.reduce((sum, stats, i) => sum + stats.tokenRequests - (warm[i]?.tokenRequests ?? 0), 0);
    const totalRequests = after.reduce((sum, stats) => sum + stats.tokenRequests, 0);
    const perTenantPerHourMeasured = (loadRequests / tenantCount) * (3600 / elapsedSeconds);
    const perTenantPerHourSteady = 3600 / (tokenLifetimeSeconds - refreshAheadSeconds);
    const lines = [
      `auth-broker GetAccessToken over gRPC (real process, embedded store, ${tenantCount} tenants, ${concurrency} concurrent callers, ${elapsedSeconds.toFixed(1)} s)`,
      `  throughput:        ${Math.round(latencies.length / elapsedSeconds)} calls/s (${latencies.length} ok, ${errors} errors)`,
      `  latency:           p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms, max ${(latencies.at(-1) ?? 0).toFixed(2)} ms`,
      `  Entra token requests: ${totalRequests} in total = ${(totalRequests / tenantCount).toFixed(2)} per tenant (warm-up included); ${loadRequests} during the load`,
      `  Entra token requests per tenant per hour under load: ${perTenantPerHourMeasured.toFixed(2)} measured; ${perTenantPerHourSteady.toFixed(2)} in steady state (one per ${tokenLifetimeSeconds - refreshAheadSeconds} s: ${tokenLifetimeSeconds} s tokens renewed ${refreshAheadSeconds} s early)`,
    ];
    console.log(lines.join('\n'));
  } finally {
    for (const handle of handles) handle.close();
    await broker.stop();
    await sandbox.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
