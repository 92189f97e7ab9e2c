import type { MessageTemplate } from '@mailroute/contracts';
import type { BlobInfo, BlobStore } from '@mailroute/persistence';
import type { ConfigRepository } from './config-repository';
import { createTemplateFiles } from './template-files';

/**
 * The release's mark-and-read-again, with the interleaving the integration test cannot force: a
 * template listing the file is stored between the release's first read of the templates and its
 * marking of the file (another replica's CreateTemplate, whose own "keep" ran before the mark).
 */
const fileId = '0b5e6c1e-7d2a-4b8e-9a57-1f0c2d3e4f50';

function fakes() {
  const templates: { id: string; value: Pick<MessageTemplate, 'attachments'> }[] = [];
  const expiries = new Map<string, Date | undefined>([[`t1/uploads/${fileId}`, undefined]]);
  let onMark: (() => void) | undefined;
  const config = {
    all: async (_tenantId: string, kind: string) => (kind === 'template' ? [...templates] : []),
  } as unknown as ConfigRepository;
  const blobs = {
    async stat(key: string) {
      return expiries.has(key) ? ({ expiresAt: expiries.get(key) } as BlobInfo) : undefined;
    },
    async setExpiry(key: string, expiresAt: Date | undefined) {
      if (!expiries.has(key)) return false;
      expiries.set(key, expiresAt);
      if (expiresAt) onMark?.();
      onMark = undefined;
      return true;
    },
  } as unknown as BlobStore;
  return { templates, expiries, config, blobs, beforeMark: (hook: () => void) => (onMark = hook) };
}

describe('template files: release', () => {
  it('gives a file no template lists its expiry, 48 hours on', async () => {
    const { expiries, config, blobs } = fakes();
    const files = createTemplateFiles({ config, blobs, clock: () => 1_000 });
    await files.release('t1', [fileId]);
    expect(expiries.get(`t1/uploads/${fileId}`)).toEqual(new Date(1_000 + 48 * 3_600_000));
  });

  it('takes the file back when a template listing it was stored after the first read (its keep ran before the mark)', async () => {
    const { templates, expiries, config, blobs, beforeMark } = fakes();
    const files = createTemplateFiles({ config, blobs, clock: () => 1_000 });
    beforeMark(() => templates.push({ id: 'written-meanwhile', value: { attachments: [{ uploadId: fileId } as never] } }));
    await files.release('t1', [fileId]);
    expect(templates.map((t) => t.id)).toEqual(['written-meanwhile']);
    expect(expiries.get(`t1/uploads/${fileId}`)).toBeUndefined();
  });

  it('leaves a file a template still lists as it is', async () => {
    const { templates, expiries, config, blobs } = fakes();
    templates.push({ id: 'terms', value: { attachments: [{ uploadId: fileId } as never] } });
    await createTemplateFiles({ config, blobs, clock: () => 1_000 }).release('t1', [fileId]);
    expect(expiries.get(`t1/uploads/${fileId}`)).toBeUndefined();
  });
});
