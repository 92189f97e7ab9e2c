import { CredentialState, DiagnosticCode, type DiagnosticFinding } from '@mailroute/contracts';
import type { AppCredentialsRecord, DocumentTable } from '@mailroute/persistence';
import { tenantKey, type CredentialHealthDocument } from '../store/auth-broker.stores';

/** Warnings start this many days before a secret or certificate expires. */
export const expiryWarningDays = 30;

const dayMs = 86_400_000;

/** When the secret or certificate expires. */
export function expiryOf(record: AppCredentialsRecord): Date {
  return record.credential.kind === 'client-secret' ? record.credential.expiresAt : record.credential.notAfter;
}

/** Whole days until `expiresAt`, rounded down; negative once expired. */
export function daysUntil(expiresAt: Date, now: Date): number {
  return Math.floor((expiresAt.getTime() - now.getTime()) / dayMs);
}

/**
 * The credentials' state (proto CredentialState): EXPIRED by date or by Entra ID's word wins,
 * then REJECTED, then UNVERIFIED (no token since the last change), then EXPIRING_SOON / VALID.
 */
export function credentialStateOf(
  record: AppCredentialsRecord,
  health: CredentialHealthDocument | undefined,
  now: Date,
): CredentialState {
  const current = health?.revision === record.revision ? health : undefined;
  if (expiryOf(record).getTime() <= now.getTime()) return CredentialState.CREDENTIAL_STATE_EXPIRED;
  if (current?.lastFailure) {
    return current.lastFailure.code === DiagnosticCode.DIAGNOSTIC_CODE_SECRET_EXPIRED ||
      current.lastFailure.code === DiagnosticCode.DIAGNOSTIC_CODE_CERTIFICATE_EXPIRED
      ? CredentialState.CREDENTIAL_STATE_EXPIRED
      : CredentialState.CREDENTIAL_STATE_REJECTED;
  }
  if (!current?.lastTokenAt) return CredentialState.CREDENTIAL_STATE_UNVERIFIED;
  return daysUntil(expiryOf(record), now) < expiryWarningDays
    ? CredentialState.CREDENTIAL_STATE_EXPIRING_SOON
    : CredentialState.CREDENTIAL_STATE_VALID;
}

/** Records the outcome of token acquisitions per credentials revision. */
export interface CredentialHealthRecorder {
  read(record: AppCredentialsRecord): Promise<CredentialHealthDocument | undefined>;
  succeeded(record: AppCredentialsRecord, at: Date): Promise<void>;
  /** Entra ID rejected the credentials (a configuration problem, not a transient one). */
  rejected(record: AppCredentialsRecord, finding: DiagnosticFinding, at: Date): Promise<void>;
  /** Called after every change, e.g. to refresh metrics. */
  onChange?: (() => void) | undefined;
}

export function createCredentialHealthRecorder(
  table: DocumentTable<CredentialHealthDocument>,
  onChange?: () => void,
): CredentialHealthRecorder {
  const read = async (record: AppCredentialsRecord) => {
    const health = await table.get(tenantKey(record.tenantId, record.credentialsId));
    return health?.revision === record.revision ? health : undefined;
  };
  return {
    read,
    async succeeded(record, at) {
      await table.put(tenantKey(record.tenantId, record.credentialsId), { revision: record.revision, lastTokenAt: at });
      onChange?.();
    },
    async rejected(record, finding, at) {
      const previous = await read(record);
      await table.put(tenantKey(record.tenantId, record.credentialsId), {
        revision: record.revision,
        lastTokenAt: previous?.lastTokenAt,
        lastFailure: finding,
        lastFailureAt: at,
      });
      onChange?.();
    },
    onChange,
  };
}
