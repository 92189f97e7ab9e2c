import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeBlobStoreContract } from '@mailroute/testing';
import { FileBlobStore } from '../index';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function freshDirectory(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'blobs-'));
  roots.push(root);
  return path.join(root, 'blobs');
}

describeBlobStoreContract('private files (embedded)', {
  create: async () => ({ repository: new FileBlobStore({ directory: freshDirectory() }), close: async () => undefined }),
});

describe('FileBlobStore', () => {
  it('keeps blobs in a 0700 directory, every file 0600', async () => {
    const directory = freshDirectory();
    const blobs = new FileBlobStore({ directory });
    await blobs.put('t1/a', Buffer.from('customer mail'), { name: 'a.txt', contentType: 'text/plain' });
    expect(statSync(directory).mode & 0o777).toBe(0o700);
    const files = readdirSync(directory);
    expect(files.length).toBe(2);
    for (const file of files) expect(statSync(path.join(directory, file)).mode & 0o777).toBe(0o600);
  });
});
