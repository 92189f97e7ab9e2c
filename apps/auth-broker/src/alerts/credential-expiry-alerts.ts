import { AlertKind } from '@mailroute/contracts';
import type { AlertPayload, AlertToPublish } from '@mailroute/messaging';
import { createAlertClaims, type AlertPhase, type AppCredentialsRecord } from '@mailroute/persistence';
import { daysUntil, expiryOf, expiryWarningDays } from '../credentials/credential-health';
import { tenantKey, type AuthBrokerStores } from '../store/auth-broker.stores';

export interface CredentialExpiryAlertOptions {
  /** A claim unpublished this long is published by a later sweep, ms. */
  relayAfterMs: number;
  /** Resolved episodes are deleted this long after publication, ms. */
  retentionMs: number;
}

/** The defaults of CredentialExpiryAlertOptions: relay after 30 s, keep resolved episodes 7 days. */
const defaultCredentialExpiryAlertOptions: CredentialExpiryAlertOptions = { relayAfterMs: 30_000, retentionMs: 7 * 86_400_000 };

const conditions = [
  { suffix: 'credential-expiring', kind: AlertKind.ALERT_KIND_CREDENTIAL_EXPIRING },
  { suffix: 'credential-expired', kind: AlertKind.ALERT_KIND_CREDENTIAL_EXPIRED },
] as const;

/**
 * The credential-expiry alerts (ALERT_KIND_CREDENTIAL_EXPIRING, ALERT_KIND_CREDENTIAL_EXPIRED): every
 * replica sweeps every tenant's credentials. A client secret or certificate fires EXPIRING once it is
 * within `expiryWarningDays` (30) of its expiry and not yet expired, and EXPIRED once its expiry passed
 * (EXPIRING then resolves). Each resolves when the credentials are renewed (a later expiry), replaced or
 * deleted. One event per episode and phase across replicas (createAlertClaims over `credential_alerts`);
 * the subject is `<tenant>/<credentialsId>/credential-expiring|credential-expired`. The payload carries
 * the ids, the days left (`value`, negative once expired), the window (`threshold`) and the kind of
 * credential with its expiry date (`detail`) — never secret material.
 */
export function createCredentialExpiryAlertSweep(deps: {
  stores: Pick<AuthBrokerStores, 'credentials' | 'alerts'>;
  clock: () => Date;
  publish: (alert: AlertToPublish) => Promise<void>;
  options?: Partial<CredentialExpiryAlertOptions>;
}) {
  const options = { ...defaultCredentialExpiryAlertOptions, ...deps.options };
  const claims = createAlertClaims<AlertPayload>({
    table: deps.stores.alerts,
    clock: () => deps.clock().getTime(),
    publish: deps.publish,
    relayAfterMs: options.relayAfterMs,
    retentionMs: options.retentionMs,
  });
  let sweeping: Promise<number> | undefined;

  async function readAll(): Promise<Map<string, AppCredentialsRecord>> {
    const out = new Map<string, AppCredentialsRecord>();
    let pageToken: string | undefined;
    do {
      const page = await deps.stores.credentials.listAll({ pageSize: 500, ...(pageToken ? { pageToken } : {}) });
      for (const record of page.items) out.set(tenantKey(record.tenantId, record.credentialsId), record);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return out;
  }

  async function sweepPass(): Promise<number> {
    let published = await claims.relay();
    const firing = new Set(await claims.firing(''));
    const credentials = await readAll();
    const now = deps.clock();
    const subjects = new Set(credentials.keys());
    for (const key of firing) subjects.add(key.slice(0, key.lastIndexOf('/')));
    for (const key of subjects) {
      const record = credentials.get(key);
      const days = record ? daysUntil(expiryOf(record), now) : 0;
      const expired = record !== undefined && expiryOf(record).getTime() <= now.getTime();
      const holds = {
        'credential-expired': expired,
        'credential-expiring': !expired && record !== undefined && days < expiryWarningDays,
      };
      const [tenantId = '', credentialsId = ''] = key.split('/');
      for (const { suffix, kind } of conditions) {
        const subject = `${key}/${suffix}`;
        if (!holds[suffix] && !firing.has(subject)) continue;
        const detail = record
          ? `${record.credential.kind} ${expired ? 'expired' : holds[suffix] ? 'expires' : 'now expires'} ${expiryOf(record).toISOString()}`
          : 'credentials deleted';
        const changed = await claims.settle(subject, (phase: AlertPhase) => {
          const next: AlertPhase | undefined =
            phase === 'resolved' ? (holds[suffix] ? 'firing' : undefined) : holds[suffix] ? undefined : 'resolved';
          return (
            next && { phase: next, payload: { kind, tenantId, credentialsId, value: days, threshold: expiryWarningDays, detail } }
          );
        });
        if (changed) published += 1;
      }
    }
    await claims.prune();
    return published;
  }

  return {
    /** One pass at a time per replica; returns how many alerts it published. */
    sweep(): Promise<number> {
      sweeping ??= sweepPass().finally(() => (sweeping = undefined));
      return sweeping;
    },
  };
}
