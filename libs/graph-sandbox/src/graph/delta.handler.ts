import type { Mailbox, MailFolder, Message } from '../model/model.types';
import { messagesInFolder } from '../model/mailbox.store';
import type { SandboxContext } from '../shared/sandbox-context';
import { decodeDeltaToken, encodeDeltaToken, type DeltaState } from './delta-token';
import { requireFolder } from './folders.handler';
import { graphErrors } from './graph-errors';
import type { GraphRequestContext, GraphResult, GraphRoute } from './graph-route';
import { toGraphMessage } from './message-serializer';
import { parseCount, parseSelect } from './odata-query';
import { parseFilter, type FilterNode } from './odata-filter';

/** Messages delta supports `$filter` only as `receivedDateTime ge|gt <date-time>`. */
function parseDeltaFilter(raw: string | null): DeltaState['receivedAfter'] {
  if (raw === null) return undefined;
  let tree: FilterNode;
  try {
    tree = parseFilter(raw);
  } catch {
    tree = { kind: 'not', operand: { kind: 'compare', path: '', op: 'eq', value: null } };
  }
  if (
    tree.kind !== 'compare' ||
    tree.path.toLowerCase() !== 'receiveddatetime' ||
    (tree.op !== 'ge' && tree.op !== 'gt') ||
    typeof tree.value !== 'object' ||
    tree.value === null
  ) {
    throw graphErrors.badRequest(
      'Messages delta supports $filter only as receivedDateTime ge|gt <date-time>.',
      'ErrorInvalidUrlQueryFilter',
    );
  }
  return { op: tree.op, ms: tree.value.dateTime };
}

function passesFilter(message: Message, filter: DeltaState['receivedAfter']): boolean {
  if (!filter) return true;
  return filter.op === 'ge' ? message.receivedMs >= filter.ms : message.receivedMs > filter.ms;
}

type Change = { seq: number; message?: Message; removed?: { immutableId: string; restId: string } };

/** The changes of a round in sequence order: items whose last change is in (since, until], plus removals. */
function changesInRound(mailbox: Mailbox, folder: MailFolder, state: DeltaState, until: number): Change[] {
  const changes: Change[] = [];
  const present = new Set<string>();
  for (const message of messagesInFolder(mailbox, folder.id)) {
    present.add(message.immutableId);
    if (message.changeSeq > state.since && message.changeSeq <= until && passesFilter(message, state.receivedAfter)) {
      changes.push({ seq: message.changeSeq, message });
    }
  }
  // The initial round lists what is there; removals only matter to a holder of an earlier state.
  if (state.since > 0) {
    for (const tombstone of folder.tombstones) {
      if (tombstone.seq > state.since && tombstone.seq <= until && !present.has(tombstone.immutableId)) {
        changes.push({ seq: tombstone.seq, removed: tombstone });
      }
    }
  }
  return changes.sort((a, b) => a.seq - b.seq);
}

function deltaUrl(context: GraphRequestContext, folderSegment: string): string {
  return `${context.userUrl}/mailFolders/${encodeURIComponent(folderSegment)}/messages/delta`;
}

/**
 * `GET …/mailFolders/{id}/messages/delta`: pages of changes since the state in `$deltatoken`/`$skiptoken`
 * (or everything, on the first call), `@odata.nextLink` while the round has more, then `@odata.deltaLink`.
 * Evicted or too-old tokens answer 410 SyncStateNotFound; unusable ones 410 resyncRequired + Location.
 */
function handleDelta(sandbox: SandboxContext) {
  return (context: GraphRequestContext): GraphResult => {
    const { mailbox, query, now } = context;
    const folderSegment = context.params['folder'] ?? '';
    const folder = requireFolder(mailbox, folderSegment);
    const token = query.get('$skiptoken') ?? query.get('$deltatoken');
    let state: DeltaState;
    if (token !== null) {
      const decoded = decodeDeltaToken(token, sandbox.tokenSecret);
      if (!decoded.ok || decoded.state.mailboxId !== mailbox.id || decoded.state.folderId !== folder.id) {
        throw graphErrors.resyncRequired(deltaUrl(context, folderSegment));
      }
      state = decoded.state;
      const tooOld =
        sandbox.settings.deltaTokenMaxAgeSeconds > 0 && now - state.issuedMs > sandbox.settings.deltaTokenMaxAgeSeconds * 1000;
      if (state.generation < mailbox.syncGenerationFloor || tooOld)
        throw graphErrors.syncStateNotFound(state.generation, mailbox.syncGeneration);
    } else {
      const select = parseSelect(query);
      const top = parseCount(query, '$top', 1000);
      const orderBy = query.get('$orderby');
      if (orderBy !== null && orderBy.trim().toLowerCase().replace(/\s+/g, ' ') !== 'receiveddatetime desc') {
        throw graphErrors.badRequest('Messages delta supports $orderby only as receivedDateTime desc.', 'ErrorInvalidUrlQuery');
      }
      if (query.get('$search') !== null)
        throw graphErrors.badRequest('$search is not supported with delta.', 'ErrorInvalidUrlQuery');
      const receivedAfter = parseDeltaFilter(query.get('$filter'));
      mailbox.syncGeneration += 1;
      state = {
        mailboxId: mailbox.id,
        folderId: folder.id,
        generation: mailbox.syncGeneration,
        issuedMs: now,
        since: 0,
        ...(select ? { select } : {}),
        ...(receivedAfter ? { receivedAfter } : {}),
        ...(top !== undefined ? { top } : {}),
      };
    }
    const until = state.until ?? mailbox.seq;
    const pageSize = Math.max(1, context.prefer.maxPageSize ?? state.top ?? sandbox.settings.defaultDeltaPageSize);
    const pending = changesInRound(mailbox, folder, state, until).filter(
      (change) => state.cursor === undefined || change.seq > state.cursor,
    );
    const page = pending.slice(0, pageSize);
    const options = { ...context.render, ...(state.select ? { select: state.select } : {}) };
    const value = page.map((change) =>
      change.message
        ? { '@odata.type': '#microsoft.graph.message', ...toGraphMessage(change.message, options) }
        : {
            '@odata.type': '#microsoft.graph.message',
            id: context.prefer.immutableIds ? change.removed?.immutableId : change.removed?.restId,
            '@removed': { reason: 'deleted' },
          },
    );
    const body: Record<string, unknown> = {
      '@odata.context': `${sandbox.baseUrl()}/v1.0/$metadata#Collection(message)`,
      value,
    };
    const last = page[page.length - 1];
    if (pending.length > page.length && last) {
      const skip = encodeDeltaToken({ ...state, until, cursor: last.seq, issuedMs: now }, sandbox.tokenSecret);
      body['@odata.nextLink'] = `${deltaUrl(context, folderSegment)}?$skiptoken=${skip}`;
    } else {
      mailbox.syncGeneration += 1;
      const next: DeltaState = { ...state, since: until, generation: mailbox.syncGeneration, issuedMs: now };
      delete next.until;
      delete next.cursor;
      body['@odata.deltaLink'] = `${deltaUrl(context, folderSegment)}?$deltatoken=${encodeDeltaToken(next, sandbox.tokenSecret)}`;
    }
    return {
      status: 200,
      body,
      headers: context.prefer.maxPageSize ? { 'Preference-Applied': `odata.maxpagesize=${pageSize}` } : {},
    };
  };
}

export function deltaRoutes(sandbox: SandboxContext): GraphRoute[] {
  return [
    {
      method: 'GET',
      path: 'mailFolders/{folder}/messages/delta',
      name: 'messages.delta',
      access: 'read',
      handle: handleDelta(sandbox),
    },
  ];
}
