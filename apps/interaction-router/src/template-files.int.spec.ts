import { randomBytes } from 'node:crypto';
import { Status, type ClientError } from 'nice-grpc';
import type { InteractionRouterServiceClient } from '@mailroute/contracts';
import { randomId, testInfra } from '@mailroute/testing';
import { uploadBlobKey } from '@mailroute/persistence';
import { createTestIdentityProvider, startHarness, type Harness } from '../test/router-harness';

/**
 * Template attachment files (ListTemplateAttachments and their cleanup) through two router replicas
 * sharing one FerretDB database, over gRPC sockets: a file is kept while a template lists it and
 * expires 48 hours after none does; the router's upload sweep deletes it then.
 */
const hours = (count: number) => count * 60 * 60_000;

describe('template attachment files through two router replicas', () => {
  const tenant = randomId('t-files');
  let harness: Harness;

  beforeAll(async () => {
    const idp = await createTestIdentityProvider(new Map());
    harness = await startHarness({ infra: testInfra(), replicas: 2, tenants: [tenant], verifier: idp.verifier });
  });

  afterAll(async () => {
    await harness?.close();
  });

  async function upload(admin: InteractionRouterServiceClient, name: string): Promise<string> {
    const content = Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(1024)]);
    const { upload: stored } = await admin.uploadTemplateAttachment(
      (async function* () {
        yield { part: { $case: 'metadata' as const, value: { name, contentType: '', sizeBytes: content.length, sha256: '' } } };
        yield { part: { $case: 'chunk' as const, value: content } };
      })(),
    );
    return stored?.uploadId ?? '';
  }

  const expiry = async (uploadId: string) => (await harness.stores.blobs.stat(uploadBlobKey(tenant, uploadId)))?.expiresAt;

  it('lists each file with the templates that list it, keeps it while one does, and lets the sweep delete one no template lists 48 hours on', async () => {
    const [first, second] = [harness.admin(tenant, 0), harness.admin(tenant, 1)];
    const terms = await upload(first, 'terms.pdf');
    const prices = await upload(second, 'prices.pdf');
    const orphan = await upload(first, 'never-used.pdf');
    // Uploaded, not listed yet: kept 48 hours for a template to list it.
    expect((await expiry(terms))?.getTime()).toBeGreaterThan(Date.now() + hours(47));

    await first.createTemplate({
      templateId: 'terms',
      template: { displayName: 'Terms', text: 'x', attachments: [{ uploadId: terms }] } as never,
    });
    await second.createTemplate({
      templateId: 'offer',
      template: { displayName: 'Offer', text: 'y', attachments: [{ uploadId: terms }, { uploadId: prices }] } as never,
    });
    const listed = await second.listTemplateAttachments({});
    const byId = new Map(listed.attachments.map((file) => [file.uploadId, file]));
    expect(byId.get(terms)).toEqual({
      uploadId: terms,
      name: 'terms.pdf',
      contentType: 'application/pdf',
      sizeBytes: 1033,
      templateIds: ['offer', 'terms'],
      expiresAt: undefined,
    });
    expect(byId.get(prices)).toMatchObject({ templateIds: ['offer'], expiresAt: undefined });
    expect(byId.get(orphan)).toMatchObject({ name: 'never-used.pdf', templateIds: [], expiresAt: expect.any(Date) });
    // Pages in upload id order.
    const page = await first.listTemplateAttachments({ page: { pageSize: 2, pageToken: '' } });
    const rest = await first.listTemplateAttachments({ page: { pageSize: 2, pageToken: page.nextPageToken } });
    expect([...page.attachments, ...rest.attachments].map((file) => file.uploadId)).toEqual([terms, prices, orphan].sort());
    expect(rest.nextPageToken).toBe('');

    // "offer" stops listing both: prices is listed by nobody and expires; terms is still the "terms" template's.
    await first.updateTemplate({
      templateId: 'offer',
      template: { attachments: [] } as never,
      updateMask: ['attachments'],
      etag: '',
    });
    expect(await expiry(terms)).toBeUndefined();
    expect((await expiry(prices))?.getTime()).toBeGreaterThan(Date.now() + hours(47));
    // Listed again before it expires: kept again.
    await second.updateTemplate({
      templateId: 'offer',
      template: { attachments: [{ uploadId: prices }] } as never,
      updateMask: ['attachments'],
      etag: '',
    });
    expect(await expiry(prices)).toBeUndefined();
    await second.deleteTemplate({ templateId: 'offer', etag: '' });
    await first.deleteTemplate({ templateId: 'terms', etag: '' });
    expect((await expiry(terms))?.getTime()).toBeGreaterThan(Date.now() + hours(47));

    // The upload sweep, 49 hours on, deletes the three files no template lists; the list forgets them.
    const swept = await harness.stores.blobs.deleteExpired(new Date(Date.now() + hours(49)), 1000);
    expect(swept).toEqual(expect.arrayContaining([terms, prices, orphan].map((id) => uploadBlobKey(tenant, id))));
    expect((await second.listTemplateAttachments({})).attachments).toEqual([]);
    const refused = await first
      .createTemplate({
        templateId: 'late',
        template: { displayName: 'Late', text: 'z', attachments: [{ uploadId: terms }] } as never,
      })
      .catch((error: ClientError) => error);
    expect(refused).toMatchObject({ code: Status.INVALID_ARGUMENT });
  });

  it('keeps the files that a template written on one replica lists while the other replica deletes the template that listed them', async () => {
    const [first, second] = [harness.admin(tenant, 0), harness.admin(tenant, 1)];
    // Ten files (the most a template lists): the release marks them one by one while the new template keeps them.
    const shared: string[] = [];
    for (let index = 0; index < 10; index += 1) shared.push(await upload(first, `shared-${index}.pdf`));
    const template = (index: number) => ({
      templateId: `holder-${index}`,
      template: { displayName: `Holder ${index}`, text: 'x', attachments: shared.map((uploadId) => ({ uploadId })) } as never,
    });
    await first.createTemplate(template(0));
    for (let index = 0; index < 4; index += 1) {
      // Concurrently: replica 0 deletes the holder (releasing the files), replica 1 writes the next one listing them.
      await Promise.all([
        first.deleteTemplate({ templateId: `holder-${index}`, etag: '' }),
        second.createTemplate(template(index + 1)),
      ]);
      const expiring = [];
      for (const uploadId of shared) if (await expiry(uploadId)) expiring.push(uploadId);
      expect({ index, expiring }).toEqual({ index, expiring: [] });
    }
    const files = (await first.listTemplateAttachments({})).attachments;
    expect(files.map((file) => file.uploadId)).toEqual([...shared].sort());
    expect(files.every((file) => file.templateIds.join() === 'holder-4' && file.expiresAt === undefined)).toBe(true);
  });
});
