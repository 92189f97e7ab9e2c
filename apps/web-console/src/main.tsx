// Boot: Buffer for the generated decoders, config.json, sign-in, the clients, then the page.
import './buffer-global';
import { render } from 'preact';
import { createConsoleClients } from './api/clients';
import { App } from './app';
import { startAuth } from './auth/session';
import { loadConsoleConfig } from './config';
import { ConfigErrorScreen } from './ui/screens';

async function boot(root: HTMLElement): Promise<void> {
  try {
    const config = await loadConsoleConfig();
    document.title = config.title;
    const auth = await startAuth(config);
    const session = auth.session;
    const clients = session ? createConsoleClients(config.apiUrl, () => session.idToken()) : undefined;
    render(<App config={config} auth={auth} clients={clients} />, root);
  } catch (error) {
    render(<ConfigErrorScreen message={error instanceof Error ? error.message : String(error)} />, root);
  }
}

const root = document.getElementById('app');
if (root) void boot(root);
