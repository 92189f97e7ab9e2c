import type { FastifyReply } from 'fastify';
import type { Mailbox } from '../model/model.types';

/** Escapes text for HTML content and double-quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

// Interactive pages run no script, load nothing and may not be framed (as Entra's sign-in page refuses framing).
const pageSecurityHeaders = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
};

const style =
  '<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}' +
  'label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box}' +
  'button{margin-top:1rem;padding:.5rem 1.5rem}.error{color:#a80000}li{margin:.3rem 0}</style>';

/** Sends an HTML page with the sign-in pages' security headers. */
export function sendPage(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .status(status)
    .headers(pageSecurityHeaders)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html><html lang="en"><meta charset="utf-8"><title>${escapeHtml(title)}</title>${style}${body}</html>`);
}

export interface SignInPageInput {
  /** The authorize URL (path and query) the form posts back to, so every request parameter survives. */
  action: string;
  tenantName: string;
  appName: string;
  /** Prefilled user name (login_hint or what was typed). */
  username?: string;
  /** AADSTS text shown above the form after a failed attempt. */
  error?: string;
  /** Accounts to pick from (links that add login_hint); users with a password still get the password form. */
  accounts: readonly Mailbox[];
  /** Builds the link that picks an account. */
  pickUrl: (account: Mailbox) => string;
}

/**
 * The sandbox's sign-in page: user name and password (fields `login` and `passwd`, as Entra's form
 * names them), and the tenant's accounts to pick from. Only users created with a password need one.
 */
export function renderSignInPage(input: SignInPageInput): string {
  const accounts = input.accounts
    .map(
      (account) =>
        `<li><a href="${escapeHtml(input.pickUrl(account))}">${escapeHtml(account.displayName)} &lt;${escapeHtml(account.userPrincipalName)}&gt;</a>${account.password === undefined ? '' : ' (password)'}</li>`,
    )
    .join('');
  return (
    `<h1>Sign in</h1><p>to <strong>${escapeHtml(input.appName)}</strong> — ${escapeHtml(input.tenantName)} (graph-sandbox)</p>` +
    (input.error ? `<p class="error" role="alert" id="error">${escapeHtml(input.error)}</p>` : '') +
    `<form method="post" action="${escapeHtml(input.action)}">` +
    `<label for="login">Email or user name</label><input id="login" name="login" type="email" autocomplete="username" required value="${escapeHtml(input.username ?? '')}">` +
    `<label for="passwd">Password</label><input id="passwd" name="passwd" type="password" autocomplete="current-password">` +
    `<button id="signin" type="submit">Sign in</button></form>` +
    (accounts ? `<h2>Pick an account</h2><ul>${accounts}</ul>` : '')
  );
}

/** The `form_post` response: an auto-submitting form to the redirect URI (the only page with a script). */
export function renderFormPost(redirectUri: string, fields: URLSearchParams): string {
  const inputs = [...fields]
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return `<!doctype html><body onload="document.forms[0].submit()"><form method="post" action="${escapeHtml(redirectUri)}">${inputs}</form></body>`;
}
