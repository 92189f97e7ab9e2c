import { GraphApiError } from '../errors';
import type { Mailbox, Tenant } from '../model/model.types';
import { findFolder } from '../model/mailbox.store';
import type { SandboxState } from '../model/sandbox-state';
import type { Clock } from '../shared/clock';
import { newGuid } from '../shared/ids';
import type { Logger } from '@mailroute/platform';
import { createNotificationFaults, type NotificationFaults } from './notification-faults';
import { postToSubscriber } from './notification-transport';

import {
  invalidRequest,
  isRecord,
  maxClientStateLength,
  notFound,
  parseChangeTypes,
  parseExpiration,
  parseHttpsUrl,
  resourceSegments,
  validateNotificationUrl,
} from './subscription-request';
import type { ChangeType, DeliveryRecord, LifecycleEvent, SandboxSubscription, SubscriptionSettings } from './subscription.types';

export { defaultSubscriptionSettings, toSubscriptionView } from './subscription.types';
export type { DeliveryRecord, LifecycleEvent, SandboxSubscription, SubscriptionSettings } from './subscription.types';

const maxLogRecords = 5_000;

/** The caller of a subscription request (from its verified token). */
export interface SubscriptionCaller {
  tenant: Tenant;
  appId: string;
  /** The signed-in user (delegated); app-only callers may watch any mailbox their permissions reach. */
  userId?: string;
  canRead: boolean;
  /** Access to the named mailbox (application access policy, user match); throws Graph's error when denied. */
  authorizeMailbox(mailbox: Mailbox): void;
}

/**
 * The subscriptions of every tenant and their notification delivery: a scan every `changeScanIntervalMs`
 * turns changes in watched folders into change notifications, posted to the subscriber with retries,
 * subject to the admin's faults; lifecycle notifications go to `lifecycleNotificationUrl`.
 */
export interface SubscriptionRegistry {
  create(caller: SubscriptionCaller, body: unknown, immutableIds: boolean): Promise<SandboxSubscription>;
  get(caller: SubscriptionCaller, id: string): SandboxSubscription;
  list(caller: SubscriptionCaller): SandboxSubscription[];
  update(caller: SubscriptionCaller, id: string, body: unknown): Promise<SandboxSubscription>;
  remove(caller: SubscriptionCaller, id: string): void;
  reauthorize(caller: SubscriptionCaller, id: string): void;
  /** Every subscription (admin view), optionally of one tenant. */
  all(tenantId?: string): SandboxSubscription[];
  /** Sends a lifecycle notification; `subscriptionRemoved` also deletes the subscription, as Graph does. */
  signal(id: string, event: LifecycleEvent): Promise<void>;
  readonly faults: NotificationFaults;
  deliveries(subscriptionId?: string): DeliveryRecord[];
  reset(): void;
  close(): void;
}

export function createSubscriptionRegistry(options: {
  state: SandboxState;
  clock: Clock;
  logger: Logger;
  settings: SubscriptionSettings;
  trustedCaPems: readonly string[];
}): SubscriptionRegistry {
  const { state, clock, logger, settings } = options;
  const subscriptions = new Map<string, SandboxSubscription>();
  const faults = createNotificationFaults();
  const log: DeliveryRecord[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const record = (entry: DeliveryRecord) => {
    log.push(entry);
    if (log.length > maxLogRecords) log.splice(0, log.length - maxLogRecords);
  };

  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) run();
    }, ms);
    timers.add(timer);
  };

  const owned = (caller: SubscriptionCaller, id: string): SandboxSubscription => {
    const subscription = subscriptions.get(id);
    if (!subscription || subscription.tenantId !== caller.tenant.id || subscription.applicationId !== caller.appId)
      throw notFound();
    if (subscription.expirationMs <= clock()) {
      subscriptions.delete(id);
      throw notFound();
    }
    return subscription;
  };

  const validate = (url: URL) =>
    validateNotificationUrl(url, { timeoutMs: settings.validationTimeoutMs, trustedCaPems: options.trustedCaPems });

  const resolveResource = (caller: SubscriptionCaller, resource: string): { mailbox: Mailbox; folderId: string | undefined } => {
    const segments = resourceSegments(resource);
    const head = segments[0]?.toLowerCase();
    let userSegment: string | undefined;
    let rest: string[];
    if (head === 'me') {
      if (!caller.userId) throw invalidRequest('/me request is only valid with delegated authentication flow.');
      userSegment = caller.userId;
      rest = segments.slice(1);
    } else if (head === 'users' && segments[1]) {
      userSegment = segments[1];
      rest = segments.slice(2);
    } else {
      throw invalidRequest(`The resource '${resource.slice(0, 200)}' is not supported for subscriptions in the sandbox.`);
    }
    const mailbox = state.findMailbox(caller.tenant, userSegment);
    if (!mailbox)
      throw new GraphApiError({
        status: 404,
        code: 'ErrorInvalidUser',
        message: `The requested user '${userSegment.slice(0, 200)}' is invalid.`,
      });
    caller.authorizeMailbox(mailbox);
    const shape = rest.map((segment) => segment.toLowerCase());
    if (shape.length === 1 && shape[0] === 'messages') return { mailbox, folderId: undefined };
    if (shape.length === 3 && shape[0] === 'mailfolders' && shape[2] === 'messages') {
      const folder = findFolder(mailbox, rest[1] ?? '');
      if (!folder)
        throw new GraphApiError({
          status: 404,
          code: 'ErrorItemNotFound',
          message: 'The specified object was not found in the store.',
        });
      return { mailbox, folderId: folder.id };
    }
    throw invalidRequest(`The resource '${resource.slice(0, 200)}' is not supported for subscriptions in the sandbox.`);
  };

  const messagesIn = (mailbox: Mailbox, folderId: string | undefined) =>
    [...mailbox.messages.values()].filter((message) => folderId === undefined || message.folderId === folderId);

  const post = async (
    subscription: SandboxSubscription,
    url: string,
    payload: { value: Array<Record<string, unknown>> },
    kind: DeliveryRecord['kind'],
    lifecycleEvent?: LifecycleEvent,
  ): Promise<void> => {
    const fired =
      kind === 'change'
        ? faults.take({ subscriptionId: subscription.id, tenantId: subscription.tenantId, mailboxId: subscription.mailboxId })
        : [];
    const kinds = fired.map((fault) => fault.kind);
    const base = {
      subscriptionId: subscription.id,
      kind,
      items: payload.value.length,
      faults: kinds,
      ...(lifecycleEvent ? { lifecycleEvent } : {}),
    };
    if (kinds.includes('drop')) {
      const at = clock();
      record({ ...base, sentAtMs: at, atMs: at, outcome: 'dropped', attempt: 1 });
      return;
    }
    const forged = kinds.includes('forgeClientState');
    const body = JSON.stringify({
      value: payload.value.map((item) => (forged ? { ...item, clientState: `forged-${newGuid()}` } : item)),
    });
    const delayMs = fired.reduce((sum, fault) => sum + (fault.kind === 'delay' ? (fault.delayMs ?? 1_000) : 0), 0);
    const copies = kinds.includes('duplicate') ? 2 : 1;
    const attempt = async (number: number): Promise<void> => {
      const sentAtMs = clock();
      const answer = await postToSubscriber(new URL(url), {
        body,
        contentType: 'application/json; charset=utf-8',
        timeoutMs: settings.notificationTimeoutMs,
        trustedCaPems: options.trustedCaPems,
      });
      const outcome = answer.ok ? answer.status : answer.reason;
      record({ ...base, sentAtMs, atMs: clock(), outcome, attempt: number });
      const delivered = answer.ok && answer.status >= 200 && answer.status < 300;
      if (!delivered && number < settings.notificationMaxAttempts)
        later(settings.notificationRetryBaseMs * 2 ** (number - 1), () => void attempt(number + 1));
      else if (!delivered)
        logger.warn({ subscriptionId: subscription.id, url, outcome }, 'graph-sandbox: notification dropped after retries');
    };
    const send = () => {
      for (let copy = 0; copy < copies; copy += 1) void attempt(1);
    };
    if (delayMs > 0) later(delayMs, send);
    else send();
  };

  const changeNotification = (
    subscription: SandboxSubscription,
    mailbox: Mailbox,
    id: string,
    changeType: ChangeType,
    etag?: string,
  ) => {
    const path = `Users/${mailbox.id}/Messages/${id}`;
    return {
      subscriptionId: subscription.id,
      subscriptionExpirationDateTime: new Date(subscription.expirationMs).toISOString(),
      changeType,
      resource: path,
      resourceData: {
        '@odata.type': '#Microsoft.Graph.Message',
        '@odata.id': path,
        ...(etag ? { '@odata.etag': `W/"${etag}"` } : {}),
        id,
      },
      clientState: subscription.clientState,
      tenantId: subscription.tenantId,
    };
  };

  /** Finds changes since each subscription's last look and posts them, one POST per subscription and scan. */
  const scan = () => {
    const now = clock();
    for (const subscription of subscriptions.values()) {
      if (subscription.expirationMs <= now) {
        subscriptions.delete(subscription.id);
        continue;
      }
      const mailbox = state.tenants.get(subscription.tenantId)?.mailboxes.get(subscription.mailboxId);
      if (!mailbox || mailbox.seq === subscription.lastSeq) continue;
      const items: Array<Record<string, unknown>> = [];
      for (const message of messagesIn(mailbox, subscription.folderId)) {
        if (message.changeSeq <= subscription.lastSeq) continue;
        const changeType: ChangeType = subscription.seen.has(message.immutableId) ? 'updated' : 'created';
        subscription.seen.add(message.immutableId);
        if (!subscription.changeTypes.has(changeType)) continue;
        const id = subscription.immutableIds ? message.immutableId : message.restId;
        items.push(changeNotification(subscription, mailbox, id, changeType, message.changeKey));
      }
      for (const folder of mailbox.folders.values()) {
        if (subscription.folderId !== undefined && folder.id !== subscription.folderId) continue;
        for (const tombstone of folder.tombstones) {
          if (tombstone.seq <= subscription.lastSeq) continue;
          subscription.seen.delete(tombstone.immutableId);
          if (!subscription.changeTypes.has('deleted')) continue;
          const id = subscription.immutableIds ? tombstone.immutableId : tombstone.restId;
          items.push(changeNotification(subscription, mailbox, id, 'deleted'));
        }
      }
      subscription.lastSeq = mailbox.seq;
      if (subscription.paused) subscription.held.push(...items);
      else if (items.length > 0) void post(subscription, subscription.notificationUrl, { value: items }, 'change');
    }
  };
  const scanner = setInterval(scan, settings.changeScanIntervalMs);
  scanner.unref();

  const resume = (subscription: SandboxSubscription) => {
    subscription.paused = false;
    const held = subscription.held.splice(0);
    if (held.length > 0) void post(subscription, subscription.notificationUrl, { value: held }, 'change');
  };

  const signal = async (id: string, event: LifecycleEvent): Promise<void> => {
    const subscription = subscriptions.get(id);
    if (!subscription) throw notFound();
    if (event === 'subscriptionRemoved') subscriptions.delete(id);
    if (event === 'reauthorizationRequired') subscription.paused = true;
    if (!subscription.lifecycleNotificationUrl) return;
    await post(
      subscription,
      subscription.lifecycleNotificationUrl,
      {
        value: [
          {
            subscriptionId: subscription.id,
            subscriptionExpirationDateTime: new Date(subscription.expirationMs).toISOString(),
            tenantId: subscription.tenantId,
            clientState: subscription.clientState,
            lifecycleEvent: event,
          },
        ],
      },
      'lifecycle',
      event,
    );
  };

  return {
    faults,
    async create(caller, body, immutableIds) {
      if (!isRecord(body)) throw invalidRequest('The request body must be a subscription object.');
      const changeTypes = parseChangeTypes(body['changeType']);
      const notificationUrl = parseHttpsUrl(body['notificationUrl'], 'notificationUrl');
      const lifecycleUrl =
        body['lifecycleNotificationUrl'] === undefined || body['lifecycleNotificationUrl'] === null
          ? undefined
          : parseHttpsUrl(body['lifecycleNotificationUrl'], 'lifecycleNotificationUrl');
      if (typeof body['resource'] !== 'string' || body['resource'] === '')
        throw invalidRequest("The property 'resource' is required.");
      const resource = body['resource'];
      const clientState = body['clientState'];
      if (
        clientState !== undefined &&
        clientState !== null &&
        (typeof clientState !== 'string' || clientState.length > maxClientStateLength)
      )
        throw invalidRequest(`The property 'clientState' must be a string of at most ${maxClientStateLength} characters.`);
      const expirationMs = parseExpiration(body['expirationDateTime'], clock(), settings.maxLifetimeMinutes);
      if (!caller.canRead)
        throw new GraphApiError({
          status: 403,
          code: 'ExtensionError',
          message: 'Operation: Create; Exception: [Status Code: Forbidden; Reason: Access is denied.]',
        });
      const { mailbox, folderId } = resolveResource(caller, resource);
      // Graph validates both URLs before the subscription exists.
      await validate(notificationUrl);
      if (lifecycleUrl) await validate(lifecycleUrl);
      const subscription: SandboxSubscription = {
        id: newGuid(),
        tenantId: caller.tenant.id,
        applicationId: caller.appId,
        creatorId: caller.userId ?? caller.appId,
        mailboxId: mailbox.id,
        folderId,
        resource,
        changeType: changeTypes.join(','),
        changeTypes: new Set(changeTypes),
        notificationUrl: notificationUrl.href,
        lifecycleNotificationUrl: lifecycleUrl?.href ?? null,
        clientState: typeof clientState === 'string' ? clientState : null,
        expirationMs,
        immutableIds,
        paused: false,
        held: [],
        seen: new Set(messagesIn(mailbox, folderId).map((message) => message.immutableId)),
        lastSeq: mailbox.seq,
      };
      subscriptions.set(subscription.id, subscription);
      return subscription;
    },
    get: owned,
    list: (caller) =>
      [...subscriptions.values()].filter(
        (subscription) =>
          subscription.tenantId === caller.tenant.id &&
          subscription.applicationId === caller.appId &&
          subscription.expirationMs > clock(),
      ),
    async update(caller, id, body) {
      const subscription = owned(caller, id);
      if (!isRecord(body)) throw invalidRequest('The request body must be a subscription object.');
      const expirationMs =
        body['expirationDateTime'] === undefined
          ? undefined
          : parseExpiration(body['expirationDateTime'], clock(), settings.maxLifetimeMinutes);
      const notificationUrl =
        body['notificationUrl'] === undefined ? undefined : parseHttpsUrl(body['notificationUrl'], 'notificationUrl');
      if (notificationUrl) await validate(notificationUrl);
      if (expirationMs !== undefined) subscription.expirationMs = expirationMs;
      if (notificationUrl) subscription.notificationUrl = notificationUrl.href;
      resume(subscription);
      return subscription;
    },
    remove(caller, id) {
      subscriptions.delete(owned(caller, id).id);
    },
    reauthorize(caller, id) {
      resume(owned(caller, id));
    },
    all: (tenantId) =>
      [...subscriptions.values()].filter((subscription) => tenantId === undefined || subscription.tenantId === tenantId),
    signal,
    deliveries: (subscriptionId) =>
      log.filter((entry) => subscriptionId === undefined || entry.subscriptionId === subscriptionId),
    reset() {
      subscriptions.clear();
      faults.clear();
      log.length = 0;
    },
    close() {
      closed = true;
      clearInterval(scanner);
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
