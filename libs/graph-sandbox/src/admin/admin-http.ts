import { AdminRequestError } from '../errors';

/**
 * One request to the sandbox's admin API (plain HTTP on loopback), shared by the admin clients: JSON in, JSON out,
 * AdminRequestError with the status and body when the API refuses.
 */
export async function adminRequest<T>(adminUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${adminUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const parsed: unknown = text === '' ? undefined : JSON.parse(text);
  if (!response.ok) {
    const message = (parsed as { error?: { message?: string } } | undefined)?.error?.message ?? response.statusText;
    throw new AdminRequestError(response.status, parsed, `graph-sandbox admin ${method} ${path}: ${response.status} ${message}`);
  }
  return parsed as T;
}
