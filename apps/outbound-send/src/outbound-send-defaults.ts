/** outbound-send's option defaults, in one place (OutboundSendOptions and the mailbox directory document each field). */
export const defaultOutboundSendOptions = {
  groupId: 'outbound-send',
  /** Concurrent Graph requests per mailbox for sending (mailbox-fetch uses 3 of Outlook's 4), and per replica. */
  graphConcurrencyPerMailbox: 1,
  graphConcurrencyGlobal: 64,
  /** Messages per mailbox per window: Exchange Online's limit of 30 a minute. */
  sendRatePerWindow: 30,
  sendRateWindowMs: 60_000,
  dueIntervalMs: 1_000,
  fromBeginning: true,
  replicaDeadAfterMs: 30_000,
  /** How often expired uploads are deleted (5 min). */
  uploadSweepIntervalMs: 300_000,
  /** How long a mailbox configuration read from mailbox-fetch's table is reused. */
  mailboxCacheMs: 30_000,
} as const;
