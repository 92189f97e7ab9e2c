import type { Client } from '@microsoft/microsoft-graph-client';
import { GraphMailError } from './errors';
import type { MailboxGraph } from './graph-mail.client';
import type { GraphSubscription, MailboxTarget } from './graph-mail.types';
import { preferImmutable, type MailboxCall } from './mailbox-call';

/**
 * Graph subscriptions on a mailbox's folder (change notifications), through the mailbox's call path so
 * they count against the same per-mailbox limits. https://learn.microsoft.com/graph/api/resources/subscription
 */
export function subscriptionCalls(
  call: MailboxCall,
  client: Client,
  target: MailboxTarget,
): Pick<MailboxGraph, 'createSubscription' | 'renewSubscription' | 'deleteSubscription' | 'reauthorizeSubscription'> {
  return {
    createSubscription(request) {
      // A resource path in the body, not a URL: Graph takes the address and folder id as they are.
      const resource = `/users/${target.address}/mailFolders('${request.folderId}')/messages`;
      return call(
        'subscription.create',
        (url) => client.api(url('/subscriptions')).header('Prefer', preferImmutable),
        async (graphRequest) =>
          (await graphRequest.post({
            changeType: request.changeType,
            notificationUrl: request.notificationUrl,
            lifecycleNotificationUrl: request.lifecycleNotificationUrl,
            resource,
            expirationDateTime: request.expiration.toISOString(),
            clientState: request.clientState,
          })) as GraphSubscription,
      );
    },
    renewSubscription(id, expiration) {
      return call(
        'subscription.renew',
        (url) => client.api(url(`/subscriptions/${encodeURIComponent(id)}`)),
        async (graphRequest) => (await graphRequest.patch({ expirationDateTime: expiration.toISOString() })) as GraphSubscription,
      );
    },
    async deleteSubscription(id) {
      try {
        await call(
          'subscription.delete',
          (url) => client.api(url(`/subscriptions/${encodeURIComponent(id)}`)),
          async (graphRequest) => {
            await graphRequest.delete();
          },
        );
      } catch (error) {
        // Graph answers a subscription that is gone with 404 ResourceNotFound.
        if (!(error instanceof GraphMailError && error.status === 404)) throw error;
      }
    },
    async reauthorizeSubscription(id) {
      await call(
        'subscription.reauthorize',
        (url) => client.api(url(`/subscriptions/${encodeURIComponent(id)}/reauthorize`)),
        async (graphRequest) => {
          await graphRequest.post({});
        },
      );
    },
  };
}
