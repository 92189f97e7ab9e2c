import { once } from 'node:events';
import { createHash } from 'node:crypto';
import { GridFSBucket, ObjectId, type Collection, type Db, type GridFSFile, type UpdateFilter } from 'mongodb';
import { BlobNotFoundError, toStoreError } from '../errors';
import {
  defaultBlobChunkBytes,
  rechunk,
  toChunks,
  type BlobInfo,
  type BlobSource,
  type BlobStore,
  type BlobWriteOptions,
} from '../ports/blob-store';

interface BlobMetadata {
  name: string;
  contentType: string;
  /** Set once the content is completely written: a file without it is not (yet) a blob. */
  sha256?: string;
  expiresAt?: Date;
}

/** Files left incomplete by a crash are removed by the sweep after this long. */
const incompleteGraceMs = 60 * 60_000;

/**
 * A BlobStore in a GridFS bucket (`<bucket>.files` + `<bucket>.chunks`, 1 MiB chunks) through the
 * driver's GridFSBucket, which works on FerretDB too. Every put writes a new GridFS file named by
 * the key; the file counts once its SHA-256 is recorded (the commit point), and older files of the
 * same key are deleted then — so a reader sees a whole blob or none, and a crashed write leaves an
 * incomplete file the sweep removes.
 */
export class MongoBlobStore implements BlobStore {
  private readonly bucket: GridFSBucket;
  private readonly files: Collection<GridFSFile>;

  constructor(
    store: { db: Db },
    readonly bucketName = 'blobs',
  ) {
    this.bucket = new GridFSBucket(store.db, { bucketName, chunkSizeBytes: defaultBlobChunkBytes });
    this.files = store.db.collection<GridFSFile>(`${bucketName}.files`);
  }

  async put(key: string, source: BlobSource, options: BlobWriteOptions): Promise<BlobInfo> {
    const id = new ObjectId();
    const metadata: BlobMetadata = {
      name: options.name,
      contentType: options.contentType,
      ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
    };
    const upload = this.bucket.openUploadStreamWithId(id, key, { metadata });
    const hash = createHash('sha256');
    try {
      for await (const chunk of toChunks(source)) {
        hash.update(chunk);
        if (!upload.write(chunk)) await once(upload, 'drain');
      }
      upload.end();
      await once(upload, 'finish');
    } catch (error) {
      await upload.abort().catch(() => undefined);
      throw toStoreError('blob', error);
    }
    const sha256 = hash.digest('hex');
    await this.run(() => this.files.updateOne({ _id: id }, { $set: { 'metadata.sha256': sha256 } }));
    await this.deleteOlder(key, id);
    return {
      key,
      name: options.name,
      contentType: options.contentType,
      sizeBytes: upload.length,
      sha256,
      createdAt: upload.gridFSFile?.uploadDate ?? new Date(),
      ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
    };
  }

  async stat(key: string): Promise<BlobInfo | undefined> {
    return this.toInfo(await this.latest(key));
  }

  async *read(key: string, options: { chunkBytes?: number } = {}): AsyncIterable<Buffer> {
    const file = await this.latest(key);
    if (!file) throw new BlobNotFoundError(key);
    const chunkBytes = options.chunkBytes ?? defaultBlobChunkBytes;
    try {
      yield* rechunk(this.bucket.openDownloadStream(file._id), chunkBytes);
    } catch (error) {
      throw toStoreError('blob', error);
    }
  }

  async setExpiry(key: string, expiresAt: Date | undefined): Promise<boolean> {
    const change: UpdateFilter<GridFSFile> = expiresAt
      ? { $set: { 'metadata.expiresAt': expiresAt } }
      : { $unset: { 'metadata.expiresAt': '' } };
    const result = await this.run(() => this.files.updateMany({ filename: key, 'metadata.sha256': { $exists: true } }, change));
    return result.matchedCount > 0;
  }

  async delete(key: string): Promise<boolean> {
    const files = await this.run(() => this.files.find({ filename: key }, { projection: { _id: 1, metadata: 1 } }).toArray());
    for (const file of files) await this.deleteFile(file._id);
    return files.some((file) => (file.metadata as BlobMetadata | undefined)?.sha256 !== undefined);
  }

  async deleteExpired(now: Date, limit = 100): Promise<string[]> {
    const expired = await this.run(() =>
      this.files
        .find(
          {
            $or: [
              { 'metadata.expiresAt': { $lte: now } },
              { 'metadata.sha256': { $exists: false }, uploadDate: { $lt: new Date(now.getTime() - incompleteGraceMs) } },
            ],
          },
          { projection: { _id: 1, filename: 1, metadata: 1 }, limit },
        )
        .toArray(),
    );
    for (const file of expired) await this.deleteFile(file._id);
    return expired
      .filter((file) => (file.metadata as BlobMetadata | undefined)?.sha256 !== undefined)
      .map((file) => file.filename);
  }

  private async latest(key: string): Promise<GridFSFile | undefined> {
    const [file] = await this.run(() =>
      this.files
        .find({ filename: key, 'metadata.sha256': { $exists: true } })
        .sort({ uploadDate: -1, _id: -1 })
        .limit(1)
        .toArray(),
    );
    return file;
  }

  private async deleteOlder(key: string, keepId: ObjectId): Promise<void> {
    const older = await this.run(() =>
      this.files.find({ filename: key, _id: { $ne: keepId } }, { projection: { _id: 1, uploadDate: 1 } }).toArray(),
    );
    for (const file of older) await this.deleteFile(file._id);
  }

  private async deleteFile(id: GridFSFile['_id']): Promise<void> {
    try {
      await this.bucket.delete(id);
    } catch (error) {
      // Already gone (another replica's sweep, or a racing delete): nothing to do.
      if ((error as { name?: string }).name === 'MongoRuntimeError' && /not found/i.test((error as Error).message)) return;
      throw toStoreError('blob', error);
    }
  }

  private toInfo(file: GridFSFile | undefined): BlobInfo | undefined {
    const metadata = file?.metadata as BlobMetadata | undefined;
    if (!file || !metadata?.sha256) return undefined;
    return {
      key: file.filename,
      name: metadata.name,
      contentType: metadata.contentType,
      sizeBytes: file.length,
      sha256: metadata.sha256,
      createdAt: file.uploadDate,
      ...(metadata.expiresAt ? { expiresAt: metadata.expiresAt } : {}),
    };
  }

  private async run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw toStoreError('blob', error);
    }
  }
}
