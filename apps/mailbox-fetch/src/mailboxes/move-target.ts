import { isGraphMailError, type GraphMailFolder, type MailboxGraph } from '@mailroute/graph-mail';
import { ValidationError } from '@mailroute/platform';
import type { FolderRecord } from '../store/mailbox-fetch.records';

/** Folders whose content Exchange deletes (retention) or purges: never a move target, nor anything inside them. */
const deletionFolders = [
  'deleteditems',
  'recoverableitemsroot',
  'recoverableitemsdeletions',
  'recoverableitemspurges',
  'recoverableitemsversions',
] as const;
/** Folders mail would be sent from or shown as sent: never a move target themselves. */
const sendingFolders = ['outbox', 'drafts', 'sentitems'] as const;
/** Parent chains are short in practice; a longer one is treated as a loop. */
const maxDepth = 32;

/** The field the refusal names (the API's; the sync reports the same). */
const field = 'mailbox.post_processing.move_to';

/** Whether a well-known name is refused without asking Graph (`recoverableitems*` covers every Recoverable Items folder). */
export function isRefusedWellKnownName(name: string): boolean {
  const lower = name.toLowerCase();
  return (
    lower.startsWith('recoverableitems') ||
    (deletionFolders as readonly string[]).includes(lower) ||
    (sendingFolders as readonly string[]).includes(lower)
  );
}

/** The ids of the folders a mailbox must never move mail into (those a well-known name resolves to). */
async function refusedIds(api: MailboxGraph): Promise<{ deletion: Map<string, string>; sending: Map<string, string> }> {
  const lookup = async (names: readonly string[], optional: (name: string) => boolean) => {
    const found = new Map<string, string>();
    await Promise.all(
      names.map(async (name) => {
        try {
          found.set((await api.getFolder({ wellKnownName: name })).id, name);
        } catch (error) {
          // Recoverable Items may not be exposed to the app (or by every Graph version): then no path
          // or id can reach them either — only a well-known name, which is refused by name.
          if (optional(name) && (isGraphMailError(error, 'not-found') || isGraphMailError(error, 'rejected'))) return;
          throw error;
        }
      }),
    );
    return found;
  };
  const [deletion, sending] = await Promise.all([
    lookup(deletionFolders, (name) => name !== 'deleteditems'),
    lookup(sendingFolders, () => true),
  ]);
  return { deletion, sending };
}

function refused(form: string, what: string): ValidationError {
  return new ValidationError(field, `${form} is ${what} (mailroute never moves mail where it would be deleted or sent)`);
}

/**
 * Resolves a move target through Graph and refuses Deleted Items and Recoverable Items — and any
 * folder inside them — however the target is named: by well-known name, by id, or by a display
 * path (localised or not: "Deleted Items", "Deleted Items/Done"). Outbox, Drafts and Sent Items are
 * refused too. Returns the folder when it exists; a path that does not exist yet is checked through
 * its deepest existing ancestor (where it would be created) and returns undefined.
 *
 * Refusals are ValidationError naming `mailbox.post_processing.move_to`; a folder id that names no
 * folder is one too. Graph failures (no access, throttled) propagate.
 */
export async function checkMoveTarget(api: MailboxGraph, target: FolderRecord): Promise<GraphMailFolder | undefined> {
  if (target.wellKnownName && isRefusedWellKnownName(target.wellKnownName))
    throw refused(`well-known folder "${target.wellKnownName}"`, 'a folder mail is deleted or sent from');
  const ids = await refusedIds(api);

  let folder: GraphMailFolder | undefined;
  let form: string;
  if (target.folderId) {
    form = 'the folder with this id';
    try {
      folder = await api.getFolder({ folderId: target.folderId });
    } catch (error) {
      if (isGraphMailError(error, 'not-found')) throw new ValidationError(`${field}.folder_id`, 'names no folder of the mailbox');
      throw error;
    }
  } else if (target.path) {
    form = `folder path "${target.path.slice(0, 300)}"`;
    const segments = target.path
      .split('/')
      .map((segment) => segment.trim())
      .filter(Boolean);
    // The deepest existing prefix: where the rest of the path would be created.
    for (let length = segments.length; length >= 1 && !folder; length -= 1) {
      folder = await api.resolveFolderPath(segments.slice(0, length).join('/'), false);
      if (folder && length < segments.length) {
        await checkAncestry(api, folder, ids, form);
        return undefined;
      }
    }
    if (!folder) return undefined;
  } else {
    form = `well-known folder "${target.wellKnownName ?? 'inbox'}"`;
    folder = await api.getFolder({ wellKnownName: target.wellKnownName ?? 'inbox' });
  }
  const sending = ids.sending.get(folder.id);
  if (sending) throw refused(form, `the ${sending} folder`);
  await checkAncestry(api, folder, ids, form);
  return folder;
}

/** Refuses `folder` when it or a folder above it is a deletion folder. */
async function checkAncestry(
  api: MailboxGraph,
  folder: GraphMailFolder,
  ids: { deletion: Map<string, string> },
  form: string,
): Promise<void> {
  let current: GraphMailFolder | undefined = folder;
  for (let depth = 0; current && depth < maxDepth; depth += 1) {
    const deletion = ids.deletion.get(current.id);
    if (deletion) throw refused(form, current === folder ? `the ${deletion} folder` : `inside the ${deletion} folder`);
    if (!current.parentFolderId) return;
    try {
      current = await api.getFolder({ folderId: current.parentFolderId });
    } catch (error) {
      // The message folder root's parent is not a folder the app may read.
      if (isGraphMailError(error, 'not-found') || isGraphMailError(error, 'access-denied')) return;
      throw error;
    }
  }
}
