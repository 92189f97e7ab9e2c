import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensurePrivateFile, hashBearerCredential, writePrivateFile } from '@mailroute/platform';

/**
 * The credentials the all-in-one host mints for itself and keeps in `<dataDir>/host-secrets.json`
 * (mode 0600), so a restart keeps working with the same API keys: the service tokens with which
 * mailbox-fetch and outbound-send call auth-broker, one workload-manager API key per tenant, and
 * auth-broker's encryption key (keep the file as safe as the stores: it opens the sealed secrets).
 */
export interface HostSecrets {
  serviceTokens: { 'mailbox-fetch': string; 'outbound-send': string };
  /** tenant id → API key (the key itself; the services get only its SHA-256). */
  apiKeys: Record<string, string>;
  /** auth-broker's AES-256-GCM key (base64, 32 bytes) sealing client secrets and token caches at rest. */
  encryptionKey: string;
}

const mint = (): string => randomBytes(24).toString('base64url');

/** Loads the host's secrets, creating what is missing (a new tenant gets a new key). */
export function loadHostSecrets(dataDir: string, tenantIds: readonly string[]): HostSecrets {
  const file = path.join(dataDir, 'host-secrets.json');
  const stored: Partial<HostSecrets> = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<HostSecrets>) : {};
  const secrets: HostSecrets = {
    serviceTokens: {
      'mailbox-fetch': stored.serviceTokens?.['mailbox-fetch'] ?? mint(),
      'outbound-send': stored.serviceTokens?.['outbound-send'] ?? mint(),
    },
    apiKeys: { ...(stored.apiKeys ?? {}) },
    encryptionKey: stored.encryptionKey ?? randomBytes(32).toString('base64'),
  };
  for (const tenantId of tenantIds) secrets.apiKeys[tenantId] ??= `mr_${tenantId}_${mint()}`;
  const text = `${JSON.stringify(secrets, null, 2)}\n`;
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writePrivateFile(file, text);
  else ensurePrivateFile(file);
  return secrets;
}

/** Every scope a workload manager may hold: the host's keys administer their tenant fully. */
const fullScopes = [
  'credentials.read',
  'credentials.write',
  'mailboxes.read',
  'mailboxes.write',
  'routing.read',
  'routing.write',
  'sends.read',
  'sends.write',
  'sends.supervise',
];

/** The `API_KEYS` value of a service: `keyId:tenant:scope+scope:sha256` per tenant. */
export function apiKeysVariable(secrets: HostSecrets): string {
  return Object.entries(secrets.apiKeys)
    .map(([tenantId, key]) => `host-${tenantId}:${tenantId}:${fullScopes.join('+')}:${hashBearerCredential(key)}`)
    .join(',');
}

/** auth-broker's `AUTH_BROKER_SERVICE_TOKENS` value. */
export function serviceTokensVariable(secrets: HostSecrets): string {
  return Object.entries(secrets.serviceTokens)
    .map(([service, token]) => `${service}:${hashBearerCredential(token)}`)
    .join(',');
}
