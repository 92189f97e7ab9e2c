import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ensurePrivateDirectory, ensurePrivateSqliteFile, ensurePrivateTree, writePrivateFile } from './private-files';

const mode = (file: string) => statSync(file).mode & 0o777;

describe('private files', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'private-files-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("creates a SQLite database whose WAL and SHM files are the user's only, in a 0700 directory", () => {
    const file = path.join(root, 'new', 'store.sqlite');
    ensurePrivateSqliteFile(file);
    const db = new DatabaseSync(file);
    db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (a); INSERT INTO t VALUES (1);');
    expect([mode(path.dirname(file)), mode(file), mode(`${file}-wal`), mode(`${file}-shm`)]).toEqual([
      0o700, 0o600, 0o600, 0o600,
    ]);
    db.close();
  });

  it('fixes what an earlier run left readable by others', () => {
    const dir = path.join(root, 'old');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const file = path.join(dir, 'store.sqlite');
    for (const name of [file, `${file}-wal`, `${file}-shm`]) {
      writeFileSync(name, '');
      chmodSync(name, 0o644);
    }
    ensurePrivateDirectory(dir);
    ensurePrivateSqliteFile(file);
    writePrivateFile(path.join(dir, 'secrets.json'), '{}');
    expect([dir, file, `${file}-wal`, `${file}-shm`, path.join(dir, 'secrets.json')].map(mode)).toEqual([
      0o700, 0o600, 0o600, 0o600, 0o600,
    ]);
  });

  it('fixes a whole tree an earlier run left readable by others (the blob store keeps many files)', () => {
    const dir = path.join(root, 'blobs');
    const nested = path.join(dir, 'ab');
    mkdirSync(nested, { recursive: true });
    const files = [path.join(dir, 'a.json'), path.join(nested, 'b.blob')];
    for (const file of files) {
      writeFileSync(file, 'x');
      chmodSync(file, 0o644);
    }
    for (const directory of [dir, nested]) chmodSync(directory, 0o755);
    ensurePrivateTree(dir);
    expect([dir, nested, ...files].map(mode)).toEqual([0o700, 0o700, 0o600, 0o600]);
  });
});
