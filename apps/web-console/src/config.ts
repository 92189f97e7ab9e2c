/**
 * What the console needs to know at run time, served by the gateway as `config.json` next to
 * index.html (so one build serves every deployment).
 */
export interface ConsoleConfig {
  /** The tenant's Entra authority, e.g. `https://login.microsoftonline.com/<tenant id>`. */
  authority: string;
  /** Client id of the console's app registration (SPA platform); the router's agent audience. */
  clientId: string;
  /** Authority hosts that are not Microsoft's (e.g. the graph sandbox), trusted as given. Default none. */
  knownAuthorities: string[];
  /** Base URL of the gRPC-web gateway. Default: this page's origin. */
  apiUrl: string;
  /** URL of the gateway's reply-attachment upload endpoint. Default: `<apiUrl>/uploads/reply-attachments`. */
  uploadUrl: string;
  /** Name shown in the header, e.g. the tenant's name. Default "mailroute". */
  title: string;
}

/** Raised when config.json is missing or malformed; the page says so instead of a blank screen. */
export class ConsoleConfigError extends Error {
  override readonly name = 'ConsoleConfigError';
}

function readString(raw: Record<string, unknown>, field: string, fallback?: string): string {
  const value = raw[field];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '')
    throw new ConsoleConfigError(`config.json: ${field} must be a non-empty string`);
  return value.trim();
}

/** Validates the parsed config.json and fills in the defaults. */
export function toConsoleConfig(raw: unknown, pageOrigin: string): ConsoleConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConsoleConfigError('config.json: expected an object');
  const record = raw as Record<string, unknown>;
  const authority = readString(record, 'authority');
  if (!/^https:\/\//.test(authority)) throw new ConsoleConfigError('config.json: authority must be an https URL');
  const known = record['knownAuthorities'] ?? [];
  if (!Array.isArray(known) || !known.every((host) => typeof host === 'string')) {
    throw new ConsoleConfigError('config.json: knownAuthorities must be a list of host names');
  }
  const apiUrl = readString(record, 'apiUrl', pageOrigin).replace(/\/+$/, '');
  return {
    authority,
    clientId: readString(record, 'clientId'),
    knownAuthorities: known as string[],
    apiUrl,
    uploadUrl: readString(record, 'uploadUrl', `${apiUrl}/uploads/reply-attachments`),
    title: readString(record, 'title', 'mailroute'),
  };
}

/** Fetches and validates config.json from beside the page. */
export async function loadConsoleConfig(): Promise<ConsoleConfig> {
  const response = await fetch(new URL('config.json', document.baseURI), { cache: 'no-store' });
  if (!response.ok) throw new ConsoleConfigError(`config.json: the server answered ${response.status}`);
  return toConsoleConfig(await response.json(), window.location.origin);
}
