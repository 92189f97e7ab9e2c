import type { Message } from '../model/model.types';
import { graphErrors } from './graph-errors';
import { selectableMessageProperties } from './message-serializer';
import { evaluateFilter, FilterSyntaxError, filterPaths, parseFilter, type FilterNode } from './odata-filter';

/** `$select`, validated against the message properties; `undefined` when absent. */
export function parseSelect(
  query: URLSearchParams,
  selectable: ReadonlySet<string> = selectableMessageProperties,
  type?: string,
): string[] | undefined {
  const raw = query.get('$select');
  if (raw === null) return undefined;
  const wanted = raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  for (const property of wanted) {
    const canonical = [...selectable].find((candidate) => candidate.toLowerCase() === property.toLowerCase());
    if (!canonical) throw graphErrors.unknownProperty(property, type);
  }
  return wanted.map(
    (property) => [...selectable].find((candidate) => candidate.toLowerCase() === property.toLowerCase()) as string,
  );
}

/** A non-negative integer query option (`$top`, `$skip`) within `max`. */
export function parseCount(query: URLSearchParams, name: '$top' | '$skip', max: number): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw graphErrors.badRequest(`Invalid value '${raw}' for query option ${name}.`);
  if (value > max) throw graphErrors.badRequest(`The value of ${name} can't exceed ${max}.`);
  return value;
}

/** Reads a message property by OData path for filtering and ordering. */
function readMessageProperty(message: Message, path: string): unknown {
  switch (path.toLowerCase()) {
    case 'receiveddatetime':
      return message.receivedMs;
    case 'sentdatetime':
      return message.sentMs;
    case 'createddatetime':
      return message.createdMs;
    case 'lastmodifieddatetime':
      return message.lastModifiedMs;
    case 'isread':
      return message.isRead;
    case 'isdraft':
      return message.isDraft;
    case 'hasattachments':
      return message.attachments.some((attachment) => !attachment.isInline);
    case 'importance':
      return message.importance;
    case 'subject':
      return message.subject;
    case 'conversationid':
      return message.conversationId;
    case 'internetmessageid':
      return message.internetMessageId;
    case 'parentfolderid':
      return message.folderId;
    case 'from/emailaddress/address':
      return message.from?.emailAddress.address;
    case 'sender/emailaddress/address':
      return message.sender?.emailAddress.address;
    case 'flag/flagstatus':
      return message.flagStatus;
    default:
      return undefined;
  }
}

const filterable = new Set([
  'receiveddatetime',
  'sentdatetime',
  'createddatetime',
  'lastmodifieddatetime',
  'isread',
  'isdraft',
  'hasattachments',
  'importance',
  'subject',
  'conversationid',
  'internetmessageid',
  'parentfolderid',
  'from/emailaddress/address',
  'sender/emailaddress/address',
  'flag/flagstatus',
]);

/** `$filter` on messages, parsed and checked; `undefined` when absent. */
export function parseMessageFilter(query: URLSearchParams): FilterNode | undefined {
  const raw = query.get('$filter');
  if (raw === null) return undefined;
  let tree: FilterNode;
  try {
    tree = parseFilter(raw);
  } catch (error) {
    if (error instanceof FilterSyntaxError) throw graphErrors.invalidFilter(error.message);
    throw error;
  }
  for (const path of filterPaths(tree)) if (!filterable.has(path.toLowerCase())) throw graphErrors.unknownProperty(path);
  return tree;
}

export function matchesFilter(message: Message, filter: FilterNode | undefined): boolean {
  return !filter || evaluateFilter(filter, (path) => readMessageProperty(message, path));
}

const orderable = new Set([
  'receiveddatetime',
  'sentdatetime',
  'createddatetime',
  'lastmodifieddatetime',
  'subject',
  'importance',
  'isread',
]);

/** `$orderby` (`receivedDateTime desc`, comma-separated keys); messages default to newest first. */
export function parseOrderBy(query: URLSearchParams): Array<{ path: string; descending: boolean }> {
  const raw = query.get('$orderby');
  if (raw === null) return [{ path: 'receivedDateTime', descending: true }];
  return raw.split(',').map((part) => {
    const [path = '', direction = 'asc', ...rest] = part.trim().split(/\s+/);
    if (!orderable.has(path.toLowerCase())) throw graphErrors.unknownProperty(path);
    if (rest.length > 0 || !['asc', 'desc'].includes(direction.toLowerCase()))
      throw graphErrors.badRequest(`Invalid $orderby clause '${part.trim()}'.`);
    return { path, descending: direction.toLowerCase() === 'desc' };
  });
}

export function sortMessages(messages: Message[], order: ReadonlyArray<{ path: string; descending: boolean }>): Message[] {
  return messages.sort((a, b) => {
    for (const { path, descending } of order) {
      const left = readMessageProperty(a, path) as string | number | boolean;
      const right = readMessageProperty(b, path) as string | number | boolean;
      if (left === right) continue;
      const result = left < right ? -1 : 1;
      return descending ? -result : result;
    }
    return a.immutableId < b.immutableId ? -1 : 1;
  });
}

/** Graph's date-time format, re-exported for handlers. */
