// Boot: Buffer for the generated decoders, config.json, sign-in, the clients, then the page.
import './buffer-global';
import { render, type VNode } from 'preact';
import { createConsoleClients } from './api/clients';
import { App } from './app';
import { startAuth } from './auth/session';
import { loadConsoleConfig } from './config';
import { ConfigErrorScreen } from './ui/screens';

async function firstView(): Promise<VNode> {
  try {
    const config = await loadConsoleConfig();
    document.title = config.title;
    const auth = await startAuth(config);
    const session = auth.session;
    const clients = session ? createConsoleClients(config.apiUrl, () => session.idToken()) : undefined;
    return <App config={config} auth={auth} clients={clients} />;
  } catch (error) {
    return <ConfigErrorScreen message={error instanceof Error ? error.message : String(error)} />;
  }
}

const root = document.getElementById('app');
if (root) {
  void firstView().then((view) => {
    // index.html's static "Loading" line goes; Preact renders into an empty element.
    root.replaceChildren();
    render(view, root);
  });
}
