import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDockerfile, parseEnvInstruction, type DockerStage } from '../src/dockerfile';
import { repoRoot } from '../src/tooling';

const services = ['auth-broker', 'mailbox-fetch', 'interaction-router', 'outbound-send'] as const;
const rootPackage = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};
/** The Node the project pins (the `node` devDependency) is the Node the images run. */
const nodeVersion = rootPackage.devDependencies['node'] as string;

const dockerfilePath = (service: string): string => path.join(repoRoot, 'deploy', 'docker', `${service}.Dockerfile`);
const read = (service: string): string => readFileSync(dockerfilePath(service), 'utf8');
const grpcPortOf = (service: string): string =>
  (
    readFileSync(path.join(repoRoot, 'deploy', 'k8s', 'base', service, 'config.env'), 'utf8').match(
      /^GRPC_PORT=(\d+)$/m,
    ) as RegExpMatchArray
  )[1] as string;

function finalStage(stages: DockerStage[]): DockerStage {
  return stages[stages.length - 1] as DockerStage;
}

describe.each(services)('deploy/docker/%s.Dockerfile', (service) => {
  const stages = parseDockerfile(read(service));
  const runtime = finalStage(stages);
  const all = (stage: DockerStage, keyword: string) =>
    stage.instructions.filter((instruction) => instruction.keyword === keyword);

  it('is multi-stage, every stage on the pinned Node 24 image (a version tag, never latest)', () => {
    expect(stages.map((stage) => stage.alias)).toEqual(['build', 'deps', 'runtime']);
    for (const stage of stages) {
      expect(stage.image).toMatch(/^node:\d+\.\d+\.\d+-[a-z]+(-slim)?(@sha256:[0-9a-f]{64})?$/);
      expect(stage.image.startsWith(`node:${nodeVersion}-`)).toBe(true);
    }
  });

  it('runs as a numeric non-root user in the final stage', () => {
    const users = all(runtime, 'USER');
    expect(users).toHaveLength(1);
    const [user, group] = (users[0]?.args ?? '').split(':');
    expect(user).toMatch(/^\d+$/);
    expect(Number(user)).toBeGreaterThan(0);
    expect(Number(group)).toBeGreaterThan(0);
    // USER comes after every RUN and COPY: nothing runs as root after it, nothing it owns is copied in as writable.
    const userIndex = runtime.instructions.indexOf(users[0] as never);
    expect(runtime.instructions.slice(userIndex).map((instruction) => instruction.keyword)).toEqual([
      'USER',
      'EXPOSE',
      'ENTRYPOINT',
    ]);
  });

  it('installs no dev dependencies: the final stage installs nothing, and its node_modules come from `npm ci --omit=dev` of the pruned lock', () => {
    for (const run of all(runtime, 'RUN')) expect(run.args).not.toMatch(/\b(npm|yarn|pnpm)\s+(i|install|ci|add)\b/);
    const copies = all(runtime, 'COPY');
    expect(copies.map((copy) => [copy.flags['from'], copy.args])).toEqual([
      ['deps', '/app/node_modules ./node_modules'],
      ['build', `/src/dist/apps/${service}/ ./`],
    ]);
    const deps = stages.find((stage) => stage.alias === 'deps') as DockerStage;
    const installs = all(deps, 'RUN').filter((run) => /\bnpm\b/.test(run.args));
    expect(installs).toHaveLength(1);
    expect(installs[0]?.args).toMatch(/^npm ci --omit=dev --ignore-scripts\b/);
    expect(all(deps, 'COPY').map((copy) => copy.args)).toEqual([
      `/src/dist/apps/${service}/package.json /src/dist/apps/${service}/package-lock.json ./`,
    ]);
  });

  it('builds with the production build script and starts with the command the production-build spec runs', () => {
    const build = stages.find((stage) => stage.alias === 'build') as DockerStage;
    expect(all(build, 'RUN').map((run) => run.args)).toContain(`node tools/build/build-service.mjs ${service}`);
    expect(all(runtime, 'WORKDIR').map((workdir) => workdir.args)).toEqual(['/app']);
    expect(all(runtime, 'ENTRYPOINT').map((entrypoint) => entrypoint.exec)).toEqual([['node', 'main.js']]);
    expect(all(runtime, 'CMD')).toEqual([]);
  });

  it('defaults to the production environment, listening on the pod IP on the port the manifests probe', () => {
    const env = Object.assign({}, ...all(runtime, 'ENV').map((instruction) => parseEnvInstruction(instruction.args))) as Record<
      string,
      string
    >;
    expect(env).toEqual({ NODE_ENV: 'production', GRPC_HOST: '0.0.0.0', GRPC_PORT: grpcPortOf(service) });
    expect(all(runtime, 'EXPOSE').map((expose) => expose.args)).toEqual([grpcPortOf(service)]);
    expect(all(runtime, 'VOLUME')).toEqual([]);
  });

  it('has a build-context allow-list that admits exactly what its COPY instructions read', () => {
    const ignore = readFileSync(`${dockerfilePath(service)}.dockerignore`, 'utf8');
    const allowed = ignore
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1));
    const contextCopies = stages.flatMap((stage) => all(stage, 'COPY').filter((copy) => !copy.flags['from']));
    const sources = contextCopies.flatMap((copy) => copy.args.split(/\s+/).slice(0, -1));
    expect(new Set(sources)).toEqual(new Set(allowed));
  });
});

describe('the four Dockerfiles', () => {
  it('are the same recipe, differing only in the service name and port', () => {
    const normalise = (service: string): string =>
      read(service).replaceAll(service, '<service>').replaceAll(grpcPortOf(service), '<port>');
    for (const service of services) expect(normalise(service)).toEqual(normalise('auth-broker'));
  });
});

describe('deploy/docker/web-gateway.Dockerfile', () => {
  const stages = parseDockerfile(read('web-gateway'));
  const runtime = finalStage(stages);
  const all = (stage: DockerStage, keyword: string) =>
    stage.instructions.filter((instruction) => instruction.keyword === keyword);
  const gatewayConfig = readFileSync(path.join(repoRoot, 'deploy', 'k8s', 'base', 'web-gateway', 'config.env'), 'utf8');
  const configValue = (name: string) => (gatewayConfig.match(new RegExp(`^${name}=(.+)$`, 'm')) as RegExpMatchArray)[1];

  it("is the services' recipe plus a stage that builds the console, every stage on the pinned Node image", () => {
    expect(stages.map((stage) => stage.alias)).toEqual(['build', 'console', 'deps', 'runtime']);
    for (const stage of stages) expect(stage.image.startsWith(`node:${nodeVersion}-`)).toBe(true);
    const build = stages.find((stage) => stage.alias === 'build') as DockerStage;
    expect(all(build, 'RUN').map((run) => run.args)).toContain('node tools/build/build-service.mjs web-gateway');
    const console = stages.find((stage) => stage.alias === 'console') as DockerStage;
    expect(all(console, 'RUN').map((run) => run.args)).toEqual([
      'npm ci --ignore-scripts --no-audit --no-fund',
      'node node_modules/vite/bin/vite.js build --config apps/web-console/vite.config.mts --logLevel warn',
    ]);
  });

  it('runs as a numeric non-root user, installs nothing in the final stage, and serves the console it built', () => {
    expect(all(runtime, 'USER').map((user) => user.args)).toEqual(['10001:10001']);
    const userIndex = runtime.instructions.findIndex((instruction) => instruction.keyword === 'USER');
    expect(runtime.instructions.slice(userIndex).map((instruction) => instruction.keyword)).toEqual([
      'USER',
      'EXPOSE',
      'ENTRYPOINT',
    ]);
    for (const run of all(runtime, 'RUN')) expect(run.args).not.toMatch(/\b(npm|yarn|pnpm)\s+(i|install|ci|add)\b/);
    expect(all(runtime, 'COPY').map((copy) => [copy.flags['from'], copy.args])).toEqual([
      ['deps', '/app/node_modules ./node_modules'],
      ['build', '/src/dist/apps/web-gateway/ ./'],
      ['console', '/src/dist/apps/web-console/ ./console/'],
    ]);
    const env = Object.assign({}, ...all(runtime, 'ENV').map((instruction) => parseEnvInstruction(instruction.args))) as Record<
      string,
      string
    >;
    expect(env).toEqual({
      NODE_ENV: 'production',
      WEB_GATEWAY_HOST: '0.0.0.0',
      WEB_GATEWAY_PORT: configValue('WEB_GATEWAY_PORT'),
      WEB_GATEWAY_ASSETS_DIR: configValue('WEB_GATEWAY_ASSETS_DIR'),
    });
    expect(all(runtime, 'EXPOSE').map((expose) => expose.args)).toEqual([configValue('WEB_GATEWAY_PORT')]);
    expect(all(runtime, 'ENTRYPOINT').map((entrypoint) => entrypoint.exec)).toEqual([['node', 'main.js']]);
  });

  it('has a build-context allow-list that admits exactly what its COPY instructions read', () => {
    const allowed = readFileSync(`${dockerfilePath('web-gateway')}.dockerignore`, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1));
    const sources = stages.flatMap((stage) =>
      all(stage, 'COPY')
        .filter((copy) => !copy.flags['from'])
        .flatMap((copy) => copy.args.split(/\s+/).slice(0, -1)),
    );
    expect(new Set(sources)).toEqual(new Set(allowed));
  });
});

describe('parseDockerfile', () => {
  it('joins continuation lines, drops comments and splits flags', () => {
    const [stage] = parseDockerfile(
      '# syntax=docker/dockerfile:1\nFROM node:24.1.0-slim AS build\nRUN a \\\n  # inner comment\n  && b\nCOPY --from=build --chown=1:1 /x ./\nENTRYPOINT ["node", "main.js"]\n',
    );
    expect(stage?.alias).toBe('build');
    expect(stage?.instructions.map((instruction) => [instruction.keyword, instruction.args, instruction.flags])).toEqual([
      ['RUN', 'a && b', {}],
      ['COPY', '/x ./', { from: 'build', chown: '1:1' }],
      ['ENTRYPOINT', '["node", "main.js"]', {}],
    ]);
    expect(stage?.instructions[2]?.exec).toEqual(['node', 'main.js']);
  });
});

describe('the images and the production build', () => {
  it('builds a bundle for every image under deploy/docker with `build-service.mjs --all`, the web gateway included', () => {
    const images = readdirSync(path.join(repoRoot, 'deploy', 'docker'))
      .filter((name) => name.endsWith('.Dockerfile'))
      .map((name) => name.slice(0, -'.Dockerfile'.length))
      .sort();
    // Without arguments the script prints its usage, which lists what --all builds.
    const usage = spawnSync(process.execPath, [path.join(repoRoot, 'tools', 'build', 'build-service.mjs')], { encoding: 'utf8' });
    const built = (/\(services: ([^)]*)\)/.exec(usage.stderr)?.[1] ?? '').split(', ').sort();
    expect(built).toEqual(images);
    expect(built).toContain('web-gateway');
  });
});
