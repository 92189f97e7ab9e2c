import type { MailboxTarget } from '@mailroute/graph-mail';
import type { DocumentTable } from '@mailroute/persistence';
import { defaultOutboundSendOptions } from '../outbound-send-defaults';

/** A sending mailbox as outbound-send needs it. */
export interface SendingMailbox {
  mailboxId: string;
  address: string;
  target: MailboxTarget;
}

/** Where outbound-send learns a mailbox's address, access mode and credentials (mailbox-fetch owns the configuration). */
export interface MailboxDirectory {
  /** The mailbox, or undefined when it is not configured (or disabled) for the tenant. */
  get(tenantId: string, mailboxId: string): Promise<SendingMailbox | undefined>;
}

/** The fields of mailbox-fetch's mailbox record (`mf_mailboxes`, key `<tenant>/<mailbox id>`) read here. */
export interface MailboxConfigView {
  address: string;
  /** proto MailboxAccessMode: 2 = DELEGATED, else APP_ONLY. */
  accessMode: number;
  credentialsId: string;
  enabled: boolean;
}

/** mailbox-fetch's table of mailbox configurations, the name it is stored under. */
export const mailboxConfigTableName = 'mf_mailboxes';

const delegatedAccessMode = 2;

/**
 * Reads mailbox configurations from mailbox-fetch's table in the shared database, read-only, by
 * `_id` (one fast lookup per send, cached briefly): the same source mailbox-fetch reads them from.
 */
export function createTableMailboxDirectory(
  table: DocumentTable<MailboxConfigView>,
  options: { cacheMs?: number; clock?: () => number } = {},
): MailboxDirectory {
  const cacheMs = options.cacheMs ?? defaultOutboundSendOptions.mailboxCacheMs;
  const clock = options.clock ?? Date.now;
  const cache = new Map<string, { at: number; value: SendingMailbox | undefined }>();
  return {
    async get(tenantId, mailboxId) {
      const key = `${tenantId}/${mailboxId}`;
      const cached = cache.get(key);
      if (cached && cached.at + cacheMs > clock()) return cached.value;
      const record = await table.get(key);
      const value: SendingMailbox | undefined =
        record && record.enabled !== false
          ? {
              mailboxId,
              address: record.address,
              target: {
                tenantId,
                address: record.address,
                principal:
                  record.accessMode === delegatedAccessMode
                    ? { kind: 'delegated', mailboxAddress: record.address }
                    : { kind: 'app-only', credentialsId: record.credentialsId ?? '' },
              },
            }
          : undefined;
      cache.set(key, { at: clock(), value });
      return value;
    },
  };
}
