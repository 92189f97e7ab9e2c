import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Mode of directories that hold customer mail, secrets or logs: the service's user only. */
const privateDirectoryMode = 0o700;
/** Mode of every file in them. */
export const privateFileMode = 0o600;

/** SQLite's companion files of a database (WAL mode, rollback journal). */
const sqliteCompanions = ['-wal', '-shm', '-journal'] as const;

function ownedByUs(stats: { uid: number }): boolean {
  return typeof process.getuid !== 'function' || stats.uid === process.getuid();
}

function restrict(target: string, mode: number): void {
  let stats;
  try {
    stats = statSync(target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  // A directory someone else owns (e.g. /tmp for a file placed there) is left as it is: only what
  // this service created or owns is its data.
  if (ownedByUs(stats) && (stats.mode & 0o777) !== mode) chmodSync(target, mode);
}

/**
 * Makes `dir` a private directory: creates it and missing parents with mode 0700, and fixes an
 * existing one we own to 0700 (data written by an older version, or under a loose umask).
 */
export function ensurePrivateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: privateDirectoryMode });
  restrict(dir, privateDirectoryMode);
}

/**
 * Makes `dir` and everything under it private: directories 0700, files 0600 (what we own; symbolic
 * links are not followed). For stores that keep many files of their own in one directory (the blob
 * store), so a data directory an older version or a loose umask left readable is fixed on start.
 */
export function ensurePrivateTree(dir: string): void {
  ensurePrivateDirectory(dir);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const target = path.join(dir, entry.name);
    if (entry.isDirectory()) ensurePrivateTree(target);
    else if (entry.isFile()) restrict(target, privateFileMode);
  }
}

/**
 * Makes `file` private before anything writes to it: its directory as {@link ensurePrivateDirectory},
 * the file created empty with mode 0600 when missing, an existing one fixed to 0600. Writers that
 * append (logs) or open it themselves (SQLite) then keep that mode.
 */
export function ensurePrivateFile(file: string): void {
  ensurePrivateDirectory(path.dirname(path.resolve(file)));
  closeSync(openSync(file, 'a', privateFileMode));
  restrict(file, privateFileMode);
}

/** Writes `data` to `file` (replacing it) readable by this user only, in a private directory. */
export function writePrivateFile(file: string, data: string | Uint8Array): void {
  ensurePrivateFile(file);
  writeFileSync(file, data, { mode: privateFileMode });
}

/**
 * Makes a SQLite database private before it is opened: the database file as {@link ensurePrivateFile}
 * (SQLite creates its -wal and -shm files with the database file's mode), and companions left by an
 * earlier run fixed to 0600. `:memory:` is left alone.
 */
export function ensurePrivateSqliteFile(databasePath: string): void {
  if (databasePath === ':memory:' || databasePath === '') return;
  ensurePrivateFile(databasePath);
  for (const suffix of sqliteCompanions) restrict(`${databasePath}${suffix}`, privateFileMode);
}
