// Builds the web console (agent desktop and supervisor console) into dist/apps/web-console, the folder
// the web gateway serves. Offline: everything comes from node_modules; no CDN, no runtime fetches
// other than the page's own config.json and the gateway's APIs.
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
// The one definition of the page and its policy, which the gateway serves in production.
import { mailFramePagePath, serveMailFramePage } from '../web-gateway/src/http/mail-frame-page';

const root = fileURLToPath(new URL('.', import.meta.url));
const workspace = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The gateway's `/mail-frame.html` (a message with its remote images shown loads into it) in `vite` (dev) and
 * `vite preview` too, with the same headers, so "Show remote images" works there as it does in production.
 */
const mailFramePage: Plugin = {
  name: 'mailroute-mail-frame-page',
  configureServer(server) {
    server.middlewares.use(mailFramePagePath, (request, response) => serveMailFramePage(request, response));
  },
  configurePreviewServer(server) {
    server.middlewares.use(mailFramePagePath, (request, response) => serveMailFramePage(request, response));
  },
};

export default defineConfig({
  root,
  // Relative asset URLs: the gateway may serve the console under any path.
  base: './',
  resolve: {
    alias: { '@mailroute/contracts': `${workspace}libs/contracts/src/index.ts` },
  },
  plugins: [mailFramePage],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: `${workspace}dist/apps/web-console`,
    emptyOutDir: true,
    // The strict CSP of the gateway allows no inline script or style: keep every asset a file.
    assetsInlineLimit: 0,
    sourcemap: true,
    target: 'es2022',
    // The generated contracts (every message's codec) and msal-browser make one ~1 MB chunk; an
    // internal console loaded once per shift, cached by the browser.
    chunkSizeWarningLimit: 2048,
  },
});
