import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createConsoleAssets, type ConsoleRuntimeConfig } from './console-assets';

describe('the console assets', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'console-assets-'));
  const root = path.join(dir, 'console');
  let server: Server;
  let base = '';
  const serveFrom = (assetsRoot: string, runtimeConfig?: ConsoleRuntimeConfig) => {
    const serve = createConsoleAssets({ root: assetsRoot, runtimeConfig });
    return createServer((request, response) => void serve(request, response, new URL(request.url ?? '/', 'http://x').pathname));
  };
  const get = async (pathname: string, origin = base) => {
    const response = await fetch(`${origin}${pathname}`);
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      cache: response.headers.get('cache-control'),
      body: await response.text(),
    };
  };

  beforeAll(async () => {
    mkdirSync(path.join(root, 'assets'), { recursive: true });
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(path.join(root, 'assets', 'app-1a2b.js'), 'console.log(1)');
    writeFileSync(path.join(root, '.env'), 'SECRET=1');
    writeFileSync(path.join(dir, 'outside.txt'), 'outside the root');
    server = serveFrom(root, { authority: 'https://login.example/t', clientId: 'c', knownAuthorities: [], title: 'mailroute' });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves files with their type, hashed assets cached for a year and index.html never', async () => {
    expect(await get('/assets/app-1a2b.js')).toEqual(
      expect.objectContaining({
        status: 200,
        type: 'text/javascript; charset=utf-8',
        cache: 'public, max-age=31536000, immutable',
      }),
    );
    expect(await get('/')).toEqual(
      expect.objectContaining({ status: 200, cache: 'no-store', body: '<!doctype html><title>console</title>' }),
    );
  });

  it('answers index.html for the console routes (paths without an extension), 404 for a missing file', async () => {
    expect((await get('/desktop/interactions/abc')).body).toContain('<title>console</title>');
    expect((await get('/assets/missing.js')).status).toBe(404);
  });

  it('never serves anything outside its folder, nor dot-files', async () => {
    for (const pathname of [
      '/%2e%2e/outside.txt',
      '/assets/%2e%2e/%2e%2e/outside.txt',
      '/..%2foutside.txt',
      '/.env',
      '/assets%5c..%5c..%5coutside.txt',
      '/%00',
    ])
      expect([pathname, (await get(pathname)).status]).toEqual([pathname, 404]);
  });

  it('serves config.json from the configuration, and 404 without one', async () => {
    expect(JSON.parse((await get('/config.json')).body)).toEqual({
      authority: 'https://login.example/t',
      clientId: 'c',
      knownAuthorities: [],
      title: 'mailroute',
    });
    const bare = serveFrom(path.join(dir, 'not-built'));
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
    try {
      expect((await get('/config.json', origin)).status).toBe(404);
      // Nothing built yet: a placeholder page says so.
      expect((await get('/', origin)).body).toContain('the console has not been built yet');
    } finally {
      await new Promise((resolve) => bare.close(resolve));
    }
  });
});
