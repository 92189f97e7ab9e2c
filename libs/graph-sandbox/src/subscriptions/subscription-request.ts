import { GraphApiError } from '../errors';
import { newGuid } from '../shared/ids';
import { postToSubscriber } from './notification-transport';
import type { ChangeType } from './subscription.types';

export const maxClientStateLength = 128;
const knownChangeTypes: readonly ChangeType[] = ['created', 'updated', 'deleted'];

export const invalidRequest = (message: string) => new GraphApiError({ status: 400, code: 'InvalidRequest', message });
export const notFound = () => new GraphApiError({ status: 404, code: 'ResourceNotFound', message: 'The object was not found.' });

/** Normalizes `/users('x')/mailFolders('inbox')/messages` to segments. */
export function resourceSegments(resource: string): string[] {
  return resource
    .replace(/\(\s*'([^']*)'\s*\)/g, (_match, key: string) => `/${key}`)
    .split('/')
    .filter(Boolean);
}

export function parseHttpsUrl(value: unknown, field: string): URL {
  if (typeof value !== 'string' || value === '') throw invalidRequest(`The property '${field}' is required.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidRequest(`Invalid '${field}': '${value.slice(0, 200)}' is not an absolute URL.`);
  }
  if (url.protocol !== 'https:') throw invalidRequest(`Invalid '${field}': the URL must use https.`);
  return url;
}

export function parseExpiration(value: unknown, now: number, maxLifetimeMinutes: number): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw invalidRequest("The property 'expirationDateTime' must be an ISO 8601 date and time.");
  if (ms <= now) throw invalidRequest('Subscription expiration must be in the future.');
  if (ms > now + maxLifetimeMinutes * 60_000)
    throw invalidRequest(`Subscription expiration can only be ${maxLifetimeMinutes} minutes in the future.`);
  return ms;
}

export function parseChangeTypes(value: unknown): ChangeType[] {
  if (typeof value !== 'string' || value.trim() === '') throw invalidRequest("The property 'changeType' is required.");
  const types = value.split(',').map((item) => item.trim());
  for (const type of types)
    if (!knownChangeTypes.includes(type as ChangeType)) throw invalidRequest(`'${type.slice(0, 40)}' is not a valid changeType.`);
  return types as ChangeType[];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Graph's validation handshake: POST `?validationToken=`, 200 + the decoded token as text/plain, within 10 s. */
export async function validateNotificationUrl(
  url: URL,
  options: { timeoutMs: number; trustedCaPems: readonly string[] },
): Promise<void> {
  const token = `Validation: Testing client application reachability for subscription Request-Id: ${newGuid()}`;
  const target = new URL(url);
  target.searchParams.set('validationToken', token);
  const answer = await postToSubscriber(target, {
    body: '',
    contentType: 'text/plain; charset=utf-8',
    timeoutMs: options.timeoutMs,
    trustedCaPems: options.trustedCaPems,
  });
  if (!answer.ok && answer.reason === 'timeout') throw invalidRequest('Subscription validation request timed out.');
  if (!answer.ok || answer.status !== 200)
    throw invalidRequest(
      'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
    );
  if (answer.body !== token)
    throw invalidRequest('Subscription validation request failed. Response must exactly match validationToken query parameter.');
}
