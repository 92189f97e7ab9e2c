import type { AdminContext, AdminHandlers } from './admin-context';

/** Sender lists (VIP and block lists that rules name): Create, Get, List, Update, Delete. */
export function createSenderListHandlers(
  admin: AdminContext,
): Pick<AdminHandlers, 'createSenderList' | 'getSenderList' | 'listSenderLists' | 'updateSenderList' | 'deleteSenderList'> {
  const { create, get, update, list, remove, present } = admin.resources;
  return {
    createSenderList: async (request, context) => ({
      senderList: await create(context, 'senderList', request.senderListId, request.senderList),
    }),
    getSenderList: async (request, context) => ({
      senderList: present('senderList', await get(context, 'senderList', request.senderListId)),
    }),
    listSenderLists: async (request, context) => {
      const page = await list(context, 'senderList', request.page);
      return { senderLists: page.items, nextPageToken: page.nextPageToken };
    },
    updateSenderList: async (request, context) => ({
      senderList: await update(
        context,
        'senderList',
        request.senderListId,
        request.senderList,
        request.updateMask ?? [],
        request.etag,
      ),
    }),
    deleteSenderList: async (request, context) => (await remove(context, 'senderList', request.senderListId, request.etag), {}),
  };
}
