/**
 * The auth-broker's option defaults, in one place (AuthBrokerOptions and the options of the token
 * providers, sign-ins, metrics and the Entra network client document each field).
 */
export const defaultAuthBrokerOptions = {
  /** Acquisition lease: one replica asks Entra ID for a token at a time. */
  leaseTtlMs: 30_000,
  /** How often a replica waiting on another's acquisition re-reads the shared cache. */
  waitPollMs: 50,
  /** Tokens are refreshed in the background this long before they expire (10 min). */
  refreshAheadMs: 600_000,
  /** How long a credential Entra ID refused is answered from memory. */
  rejectionMemoryMs: 10_000,
  /** A forced refresh within this long of the last one reuses its token. */
  forceRefreshReuseMs: 30_000,
  /** How long GetAccessToken reuses a credentials record read from the store. */
  credentialsCacheMs: 5_000,
  /** How often the credential gauges are recomputed (5 min). */
  metricsScanIntervalMs: 300_000,
  /** How often CompleteDelegatedSignIn re-reads a pending session while waiting. */
  signInWaitPollMs: 200,
  /** Timeout of one request to Entra ID. */
  entraRequestTimeoutMs: 15_000,
} as const;
