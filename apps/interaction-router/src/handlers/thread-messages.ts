import { InboundMessage, type PageRequest, type ThreadMessage } from '@mailroute/contracts';
import { ValidationError } from '@mailroute/platform';
import { encodePageToken, readPageRequest } from '@mailroute/persistence';
import type { HtmlSanitizer } from '../desktop/html-sanitizer';
import { outboundThreadMessage } from '../results/send-results';
import type { RouterStores } from '../store/router-stores';
import { tenantPrefix, threadPrefix } from '../store/router-keys';

/**
 * One page of an interaction's thread, oldest first: inbound messages with their HTML sanitized,
 * outbound ones with their send's latest state and the agent's HTML sanitized too. The caller has
 * checked the interaction belongs to its tenant (and agent); the keys are under
 * `<tenant>/<interaction>/`, so nothing else is reachable.
 */
export async function listThreadMessages(
  deps: { stores: RouterStores; sanitizer: HtmlSanitizer },
  tenantId: string,
  interactionId: string,
  page: PageRequest | undefined,
): Promise<{ messages: ThreadMessage[]; nextPageToken: string }> {
  const { pageSize, after } = readPageRequest(page ?? {});
  const size = Math.min(pageSize, 20);
  const prefix = threadPrefix(tenantId, interactionId);
  // A token is the last key of a page of this thread; anything else (another thread's key) is refused.
  if (after !== undefined && !after.startsWith(prefix))
    throw new ValidationError('page_token', 'does not belong to this interaction');
  const rows = await deps.stores.messages.list({ prefix, after, limit: size });
  const sendKeys = rows.map((row) =>
    row.document.kind === 'outbound' ? (row.document.json as { sendKey?: string }).sendKey : undefined,
  );
  const sends = await Promise.all(
    sendKeys.map((key) => (key?.startsWith(tenantPrefix(tenantId)) ? deps.stores.sends.get(key) : undefined)),
  );
  const messages: ThreadMessage[] = rows.map((row, index) => {
    if (row.document.kind === 'inbound') {
      const stored = InboundMessage.fromJSON(row.document.json);
      // Sanitized at intake and again here, so a stricter sanitizer applies to stored mail too; sent once, as body_html_sanitized.
      const clean = stored.bodyHtml ? deps.sanitizer.sanitize(stored.bodyHtml) : { html: '', truncated: false };
      const message = { ...stored, bodyHtml: '' };
      return {
        message: {
          $case: 'inbound' as const,
          value: {
            message,
            bodyHtmlSanitized: clean.html,
            bodyHtmlTruncated: clean.truncated || stored.bodyHtmlTruncated,
            ingestedAt: new Date(row.document.at),
          },
        },
      };
    }
    const outbound = outboundThreadMessage(row.document.json, sends[index], row.document.at);
    // An agent's HTML is shown to other agents: sanitized like customer mail.
    const agentHtml = outbound.content?.bodyHtml;
    if (outbound.content && agentHtml)
      outbound.content = { ...outbound.content, bodyHtml: deps.sanitizer.sanitize(agentHtml).html };
    return { message: { $case: 'outbound' as const, value: outbound } };
  });
  const last = rows[rows.length - 1];
  return { messages, nextPageToken: rows.length === size && last ? encodePageToken(last.key) : '' };
}
