// Sign-in with Microsoft for the console: authorization code + PKCE through msal-browser, against the
// tenant's Entra authority (the graph sandbox in the demo and the tests). The ID token is the bearer the
// gateway forwards: its audience is the console's client id, which the router accepts for agents, and
// its `roles` (app roles assigned to the user) say whether the user is a supervisor.
import {
  BrowserCacheLocation,
  createStandardPublicClientApplication,
  InteractionRequiredAuthError,
  type AccountInfo,
} from '@azure/msal-browser';
import type { ConsoleConfig } from '../config';

/** The app role that opens the supervisor console (granted on the console's app registration). */
const SUPERVISOR_ROLE = 'Supervisor';

const ID_TOKEN_SCOPES = ['openid', 'profile'];
const RETURN_TO_KEY = 'mailroute.console.returnTo';

/** The signed-in user. */
export interface SignedInUser {
  name: string;
  username: string;
  tenantId: string;
  roles: string[];
  isSupervisor: boolean;
}

/** Raised when the user must sign in again (session ended, token could not be renewed silently). */
export class SignInRequiredError extends Error {
  override readonly name = 'SignInRequiredError';
}

/** A sign-in session: the user, a fresh ID token on demand, sign-out. */
export interface Session {
  readonly user: SignedInUser;
  /** An unexpired ID token (renewed silently); SignInRequiredError when that is no longer possible. */
  idToken(): Promise<string>;
  signOut(): Promise<void>;
}

/** Entry point of the sign-in state: finishes a redirect in progress and says who is signed in. */
export interface Auth {
  /** The current session, or undefined when nobody is signed in. */
  readonly session: Session | undefined;
  /** Sends the browser to the sign-in page; it comes back to the screen it left. */
  signIn(): Promise<void>;
}

function toUser(account: AccountInfo): SignedInUser {
  const claims = account.idTokenClaims ?? {};
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((role): role is string => typeof role === 'string') : [];
  return {
    name: account.name || account.username,
    username: account.username,
    tenantId: account.tenantId,
    roles,
    isSupervisor: roles.includes(SUPERVISOR_ROLE),
  };
}

/** Starts msal-browser, handles the sign-in redirect if the page is one, and restores the screen. */
export async function startAuth(config: ConsoleConfig): Promise<Auth> {
  const pageUrl = `${window.location.origin}${window.location.pathname}`;
  const msal = await createStandardPublicClientApplication({
    auth: {
      clientId: config.clientId,
      authority: config.authority,
      knownAuthorities: config.knownAuthorities,
      redirectUri: pageUrl,
      postLogoutRedirectUri: pageUrl,
    },
    // Per tab: closing the tab signs out of the console (not of Microsoft).
    cache: { cacheLocation: BrowserCacheLocation.SessionStorage },
  });
  const redirect = await msal.handleRedirectPromise();
  if (redirect?.account) msal.setActiveAccount(redirect.account);
  const returnTo = sessionStorage.getItem(RETURN_TO_KEY);
  if (redirect && returnTo !== null) {
    sessionStorage.removeItem(RETURN_TO_KEY);
    if (returnTo.startsWith('#')) window.location.hash = returnTo;
  }
  const account = msal.getActiveAccount() ?? msal.getAllAccounts()[0];

  const session: Session | undefined = account && {
    user: toUser(account),
    async idToken() {
      try {
        const result = await msal.acquireTokenSilent({ scopes: ID_TOKEN_SCOPES, account });
        return result.idToken;
      } catch (error) {
        if (error instanceof InteractionRequiredAuthError) throw new SignInRequiredError('sign in again', { cause: error });
        throw error;
      }
    },
    signOut: () => msal.logoutRedirect({ account }),
  };

  return {
    session,
    signIn: () => {
      sessionStorage.setItem(RETURN_TO_KEY, window.location.hash);
      return msal.loginRedirect({ scopes: ID_TOKEN_SCOPES, prompt: 'select_account' });
    },
  };
}
