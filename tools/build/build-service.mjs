#!/usr/bin/env node
// Production build of services: `node tools/build/build-service.mjs [--out-dir <dir>] <service>… | --all`
// (default out dir: dist/apps).
//
// Bundles apps/<service>/src/main.ts and the workspace libs it imports (the @mailroute/* aliases of
// tsconfig.base.json) with esbuild into dist/apps/<service>/main.js (CommonJS, node24), and writes
// beside it what `npm ci --omit=dev` needs to install the service's runtime packages:
//
//   main.js, main.js.map   workspace code only
//   package.json           the npm packages main.js requires, at the root package.json's exact versions
//   package-lock.json      the root lock pruned to those packages and their dependencies (no dev ones)
//
// npm packages stay external, on purpose: the OpenTelemetry instrumentations (grpc, kafkajs,
// mongodb, http) patch packages as they are `require`d from node_modules, which a bundle would
// bypass; drivers load optional peers (kerberos, snappy, …) lazily; and the image layer holding
// node_modules is cached apart from the code layer. A build fails if the code requires a package
// that is not a production dependency of the root package.json.
import { builtinModules } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The services that ship to production, one image each under deploy/docker (apps/graph-sandbox is a
 * dev-only emulator). `--all` builds them all, the web gateway included (its image adds the console).
 */
export const PRODUCTION_SERVICES = ['auth-broker', 'mailbox-fetch', 'interaction-router', 'outbound-send', 'web-gateway'];

const builtins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));

class BuildError extends Error {}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** esbuild plugin: the @mailroute/* path aliases, read from tsconfig.base.json (one source of truth). */
function workspaceAliases() {
  const { compilerOptions } = readJson(path.join(REPO_ROOT, 'tsconfig.base.json'));
  const aliases = new Map(
    Object.entries(compilerOptions.paths ?? {}).map(([alias, [target]]) => [alias, path.resolve(REPO_ROOT, target)]),
  );
  return {
    name: 'mailroute-workspace-aliases',
    setup(build) {
      build.onResolve({ filter: /^@mailroute\// }, (args) => {
        const target = aliases.get(args.path);
        if (!target) {
          return {
            errors: [
              { text: `${args.path} is not a path alias in tsconfig.base.json (deep imports of workspace libs are not allowed)` },
            ],
          };
        }
        return { path: target };
      });
    },
  };
}

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
export function packageNameOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * The entries of a v3 package-lock that a set of top-level packages needs at run time: each
 * package, then its dependencies, optional dependencies and non-optional peers, resolved the way
 * Node does (nested node_modules first, then each ancestor's).
 */
export function pruneLock(lock, rootPackage) {
  const packages = lock.packages ?? {};
  const kept = new Map();
  const resolve = (fromPath, name) => {
    let base = fromPath;
    for (;;) {
      const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
      if (packages[candidate]) return candidate;
      if (!base) return null;
      const index = base.lastIndexOf('/node_modules/');
      base = index === -1 ? '' : base.slice(0, index);
    }
  };
  const visit = (fromPath, name, optional) => {
    const found = resolve(fromPath, name);
    if (!found) {
      if (optional) return;
      throw new BuildError(
        `package-lock.json has no entry for ${name} (needed by ${fromPath || 'the service'}): run npm install at the root`,
      );
    }
    if (kept.has(found)) return;
    const entry = packages[found];
    if (entry.link) throw new BuildError(`${found} is a workspace link; services may depend on registry packages only`);
    kept.set(found, entry);
    const peersOptional = entry.peerDependenciesMeta ?? {};
    for (const dep of Object.keys(entry.dependencies ?? {})) visit(found, dep, false);
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) visit(found, dep, true);
    for (const dep of Object.keys(entry.peerDependencies ?? {})) visit(found, dep, Boolean(peersOptional[dep]?.optional));
  };
  for (const name of Object.keys(rootPackage.dependencies)) visit('', name, false);
  const sorted = [...kept.entries()].sort(([a], [b]) => a.localeCompare(b));
  return {
    name: rootPackage.name,
    version: rootPackage.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': {
        name: rootPackage.name,
        version: rootPackage.version,
        license: rootPackage.license,
        dependencies: rootPackage.dependencies,
        engines: rootPackage.engines,
      },
      ...Object.fromEntries(
        sorted.map(([key, entry]) => [
          key,
          Object.fromEntries(Object.entries(entry).filter(([field]) => field !== 'dev' && field !== 'devOptional')),
        ]),
      ),
    },
  };
}

/**
 * Builds one service into dist/apps/<service>/ and returns what it wrote.
 * @param {string} service
 * @param {{ outRoot?: string }} [options]
 */
export async function buildService(service, options = {}) {
  const entry = path.join(REPO_ROOT, 'apps', service, 'src', 'main.ts');
  if (!/^[a-z][a-z0-9-]*$/.test(service) || !fs.existsSync(entry)) {
    throw new BuildError(`unknown service "${service}": expected apps/${service}/src/main.ts`);
  }
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new BuildError('esbuild is not installed (it comes with tsx): run npm install at the repository root');
  }
  const rootPackage = readJson(path.join(REPO_ROOT, 'package.json'));
  const outDir = path.join(options.outRoot ?? path.join(REPO_ROOT, 'dist', 'apps'), service);
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });

  const result = await esbuild.build({
    absWorkingDir: REPO_ROOT,
    entryPoints: [entry],
    outfile: path.join(outDir, 'main.js'),
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    packages: 'external',
    plugins: [workspaceAliases()],
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
    banner: { js: `// mailroute ${service} ${rootPackage.version}: production build (tools/build/build-service.mjs)` },
  });

  const required = new Set();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imported of output.imports) {
      if (!imported.external || builtins.has(imported.path)) continue;
      required.add(packageNameOf(imported.path));
    }
  }
  const dependencies = {};
  const problems = [];
  for (const name of [...required].sort()) {
    const version = rootPackage.dependencies?.[name];
    if (version) dependencies[name] = version;
    else if (rootPackage.devDependencies?.[name])
      problems.push(`${name} is a devDependency of the root package.json; production code may not require it`);
    else problems.push(`${name} is not a dependency of the root package.json`);
  }
  if (problems.length > 0) throw new BuildError(`apps/${service}: ${problems.join('; ')}`);

  const servicePackage = {
    name: `@mailroute/${service}`,
    version: rootPackage.version,
    private: true,
    license: rootPackage.license,
    description: `mailroute ${service} (production build; install with npm ci --omit=dev)`,
    type: 'commonjs',
    main: 'main.js',
    engines: rootPackage.engines,
    dependencies,
  };
  const lock = pruneLock(readJson(path.join(REPO_ROOT, 'package-lock.json')), servicePackage);
  fs.writeFileSync(path.join(outDir, 'package.json'), `${JSON.stringify(servicePackage, null, 2)}\n`);
  fs.writeFileSync(path.join(outDir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  const bytes = fs.statSync(path.join(outDir, 'main.js')).size;
  return { service, outDir, dependencies, lockedPackages: Object.keys(lock.packages).length - 1, bytes };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out-dir');
  const outRoot = outIndex === -1 ? undefined : path.resolve(args[outIndex + 1] ?? '');
  const named = args.filter((arg, index) => !arg.startsWith('--') && (outIndex === -1 || index !== outIndex + 1));
  const services = args.includes('--all') ? PRODUCTION_SERVICES : named;
  if (services.length === 0 || (outIndex !== -1 && !args[outIndex + 1])) {
    console.error(
      `usage: node tools/build/build-service.mjs [--out-dir <dir>] <service>… | --all   (services: ${PRODUCTION_SERVICES.join(', ')})`,
    );
    process.exit(2);
  }
  try {
    for (const service of services) {
      const start = performance.now();
      const built = await buildService(service, outRoot ? { outRoot } : {});
      console.log(
        `${service}: ${path.relative(REPO_ROOT, built.outDir)}/main.js (${(built.bytes / 1024).toFixed(0)} KiB), ` +
          `${Object.keys(built.dependencies).length} npm packages, ${built.lockedPackages} locked, ${((performance.now() - start) / 1000).toFixed(1)}s`,
      );
    }
  } catch (error) {
    console.error(`build-service: ${error instanceof BuildError ? error.message : (error?.stack ?? error)}`);
    process.exit(1);
  }
}
