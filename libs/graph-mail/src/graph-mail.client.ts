import { createFencedGraphClient } from './request-fence';
import type { Logger } from '@mailroute/platform';
import { GraphMailError, isGraphMailError } from './errors';
import type {
  DeltaPage,
  DeltaStart,
  FolderSelector,
  GraphAttachment,
  GraphMailFolder,
  GraphMessage,
  GraphSubscription,
  GraphSubscriptionRequest,
  GraphThrottleObserver,
  GraphTokenProvider,
  MailboxTarget,
} from './graph-mail.types';
import { attachmentCalls } from './graph-attachment.calls';
import { subscriptionCalls } from './graph-subscription.calls';
import { mailboxKindCalls } from './graph-mailbox-kind.calls';
import { createMailboxCall, defaultGraphRequestTimeoutMs, preferImmutable } from './mailbox-call';
import { createMailboxLimiter, type MailboxLimiter } from './mailbox-limiter';

/** Fields read from every delta item: enough to recognise a message already ingested. */
const deltaSelect = ['id', 'internetMessageId', 'receivedDateTime', 'isRead', 'hasAttachments', 'subject'] as const;

/** Fields of a full message read. */
const messageSelect = [
  'id',
  'internetMessageId',
  'conversationId',
  'subject',
  'receivedDateTime',
  'sentDateTime',
  'from',
  'sender',
  'replyTo',
  'toRecipients',
  'ccRecipients',
  'body',
  'bodyPreview',
  'importance',
  'isRead',
  'hasAttachments',
  'internetMessageHeaders',
  'parentFolderId',
] as const;

export interface GraphMailClientOptions {
  tokens: GraphTokenProvider;
  /** Shared by every client of the process; default: a new limiter with 3 per mailbox. */
  limiter?: MailboxLimiter;
  /** Attempts per call (throttling, 5xx, one 401 refresh). Default 4. */
  maxAttempts?: number;
  /**
   * A Retry-After up to this long is waited out inside the call (the mailbox is paused meanwhile);
   * a longer one fails the call with a `throttled` GraphMailError so the caller can reschedule
   * the mailbox instead of holding a worker. Default 2 s.
   */
  maxInlineWaitMs?: number;
  /** Messages per delta page (`Prefer: odata.maxpagesize`). Default 50. */
  deltaPageSize?: number;
  /** Per-request timeout. Default 30 s. */
  requestTimeoutMs?: number;
  logger?: Logger;
  clock?: () => number;
  /** Sees every throttling answer (429, 503 with Retry-After), e.g. for metrics. */
  onThrottled?: GraphThrottleObserver;
}

/** Graph mail operations on one mailbox; every call is limited, retried and classified. */
export interface MailboxGraph {
  readonly target: MailboxTarget;
  /** First page of a delta round of `start.folderId` (no stored link). */
  deltaStart(start: DeltaStart): Promise<DeltaPage>;
  /** The page at a stored nextLink or deltaLink. 410 → `resync-required`. */
  deltaPage(link: string): Promise<DeltaPage>;
  /** A message with body and internet headers. */
  getMessage(id: string): Promise<GraphMessage>;
  /** Attachment metadata (no content). */
  listAttachments(messageId: string): Promise<GraphAttachment[]>;
  /** One attachment with `contentBytes` (base64) for file attachments. */
  getAttachment(messageId: string, attachmentId: string): Promise<GraphAttachment>;
  /** A file attachment's raw content (`…/attachments/{id}/$value`): no base64 JSON, for large files too. */
  getAttachmentContent(messageId: string, attachmentId: string): Promise<Buffer>;
  /**
   * The same content streamed, never held whole: `consume` reads the response body as it arrives (for
   * example into the blob store) inside the call, so a failed attempt that Graph's retry rules allow is
   * retried from the start with a fresh `consume`; its result is the call's.
   */
  streamAttachmentContent<T>(
    messageId: string,
    attachmentId: string,
    consume: (content: AsyncIterable<Uint8Array>) => Promise<T>,
  ): Promise<T>;
  markRead(messageId: string): Promise<void>;
  /** Moves the message; returns its id in the destination. */
  move(messageId: string, destinationFolderId: string): Promise<string>;
  /** The folder named by the selector; `not-found` when it does not exist. */
  getFolder(selector: FolderSelector): Promise<GraphMailFolder>;
  /** Resolves a folder path ("Inbox/Support/Done", case-insensitive), creating missing segments when `create`. */
  resolveFolderPath(path: string, create: boolean): Promise<GraphMailFolder | undefined>;
  /**
   * Application or delegated permissions the current token carries and the application (client) id it was
   * issued to (from its claims; empty when opaque).
   */
  tokenClaims(): Promise<TokenClaims>;
  /** `mailboxSettings.userPurpose` (`user`, `shared`, `room`, …); 403 `access-denied` without MailboxSettings.Read. */
  getMailboxPurpose(): Promise<string>;
  /** The signed-in user of a delegated token (`/me`). */
  getSignedInUser(): Promise<{ userPrincipalName: string; mail: string }>;
  /** POST /subscriptions on a folder's messages (Graph validates the notification URLs first); immutable ids. */
  createSubscription(request: GraphSubscriptionRequest): Promise<GraphSubscription>;
  /** PATCH /subscriptions/{id} with a new expiration; a 404 when Graph removed it. */
  renewSubscription(id: string, expiration: Date): Promise<GraphSubscription>;
  /** DELETE /subscriptions/{id} (one already gone counts as deleted); POST …/reauthorize. */
  deleteSubscription(id: string): Promise<void>;
  reauthorizeSubscription(id: string): Promise<void>;
}

/** Options of one mailbox's operations. */
export interface MailboxGraphOptions {
  /**
   * Called right before each HTTP request goes out — inside the mailbox's concurrency slot, for
   * every retry too; what it throws ends the call unchanged. mailbox-fetch refuses requests for a
   * mailbox its replica no longer owns here, so none leaves after ownership was lost, not even one
   * that waited for a slot or a Retry-After.
   */
  beforeRequest?: () => void;
  /** Aborts every call of these operations (a stopping replica): waits for a slot and requests in flight. */
  signal?: AbortSignal;
}

export interface GraphMailClient {
  mailbox(target: MailboxTarget, mailboxOptions?: MailboxGraphOptions): MailboxGraph;
  readonly limiter: MailboxLimiter;
}

function defaults(options: GraphMailClientOptions) {
  return {
    limiter: options.limiter ?? createMailboxLimiter(),
    maxAttempts: options.maxAttempts ?? 4,
    maxInlineWaitMs: options.maxInlineWaitMs ?? 2_000,
    deltaPageSize: options.deltaPageSize ?? 50,
    requestTimeoutMs: options.requestTimeoutMs ?? defaultGraphRequestTimeoutMs,
    clock: options.clock ?? Date.now,
  };
}

/**
 * Typed Graph mail calls over @microsoft/microsoft-graph-client. The client's own retry handler
 * is left out of the middleware chain: retries are decided here, where the per-mailbox limiter
 * knows about Retry-After, so a throttled request never waits while holding a mailbox slot.
 */
export function createGraphMailClient(options: GraphMailClientOptions): GraphMailClient {
  const settings = defaults(options);
  const { limiter } = settings;
  const client = createFencedGraphClient();

  function mailbox(target: MailboxTarget, mailboxOptions: MailboxGraphOptions = {}): MailboxGraph {
    const call = createMailboxCall(target, {
      ...settings,
      tokens: options.tokens,
      retryTransient: true,
      logName: 'graph-mail',
      logger: options.logger,
      onThrottled: options.onThrottled,
      beforeRequest: mailboxOptions.beforeRequest,
      signal: mailboxOptions.signal,
    });

    function toDeltaPage(body: Record<string, unknown>): DeltaPage {
      const value = Array.isArray(body['value']) ? (body['value'] as (GraphMessage & { '@removed'?: unknown })[]) : [];
      const page: DeltaPage = { messages: [], removedIds: [] };
      for (const item of value) {
        if (item['@removed'] !== undefined) page.removedIds.push(item.id);
        else page.messages.push(item);
      }
      const next = body['@odata.nextLink'];
      const delta = body['@odata.deltaLink'];
      if (typeof next === 'string') page.nextLink = next;
      if (typeof delta === 'string') page.deltaLink = delta;
      if (!page.nextLink && !page.deltaLink) {
        throw new GraphMailError('rejected', 'graph: delta page without nextLink or deltaLink', { status: 200, graphCode: '' });
      }
      return page;
    }

    const deltaPrefer = `odata.maxpagesize=${settings.deltaPageSize}, ${preferImmutable}`;

    return {
      target,
      deltaStart(start) {
        return call(
          'delta',
          (url) => {
            let request = client
              .api(url(`mailFolders/${encodeURIComponent(start.folderId)}/messages/delta`))
              .header('Prefer', deltaPrefer)
              .select([...deltaSelect]);
            if (start.receivedSince) request = request.filter(`receivedDateTime ge ${start.receivedSince.toISOString()}`);
            return request;
          },
          async (request) => toDeltaPage((await request.get()) as Record<string, unknown>),
        );
      },
      deltaPage(link) {
        return call(
          'delta',
          () => client.api(link).header('Prefer', deltaPrefer),
          async (request) => toDeltaPage((await request.get()) as Record<string, unknown>),
        );
      },
      getMessage(id) {
        return call(
          'message',
          (url) =>
            client
              .api(url(`messages/${encodeURIComponent(id)}`))
              .header('Prefer', preferImmutable)
              .select([...messageSelect]),
          async (request) => (await request.get()) as GraphMessage,
        );
      },
      async markRead(messageId) {
        await call(
          'mark-read',
          (url) => client.api(url(`messages/${encodeURIComponent(messageId)}`)).header('Prefer', preferImmutable),
          (request) => request.patch({ isRead: true }),
        );
      },
      move(messageId, destinationFolderId) {
        return call(
          'move',
          (url) => client.api(url(`messages/${encodeURIComponent(messageId)}/move`)).header('Prefer', preferImmutable),
          async (request) => ((await request.post({ destinationId: destinationFolderId })) as { id: string }).id,
        );
      },
      getFolder(selector) {
        if ('path' in selector) {
          return this.resolveFolderPath(selector.path, false).then((folder) => {
            if (!folder)
              throw new GraphMailError('not-found', `graph: folder ${JSON.stringify(selector.path)} not found`, {
                status: 404,
                graphCode: 'ErrorItemNotFound',
              });
            return folder;
          });
        }
        const id = 'wellKnownName' in selector ? selector.wellKnownName.toLowerCase() : selector.folderId;
        return call(
          'folder',
          (url) => client.api(url(`mailFolders/${encodeURIComponent(id)}`)).header('Prefer', preferImmutable),
          async (request) => (await request.get()) as GraphMailFolder,
        );
      },
      async resolveFolderPath(path, create) {
        const segments = path
          .split('/')
          .map((segment) => segment.trim())
          .filter(Boolean);
        let parent: GraphMailFolder | undefined;
        for (const segment of segments) {
          const listPath: string = parent ? `mailFolders/${encodeURIComponent(parent.id)}/childFolders` : 'mailFolders';
          const list = () =>
            call(
              'folders',
              (url) => client.api(url(listPath)).header('Prefer', preferImmutable).top(250),
              async (request) => ((await request.get()) as { value?: GraphMailFolder[] }).value ?? [],
            );
          const match = (folders: GraphMailFolder[]) =>
            folders.find((folder) => folder.displayName.toLowerCase() === segment.toLowerCase());
          let found = match(await list());
          if (!found) {
            if (!create) return undefined;
            try {
              found = await call(
                'create-folder',
                (url) => client.api(url(listPath)).header('Prefer', preferImmutable),
                async (request) => (await request.post({ displayName: segment })) as GraphMailFolder,
              );
            } catch (error) {
              // Another replica (or a person) created it meanwhile.
              if (!isGraphMailError(error, 'folder-exists')) throw error;
              found = match(await list());
              if (!found) throw error;
            }
          }
          parent = found;
        }
        return parent;
      },
      async tokenClaims() {
        const token = await options.tokens.getToken(target.tenantId, target.principal, { forceRefresh: false });
        return claimsOf(token.accessToken);
      },
      ...attachmentCalls(call, client),
      ...subscriptionCalls(call, client, target),
      ...mailboxKindCalls(call, client),
    };
  }

  return { mailbox, limiter };
}

/** What mailroute reads from an access token: its permissions, the app, and (delegated) the signed-in user. */
interface TokenClaims {
  permissions: string[];
  appId: string;
  /** The signed-in user's name (`upn`, else `preferred_username`); absent for app-only tokens. */
  user?: string;
}

/**
 * `roles` (app-only) or `scp` (delegated), `appid` (or `azp`) and the signed-in user (`upn` or
 * `preferred_username`) of a JWT access token; empty for opaque tokens.
 */
function claimsOf(accessToken: string): TokenClaims {
  const payload = accessToken.split('.')[1];
  const none = { permissions: [], appId: '' };
  if (!payload) return none;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const text = (name: string) => (typeof claims[name] === 'string' ? (claims[name] as string) : undefined);
    const appId = text('appid') ?? text('azp') ?? '';
    const user = text('upn') ?? text('preferred_username');
    const roles = claims['roles'];
    const scp = text('scp');
    const permissions = Array.isArray(roles)
      ? roles.filter((role): role is string => typeof role === 'string')
      : scp
        ? scp.split(' ').filter(Boolean)
        : [];
    return { permissions, appId, ...(user ? { user } : {}) };
  } catch {
    // Opaque token: permissions unknown.
  }
  return none;
}
