import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateTree, privateFileMode } from '@mailroute/platform';
import { BlobNotFoundError } from '../errors';
import { fromJsonDocument, toJsonDocument } from '../embedded/embedded-store';
import {
  defaultBlobChunkBytes,
  rechunk,
  toChunks,
  type BlobInfo,
  type BlobSource,
  type BlobStore,
  type BlobWriteOptions,
} from '../ports/blob-store';

/** The description file of a blob: its info and the content file it names. */
interface BlobRecord extends BlobInfo {
  file: string;
}

/** Temporary files left by a crashed write are removed by the sweep after this long. */
const incompleteGraceMs = 60 * 60_000;

export interface FileBlobStoreOptions {
  /** The directory; created 0700 when missing, every file in it 0600 (they hold customer mail). */
  directory: string;
}

/**
 * A BlobStore in private files under one directory, for the embedded default: `<h>.json` describes
 * the blob under key hash `h` and names its content file `<h>-<uuid>.blob`. A put writes a new
 * content file, then replaces the description by rename (the commit point), then removes the old
 * content file: readers see a whole blob or none, an open reader keeps its file, and a crashed
 * write leaves only a `.tmp` file the sweep removes. Several processes (the all-in-one host's
 * services) may share the directory.
 */
export class FileBlobStore implements BlobStore {
  readonly directory: string;

  constructor(options: FileBlobStoreOptions) {
    this.directory = path.resolve(options.directory);
    // Every blob file private, including those an older version or a loose umask left readable.
    ensurePrivateTree(this.directory);
  }

  async put(key: string, source: BlobSource, options: BlobWriteOptions): Promise<BlobInfo> {
    const base = keyHash(key);
    const unique = randomUUID();
    const temporary = this.file(`${base}-${unique}.tmp`);
    const contentFile = `${base}-${unique}.blob`;
    const hash = createHash('sha256');
    let sizeBytes = 0;
    const handle = await open(temporary, 'wx', privateFileMode);
    try {
      for await (const chunk of toChunks(source)) {
        hash.update(chunk);
        sizeBytes += chunk.byteLength;
        await handle.write(chunk);
      }
      await handle.sync();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
    await handle.close();
    await rename(temporary, this.file(contentFile));
    const previous = await this.record(key);
    const info: BlobInfo = {
      key,
      name: options.name,
      contentType: options.contentType,
      sizeBytes,
      sha256: hash.digest('hex'),
      createdAt: new Date(),
      ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
    };
    await this.writeRecord(base, { ...info, file: contentFile });
    if (previous && previous.file !== contentFile) await unlink(this.file(previous.file)).catch(() => undefined);
    return info;
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    const record = await this.record(key);
    if (!record) return undefined;
    const { file: _file, ...info } = record;
    return info;
  }

  async *read(key: string, options: { chunkBytes?: number } = {}): AsyncIterable<Buffer> {
    const chunkBytes = options.chunkBytes ?? defaultBlobChunkBytes;
    // A put may replace the content file between reading the description and opening the file: read the new one.
    for (let attempt = 0; ; attempt += 1) {
      const record = await this.record(key);
      if (!record) throw new BlobNotFoundError(key);
      const handle = await open(this.file(record.file), 'r').catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT' && attempt < 3) return undefined;
        if (error.code === 'ENOENT') throw new BlobNotFoundError(key);
        throw error;
      });
      if (!handle) continue;
      yield* rechunk(createReadStream('', { fd: handle, highWaterMark: chunkBytes }), chunkBytes);
      return;
    }
  }

  async setExpiry(key: string, expiresAt: Date | undefined): Promise<boolean> {
    const record = await this.record(key);
    if (!record) return false;
    const { expiresAt: _previous, ...rest } = record;
    await this.writeRecord(keyHash(key), expiresAt ? { ...rest, expiresAt } : rest);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const record = await this.record(key);
    if (!record) return false;
    await unlink(this.file(`${keyHash(key)}.json`)).catch(ignoreMissing);
    await unlink(this.file(record.file)).catch(ignoreMissing);
    return true;
  }

  async deleteExpired(now: Date, limit = 100): Promise<string[]> {
    const deleted: string[] = [];
    for (const entry of await readdir(this.directory)) {
      if (deleted.length >= limit) break;
      if (entry.endsWith('.tmp')) {
        const stats = await stat(this.file(entry)).catch(() => undefined);
        if (stats && now.getTime() - stats.mtimeMs > incompleteGraceMs) await unlink(this.file(entry)).catch(ignoreMissing);
        continue;
      }
      if (!entry.endsWith('.json')) continue;
      const record = await this.readRecord(entry);
      if (!record?.expiresAt || record.expiresAt.getTime() > now.getTime()) continue;
      if (await this.delete(record.key)) deleted.push(record.key);
    }
    return deleted;
  }

  private file(name: string): string {
    return path.join(this.directory, name);
  }

  private async record(key: string): Promise<BlobRecord | undefined> {
    const record = await this.readRecord(`${keyHash(key)}.json`);
    return record?.key === key ? record : undefined;
  }

  private async readRecord(name: string): Promise<BlobRecord | undefined> {
    try {
      return fromJsonDocument<BlobRecord>(await readFile(this.file(name), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  private async writeRecord(base: string, record: BlobRecord): Promise<void> {
    const temporary = this.file(`${base}-${randomUUID()}.tmp`);
    const handle = await open(temporary, 'wx', privateFileMode);
    try {
      await handle.writeFile(toJsonDocument(record));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.file(`${base}.json`));
  }
}

/** File names derive from the key's hash: keys may hold any ASCII, and names must stay short and safe. */
function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
