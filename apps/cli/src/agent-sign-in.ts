import type { AccountInfo, DeviceCodeRequest } from '@azure/msal-node';
import { CliError } from './errors';
import type { CliSettings } from './settings';

/** An agent's Entra ID token for the desktop API, renewable when the router says it expired. */
export interface AgentCredential {
  /** The current ID token (sent as the bearer token; never printed). */
  token(): string;
  /** Tries to get a fresh token without asking the user (refresh token); false when not possible. */
  refresh(): Promise<boolean>;
  /** Who signed in, for the banner. */
  username: string;
}

/** Scopes of "Sign in with Microsoft": MSAL adds openid, profile and offline_access; User.Read is what Entra consents by default. */
const signInScopes = ['User.Read'];

/**
 * Signs the agent in with the OAuth 2.0 device-code flow against the Entra ID authority (or the graph
 * sandbox) through MSAL: the user opens the verification URL and enters the code shown on stderr.
 * The desktop app registration must allow public client flows. With MAILROUTE_AGENT_TOKEN set, that
 * ID token is used as is.
 */
export async function signInAgent(
  settings: CliSettings['agent'],
  notify: (message: string) => void,
  signal: AbortSignal,
): Promise<AgentCredential> {
  if (settings.token) {
    const token = settings.token;
    return { token: () => token, refresh: async () => false, username: 'token from MAILROUTE_AGENT_TOKEN' };
  }
  if (!settings.directory)
    throw new CliError(
      'agent sign-in needs --directory (or MAILROUTE_AGENT_DIRECTORY): the Entra directory (tenant) id of the agents',
    );
  if (!settings.clientId)
    throw new CliError(
      "agent sign-in needs --client-id (or MAILROUTE_AGENT_CLIENT_ID): the agent desktop app registration (the router's ROUTER_AGENT_AUDIENCE)",
    );
  // Loaded here, not at start-up: only the agent mode needs MSAL, and every other command starts faster without it.
  const { PublicClientApplication } = await import('@azure/msal-node');
  const msal = new PublicClientApplication({
    auth: {
      clientId: settings.clientId,
      authority: `${settings.authority}/${settings.directory}`,
      knownAuthorities: [new URL(settings.authority).host],
    },
  });
  // MSAL polls the token endpoint until the user has signed in; setting `cancel` stops it (Ctrl-C).
  const request: DeviceCodeRequest = {
    scopes: signInScopes,
    deviceCodeCallback: (response) => notify(response.message),
    cancel: false,
  };
  const onAbort = () => {
    request.cancel = true;
  };
  signal.addEventListener('abort', onAbort);
  let account: AccountInfo | null = null;
  let token = '';
  try {
    const result = await msal.acquireTokenByDeviceCode(request);
    account = result?.account ?? null;
    token = result?.idToken ?? '';
  } catch (error) {
    throw new CliError(`sign-in failed: ${describeMsalError(error)}`);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  if (!token) throw new CliError('sign-in returned no ID token (the app registration must allow the openid scope)');
  return {
    token: () => token,
    username: account?.username ?? '',
    async refresh() {
      if (!account) return false;
      try {
        const result = await msal.acquireTokenSilent({ account, scopes: signInScopes, forceRefresh: true });
        if (!result.idToken) return false;
        token = result.idToken;
        return true;
      } catch {
        return false;
      }
    },
  };
}

function describeMsalError(error: unknown): string {
  if (error && typeof error === 'object') {
    const { errorCode, errorMessage, message } = error as { errorCode?: string; errorMessage?: string; message?: string };
    const text = (errorMessage || message || '').split('\n')[0] ?? '';
    return [errorCode, text].filter(Boolean).join(': ') || 'unknown error';
  }
  return String(error);
}
