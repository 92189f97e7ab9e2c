import { randomBytes } from 'node:crypto';
import { newItemId, newOpaque } from '../shared/ids';
import type {
  Attachment,
  InternetMessageHeader,
  ItemBody,
  MailFolder,
  Mailbox,
  MailboxPurpose,
  Message,
  Recipient,
} from './model.types';

/**
 * Well-known folder names (locale-independent, Graph mailFolder resource) the sandbox creates in every
 * mailbox, with their English display names. `msgfolderroot` is the parent of the top-level folders.
 */
const wellKnownFolders: ReadonlyArray<readonly [name: string, displayName: string]> = [
  ['inbox', 'Inbox'],
  ['drafts', 'Drafts'],
  ['sentitems', 'Sent Items'],
  ['deleteditems', 'Deleted Items'],
  ['junkemail', 'Junk Email'],
  ['outbox', 'Outbox'],
  ['archive', 'Archive'],
  ['conversationhistory', 'Conversation History'],
];

/**
 * The Recoverable Items folders (where Exchange keeps deleted mail until retention purges it): outside
 * the message folder tree, so `mailFolders` does not list them, but reachable by well-known name or id.
 */
const recoverableItemsFolders: ReadonlyArray<readonly [name: string, displayName: string]> = [
  ['recoverableitemsdeletions', 'Deletions'],
  ['recoverableitemspurges', 'Purges'],
  ['recoverableitemsversions', 'Versions'],
];

/** Creates an empty mailbox with its well-known folders. */
export function createMailbox(init: {
  id: string;
  tenantId: string;
  userPrincipalName: string;
  displayName: string;
  mail?: string;
  mailboxEnabled?: boolean;
  userPurpose?: MailboxPurpose;
}): Mailbox {
  const mailbox: Mailbox = {
    id: init.id,
    tenantId: init.tenantId,
    userPrincipalName: init.userPrincipalName,
    mail: init.mail ?? init.userPrincipalName,
    displayName: init.displayName,
    userPurpose: init.userPurpose ?? 'user',
    permissions: { fullAccess: new Set(), sendAs: new Set(), sendOnBehalf: new Set() },
    mailboxEnabled: init.mailboxEnabled ?? true,
    folders: new Map(),
    wellKnownFolders: new Map(),
    messages: new Map(),
    restIdIndex: new Map(),
    seq: 0,
    syncGeneration: 0,
    syncGenerationFloor: 0,
    sent: [],
  };
  const root: MailFolder = {
    id: newItemId('folder'),
    displayName: 'Top of Information Store',
    parentFolderId: '',
    wellKnownName: 'msgfolderroot',
    tombstones: [],
  };
  mailbox.folders.set(root.id, root);
  mailbox.wellKnownFolders.set('msgfolderroot', root.id);
  for (const [name, displayName] of wellKnownFolders) {
    const folder: MailFolder = {
      id: newItemId('folder'),
      displayName,
      parentFolderId: root.id,
      wellKnownName: name,
      tombstones: [],
    };
    mailbox.folders.set(folder.id, folder);
    mailbox.wellKnownFolders.set(name, folder.id);
  }
  const recoverable: MailFolder = {
    id: newItemId('folder'),
    displayName: 'Recoverable Items',
    parentFolderId: '',
    wellKnownName: 'recoverableitemsroot',
    tombstones: [],
  };
  mailbox.folders.set(recoverable.id, recoverable);
  mailbox.wellKnownFolders.set('recoverableitemsroot', recoverable.id);
  for (const [name, displayName] of recoverableItemsFolders) {
    const folder: MailFolder = {
      id: newItemId('folder'),
      displayName,
      parentFolderId: recoverable.id,
      wellKnownName: name,
      tombstones: [],
    };
    mailbox.folders.set(folder.id, folder);
    mailbox.wellKnownFolders.set(name, folder.id);
  }
  return mailbox;
}

/** A folder by id or well-known name (case-insensitive, as Graph accepts `Inbox` and `inbox`). */
export function findFolder(mailbox: Mailbox, idOrName: string): MailFolder | undefined {
  const byId = mailbox.folders.get(idOrName);
  if (byId) return byId;
  const wellKnownId = mailbox.wellKnownFolders.get(idOrName.toLowerCase());
  return wellKnownId ? mailbox.folders.get(wellKnownId) : undefined;
}

/** The folder with a well-known name (always present). */
export function wellKnownFolder(mailbox: Mailbox, name: string): MailFolder {
  const folder = findFolder(mailbox, name);
  if (!folder) throw new Error(`mailbox ${mailbox.userPrincipalName} has no ${name} folder`);
  return folder;
}

export function childFolders(mailbox: Mailbox, parentId: string): MailFolder[] {
  return [...mailbox.folders.values()].filter((folder) => folder.parentFolderId === parentId);
}

export function createChildFolder(mailbox: Mailbox, parent: MailFolder, displayName: string): MailFolder {
  const folder: MailFolder = { id: newItemId('folder'), displayName, parentFolderId: parent.id, tombstones: [] };
  mailbox.folders.set(folder.id, folder);
  return folder;
}

/** A message by REST id or immutable id. */
export function findMessage(mailbox: Mailbox, id: string): Message | undefined {
  return mailbox.messages.get(id) ?? mailbox.messages.get(mailbox.restIdIndex.get(id) ?? '');
}

export function messagesInFolder(mailbox: Mailbox, folderId: string): Message[] {
  const result: Message[] = [];
  for (const message of mailbox.messages.values()) if (message.folderId === folderId) result.push(message);
  return result;
}

function newChangeKey(): string {
  return 'CQAAABYAAA' + randomBytes(12).toString('base64url');
}

function touch(mailbox: Mailbox, message: Message, now: number): void {
  message.changeSeq = ++mailbox.seq;
  message.changeKey = newChangeKey();
  message.lastModifiedMs = now;
}

/** A new RFC 5322 Message-ID in the sender's domain, `<…@domain>`. */
export function newInternetMessageId(fromAddress: string): string {
  const domain = fromAddress.split('@')[1] ?? 'sandbox.invalid';
  return `<${newOpaque(18).replace(/[-_]/g, 'x')}@${domain}>`;
}

/** Exchange's Thread-Index/conversationIndex: 22 bytes for a new thread, 5 more bytes per reply. */
export function newConversationIndex(now: number, parent?: Buffer): Buffer {
  if (parent && parent.length >= 22) return Buffer.concat([parent, randomBytes(5)]);
  const header = Buffer.alloc(22);
  header.writeUInt8(1, 0);
  header.writeUIntBE(Math.floor(now / 1000) & 0xffffffffff, 1, 5);
  randomBytes(16).copy(header, 6);
  return header;
}

export interface NewMessage {
  subject: string;
  body: ItemBody;
  from?: Recipient;
  sender?: Recipient;
  toRecipients?: Recipient[];
  ccRecipients?: Recipient[];
  bccRecipients?: Recipient[];
  replyTo?: Recipient[];
  isRead?: boolean;
  isDraft?: boolean;
  importance?: Message['importance'];
  categories?: string[];
  internetMessageId?: string;
  internetMessageHeaders?: InternetMessageHeader[];
  attachments?: Array<Omit<Attachment, 'id' | 'lastModifiedMs'>>;
  receivedMs?: number;
  sentMs?: number;
  /** Thread onto the conversation of the message with one of these internet message ids, if present. */
  threadOn?: string[];
  conversationId?: string;
  conversationIndex?: Buffer;
  replyToMessageImmutableId?: string;
}

/**
 * Stores a message in `folder`. Threading: the conversation is that of the first message in this
 * mailbox whose internetMessageId is in `threadOn` (In-Reply-To / References), else a new one.
 */
export function insertMessage(mailbox: Mailbox, folder: MailFolder, input: NewMessage, now: number): Message {
  let conversationId = input.conversationId;
  let conversationIndex = input.conversationIndex;
  if (!conversationId && input.threadOn && input.threadOn.length > 0) {
    const wanted = new Set(input.threadOn);
    for (const candidate of mailbox.messages.values()) {
      if (wanted.has(candidate.internetMessageId)) {
        conversationId = candidate.conversationId;
        conversationIndex = newConversationIndex(now, candidate.conversationIndex);
        break;
      }
    }
  }
  const fromAddress = input.from?.emailAddress.address ?? mailbox.mail;
  const message: Message = {
    immutableId: newItemId('immutable'),
    restId: newItemId('message'),
    folderId: folder.id,
    changeSeq: 0,
    changeKey: '',
    createdMs: now,
    lastModifiedMs: now,
    receivedMs: input.receivedMs ?? now,
    sentMs: input.sentMs ?? input.receivedMs ?? now,
    subject: input.subject,
    body: input.body,
    ...(input.from ? { from: input.from } : {}),
    ...((input.sender ?? input.from) ? { sender: input.sender ?? input.from } : {}),
    toRecipients: input.toRecipients ?? [],
    ccRecipients: input.ccRecipients ?? [],
    bccRecipients: input.bccRecipients ?? [],
    replyTo: input.replyTo ?? [],
    isRead: input.isRead ?? false,
    isDraft: input.isDraft ?? false,
    importance: input.importance ?? 'normal',
    categories: input.categories ?? [],
    flagStatus: 'notFlagged',
    internetMessageId: input.internetMessageId ?? newInternetMessageId(fromAddress),
    conversationId: conversationId ?? newItemId('conversation'),
    conversationIndex: conversationIndex ?? newConversationIndex(now),
    internetMessageHeaders: input.internetMessageHeaders ?? [],
    attachments: (input.attachments ?? []).map((attachment) => ({
      ...attachment,
      id: newItemId('attachment'),
      lastModifiedMs: now,
    })),
    ...(input.replyToMessageImmutableId ? { replyToMessageImmutableId: input.replyToMessageImmutableId } : {}),
  };
  touch(mailbox, message, now);
  mailbox.messages.set(message.immutableId, message);
  mailbox.restIdIndex.set(message.restId, message.immutableId);
  return message;
}

/** Records a change to writable properties (bumps changeKey and the delta sequence). */
export function markChanged(mailbox: Mailbox, message: Message, now: number): void {
  touch(mailbox, message, now);
}

function leaveFolder(mailbox: Mailbox, message: Message): void {
  const folder = mailbox.folders.get(message.folderId);
  folder?.tombstones.push({ immutableId: message.immutableId, restId: message.restId, seq: ++mailbox.seq });
}

/**
 * Moves a message: Exchange creates a copy in the destination and removes the original, so the REST id
 * changes (the immutable id does not) and the source folder's delta reports it as removed.
 */
export function moveMessage(mailbox: Mailbox, message: Message, destination: MailFolder, now: number): Message {
  if (message.folderId === destination.id) return message;
  leaveFolder(mailbox, message);
  mailbox.restIdIndex.delete(message.restId);
  message.restId = newItemId('message');
  mailbox.restIdIndex.set(message.restId, message.immutableId);
  message.folderId = destination.id;
  touch(mailbox, message, now);
  return message;
}

/** Removes a message for good (a hard delete, or an admin action). */
export function deleteMessage(mailbox: Mailbox, message: Message): void {
  leaveFolder(mailbox, message);
  mailbox.messages.delete(message.immutableId);
  mailbox.restIdIndex.delete(message.restId);
}
