import type { AdminContext, AdminHandlers } from './admin-context';

/** Queues: CreateQueue, GetQueue, ListQueues, UpdateQueue, DeleteQueue. */
export function createQueueHandlers(
  admin: AdminContext,
): Pick<AdminHandlers, 'createQueue' | 'getQueue' | 'listQueues' | 'updateQueue' | 'deleteQueue'> {
  const { create, get, update, list, remove, present } = admin.resources;
  return {
    createQueue: async (request, context) => ({ queue: await create(context, 'queue', request.queueId, request.queue) }),
    getQueue: async (request, context) => ({ queue: present('queue', await get(context, 'queue', request.queueId)) }),
    listQueues: async (request, context) => {
      const page = await list(context, 'queue', request.page);
      return { queues: page.items, nextPageToken: page.nextPageToken };
    },
    updateQueue: async (request, context) => ({
      queue: await update(context, 'queue', request.queueId, request.queue, request.updateMask ?? [], request.etag),
    }),
    deleteQueue: async (request, context) => (await remove(context, 'queue', request.queueId, request.etag), {}),
  };
}
