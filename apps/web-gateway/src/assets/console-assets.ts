import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

/** What the console reads at run time as `config.json` beside index.html (see apps/web-console/src/config.ts). */
export interface ConsoleRuntimeConfig {
  authority: string;
  clientId: string;
  /** Authority hosts that are not Microsoft's (the graph sandbox), which msal-browser must be told to trust. */
  knownAuthorities: string[];
  title: string;
}

export interface ConsoleAssetsOptions {
  /** The built console's folder. */
  root: string;
  /** Served as /config.json; unset answers 404 (the console says it is not configured). */
  runtimeConfig: ConsoleRuntimeConfig | undefined;
}

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** Shown while no console is built (`nx run web-console:build` builds it). */
const placeholderPage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>mailroute</title></head>
<body>
<h1>mailroute</h1>
<p>The web gateway is running, but the console has not been built yet.</p>
</body>
</html>
`;

/**
 * The console's static files: GET and HEAD of files under `root` (never outside it: `..`, encoded
 * slashes, NUL and dot-files are refused), `config.json` from the gateway's configuration, and
 * index.html for any other path without a file extension (the console routes in the browser).
 * index.html and config.json are never cached; files under `assets/` (content-hashed by the build)
 * are cached for a year.
 */
export function createConsoleAssets(options: ConsoleAssetsOptions) {
  const root = path.resolve(options.root);
  const configBody = options.runtimeConfig ? JSON.stringify(options.runtimeConfig) : undefined;

  async function fileAt(relative: string): Promise<{ file: string; stats: Stats } | undefined> {
    const file = path.join(root, relative);
    if (file !== root && !file.startsWith(`${root}${path.sep}`)) return undefined;
    try {
      const stats = await stat(file);
      return stats.isFile() ? { file, stats } : undefined;
    } catch {
      return undefined;
    }
  }

  return async function serve(request: IncomingMessage, response: ServerResponse, pathname: string): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      response.end('method not allowed\n');
      return;
    }
    let relative: string;
    try {
      relative = decodeURIComponent(pathname);
    } catch {
      return notFound(response);
    }
    if (
      relative.includes('\0') ||
      relative.includes('\\') ||
      relative.split('/').some((part) => part === '..' || part.startsWith('.'))
    )
      return notFound(response);
    if (relative === '/config.json') {
      if (!configBody) return notFound(response);
      response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : configBody);
      return;
    }
    const isIndex = relative === '/' || relative === '/index.html' || path.extname(relative) === '';
    const found = await fileAt(isIndex ? 'index.html' : relative.slice(1));
    if (!found) {
      if (!isIndex) return notFound(response);
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : placeholderPage);
      return;
    }
    response.writeHead(200, {
      'content-type': contentTypes[path.extname(found.file).toLowerCase()] ?? 'application/octet-stream',
      'content-length': found.stats.size,
      'cache-control': isIndex
        ? 'no-store'
        : relative.startsWith('/assets/')
          ? 'public, max-age=31536000, immutable'
          : 'no-cache',
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    await pipeline(createReadStream(found.file), response).catch(() => undefined);
  };
}

function notFound(response: ServerResponse): void {
  response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  response.end('not found\n');
}
