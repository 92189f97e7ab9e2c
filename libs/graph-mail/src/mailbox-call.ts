import type { GraphRequest } from '@microsoft/microsoft-graph-client';

/** How a mailbox's calls are made: limited, retried and classified (graph-mail.client.ts). */
export type MailboxCall = <T>(
  what: string,
  build: (url: (path: string) => string) => GraphRequest,
  run: (request: GraphRequest) => Promise<T>,
) => Promise<T>;

/** Ids that survive a move between folders (https://learn.microsoft.com/graph/outlook-immutable-id). */
export const preferImmutable = 'IdType="ImmutableId"';

/** How long one Graph request may take before it is aborted and classified as unavailable (both clients). */
export const defaultGraphRequestTimeoutMs = 30_000;
