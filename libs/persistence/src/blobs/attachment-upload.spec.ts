import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ValidationError } from '@mailroute/platform';
import { FileBlobStore, receiveAttachmentUpload, uploadBlobKey, type AttachmentUploadPart } from '../index';

const root = mkdtempSync(path.join(os.tmpdir(), 'uploads-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshBlobs = () => new FileBlobStore({ directory: path.join(root, String((counter += 1))) });
const now = new Date('2026-12-01T10:00:00.000Z');

async function* stream(parts: AttachmentUploadPart[]): AsyncIterable<AttachmentUploadPart> {
  yield* parts;
}
const metadata = (fields: { name?: string; contentType?: string; sizeBytes: number; sha256?: string }): AttachmentUploadPart => ({
  part: { $case: 'metadata', value: { name: 'a.pdf', contentType: '', sha256: '', ...fields } },
});
const chunk = (value: Uint8Array): AttachmentUploadPart => ({ part: { $case: 'chunk', value } });

async function refusal(blobs: FileBlobStore, parts: AttachmentUploadPart[]): Promise<ValidationError> {
  const error = await receiveAttachmentUpload(stream(parts), { blobs, tenantId: 't1', clock: () => now }).catch(
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  expect(readdirSync(blobs.directory)).toEqual([]);
  return error as ValidationError;
}

describe('receiveAttachmentUpload', () => {
  it('stores the chunks under a new upload id with size, SHA-256, a type from the extension and the expiry', async () => {
    const blobs = freshBlobs();
    const content = randomBytes(2_500_000);
    const sha256 = createHash('sha256').update(content).digest('hex');
    const upload = await receiveAttachmentUpload(
      stream([
        metadata({ name: 'offer.pdf', sizeBytes: content.length, sha256 }),
        chunk(content.subarray(0, 1_048_576)),
        chunk(content.subarray(1_048_576, 2_097_152)),
        chunk(content.subarray(2_097_152)),
      ]),
      { blobs, tenantId: 't1', clock: () => now, ttlMs: 60_000 },
    );
    expect(upload).toMatchObject({ name: 'offer.pdf', contentType: 'application/pdf', sizeBytes: content.length, sha256 });
    expect(upload.expiresAt).toEqual(new Date(now.getTime() + 60_000));
    expect(await blobs.stat(uploadBlobKey('t1', upload.uploadId))).toMatchObject({ sha256, expiresAt: upload.expiresAt });
  });

  it('counts the expiry from when the last byte arrived, not from when the upload started', async () => {
    const blobs = freshBlobs();
    const content = randomBytes(2_097_152);
    let current = now;
    async function* slowUpload(): AsyncIterable<AttachmentUploadPart> {
      yield metadata({ name: 'slow.pdf', sizeBytes: content.length });
      yield chunk(content.subarray(0, 1_048_576));
      current = new Date(now.getTime() + 45 * 60_000); // the second half arrives 45 minutes later
      yield chunk(content.subarray(1_048_576));
    }
    const upload = await receiveAttachmentUpload(slowUpload(), {
      blobs,
      tenantId: 't1',
      clock: () => current,
      ttlMs: 60 * 60_000,
    });
    const finishedPlusTtl = new Date(now.getTime() + 105 * 60_000);
    expect(upload.expiresAt).toEqual(finishedPlusTtl);
    expect((await blobs.stat(uploadBlobKey('t1', upload.uploadId)))?.expiresAt).toEqual(finishedPlusTtl);
  });

  it('refuses a declared size over 150 MiB naming metadata.size_bytes, before reading any content', async () => {
    const error = await refusal(freshBlobs(), [metadata({ sizeBytes: 157_286_401 }), chunk(randomBytes(10))]);
    expect(error.message).toMatch(/metadata\.size_bytes/);
  });

  it.each([
    ['a path in the name', metadata({ name: '../etc/passwd', sizeBytes: 1 }), 'metadata.name'],
    ['an empty name', metadata({ name: '', sizeBytes: 1 }), 'metadata.name'],
    ['a control character in the type', metadata({ contentType: 'text/plain\r\nX: y', sizeBytes: 1 }), 'metadata.content_type'],
    ['a malformed sha256', metadata({ sizeBytes: 1, sha256: 'abc' }), 'metadata.sha256'],
  ])('refuses %s naming %s', async (_what, first, field) => {
    expect((await refusal(freshBlobs(), [first, chunk(Buffer.from('x'))])).message).toContain(field);
  });

  it('refuses content that passes the declared size, falls short of it or does not match its sha256, storing nothing', async () => {
    expect((await refusal(freshBlobs(), [metadata({ sizeBytes: 3 }), chunk(Buffer.from('abcd'))])).message).toContain(
      'metadata.size_bytes',
    );
    expect((await refusal(freshBlobs(), [metadata({ sizeBytes: 5 }), chunk(Buffer.from('abc'))])).message).toContain(
      'metadata.size_bytes',
    );
    const wrong = createHash('sha256').update('other').digest('hex');
    expect(
      (await refusal(freshBlobs(), [metadata({ sizeBytes: 3, sha256: wrong }), chunk(Buffer.from('abc'))])).message,
    ).toContain('metadata.sha256');
  });

  it('refuses a stream without metadata first, or with a second one, naming metadata', async () => {
    expect((await refusal(freshBlobs(), [chunk(Buffer.from('abc'))])).message).toContain('metadata');
    expect(
      (await refusal(freshBlobs(), [metadata({ sizeBytes: 3 }), chunk(Buffer.from('a')), metadata({ sizeBytes: 3 })])).message,
    ).toContain('metadata');
  });
});
