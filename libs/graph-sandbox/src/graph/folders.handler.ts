import type { Mailbox, MailFolder } from '../model/model.types';
import { childFolders, createChildFolder, findFolder } from '../model/mailbox.store';
import { graphErrors } from './graph-errors';
import type { GraphRequestContext, GraphResult, GraphRoute } from './graph-route';
import { toGraphFolder } from './message-serializer';
import { parseCount, parseSelect } from './odata-query';

const folderProperties = new Set([
  'id',
  'displayName',
  'parentFolderId',
  'childFolderCount',
  'unreadItemCount',
  'totalItemCount',
  'sizeInBytes',
  'isHidden',
]);

/** A folder by id or well-known name, or 404 ErrorItemNotFound. */
export function requireFolder(mailbox: Mailbox, idOrName: string): MailFolder {
  const folder = findFolder(mailbox, idOrName);
  if (!folder) throw graphErrors.itemNotFound();
  return folder;
}

function renderFolder(context: GraphRequestContext, folder: MailFolder): Record<string, unknown> {
  const full = toGraphFolder(context.mailbox, folder);
  const select = parseSelect(context.query, folderProperties, 'microsoft.graph.mailFolder');
  if (!select) return full;
  return Object.fromEntries(Object.entries(full).filter(([key]) => key === 'id' || select.includes(key)));
}

function listFolders(context: GraphRequestContext, folders: MailFolder[], link: string): GraphResult {
  const top = parseCount(context.query, '$top', 1000) ?? 10;
  const skip = parseCount(context.query, '$skip', Number.MAX_SAFE_INTEGER) ?? 0;
  const page = folders.slice(skip, skip + top);
  const next =
    skip + top < folders.length
      ? `${link}?${new URLSearchParams({ ...Object.fromEntries(context.query), $top: String(top), $skip: String(skip + top) })}`
      : undefined;
  return {
    status: 200,
    body: {
      '@odata.context': `${context.sandbox.baseUrl()}/v1.0/$metadata#users('${context.mailbox.id}')/mailFolders`,
      value: page.map((folder) => renderFolder(context, folder)),
      ...(next ? { '@odata.nextLink': next } : {}),
    },
  };
}

function create(context: GraphRequestContext, parent: MailFolder): GraphResult {
  const displayName = (context.body as { displayName?: unknown } | undefined)?.displayName;
  if (typeof displayName !== 'string' || displayName.trim() === '')
    throw graphErrors.badRequest("The property 'displayName' is required.", 'ErrorInvalidArgument');
  if (
    childFolders(context.mailbox, parent.id).some(
      (folder) => folder.displayName.toLowerCase() === displayName.trim().toLowerCase(),
    )
  ) {
    throw graphErrors.folderExists();
  }
  return { status: 201, body: renderFolder(context, createChildFolder(context.mailbox, parent, displayName.trim())) };
}

/** Mail folders: list, get by id or well-known name, child folders, create. */
export const folderRoutes: GraphRoute[] = [
  {
    method: 'GET',
    path: 'mailFolders',
    name: 'mailFolders.list',
    access: 'read',
    handle: (context) => {
      const root = requireFolder(context.mailbox, 'msgfolderroot');
      return listFolders(context, childFolders(context.mailbox, root.id), `${context.userUrl}/mailFolders`);
    },
  },
  {
    method: 'POST',
    path: 'mailFolders',
    name: 'mailFolders.create',
    access: 'write',
    handle: (context) => create(context, requireFolder(context.mailbox, 'msgfolderroot')),
  },
  {
    method: 'GET',
    path: 'mailFolders/{folder}',
    name: 'mailFolders.get',
    access: 'read',
    handle: (context) => ({
      status: 200,
      body: renderFolder(context, requireFolder(context.mailbox, context.params['folder'] ?? '')),
    }),
  },
  {
    method: 'GET',
    path: 'mailFolders/{folder}/childFolders',
    name: 'mailFolders.children',
    access: 'read',
    handle: (context) => {
      const parent = requireFolder(context.mailbox, context.params['folder'] ?? '');
      return listFolders(
        context,
        childFolders(context.mailbox, parent.id),
        `${context.userUrl}/mailFolders/${encodeURIComponent(parent.id)}/childFolders`,
      );
    },
  },
  {
    method: 'POST',
    path: 'mailFolders/{folder}/childFolders',
    name: 'mailFolders.createChild',
    access: 'write',
    handle: (context) => create(context, requireFolder(context.mailbox, context.params['folder'] ?? '')),
  },
];
