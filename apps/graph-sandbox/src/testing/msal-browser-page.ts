import { InteractionRequiredAuthError, PublicClientApplication } from '@azure/msal-browser';

/** What the test page gets from the spec (`window.msalPageConfig`) and where it writes its outcome. */
export interface MsalPageConfig {
  authority: string;
  clientId: string;
  knownAuthorities: string[];
}

interface PageGlobals {
  msalPageConfig: MsalPageConfig;
  location: { origin: string };
  document: { getElementById(id: string): { textContent: string | null } | null };
}

const page = globalThis as unknown as PageGlobals;
const show = (value: unknown) => {
  const target = page.document.getElementById('outcome');
  if (target) target.textContent = JSON.stringify(value);
};

/**
 * The smallest single-page app on @azure/msal-browser, bundled by the spec for Chromium: loginRedirect
 * (auth code + PKCE), then on the way back a forced silent refresh (the SPA refresh token, cross-origin).
 */
async function run(): Promise<void> {
  const { authority, clientId, knownAuthorities } = page.msalPageConfig;
  const redirectUri = `${page.location.origin}/`;
  const msal = new PublicClientApplication({
    auth: { clientId, authority, knownAuthorities, redirectUri, postLogoutRedirectUri: redirectUri },
    cache: { cacheLocation: 'sessionStorage' },
  });
  await msal.initialize();
  const result = await msal.handleRedirectPromise();
  if (!result?.account) {
    show({ state: 'redirecting' });
    await msal.loginRedirect({ scopes: ['openid', 'profile'], prompt: 'select_account' });
    return;
  }
  const refreshed = await msal.acquireTokenSilent({ scopes: ['openid', 'profile'], account: result.account, forceRefresh: true });
  show({
    state: 'signed-in',
    claims: result.idTokenClaims,
    refreshedFromCache: refreshed.fromCache,
    refreshedRoles: refreshed.idTokenClaims,
  });
}

run().catch((error: unknown) =>
  show({
    state: 'error',
    interactionRequired: error instanceof InteractionRequiredAuthError,
    code: (error as { errorCode?: string }).errorCode ?? '',
    message: (error as { errorMessage?: string; message?: string }).errorMessage ?? (error as Error).message,
  }),
);
