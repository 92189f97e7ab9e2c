import { createSecretBox, parseEncryptionKeys } from './secret-box';

describe('secret box (AES-256-GCM with a key ring)', () => {
  const k1 = { id: 'k1', key: Buffer.alloc(32, 1) };
  const k2 = { id: 'k2', key: Buffer.alloc(32, 2) };

  it('seals with the active key and opens what it sealed, never storing the plaintext', () => {
    const box = createSecretBox({ keys: [k1], activeKeyId: 'k1' });
    const sealed = box.seal('s3cr3t-value', 'tenant-a/default');
    expect(sealed).toMatchObject({ keyId: 'k1', algorithm: 'aes-256-gcm' });
    expect(JSON.stringify(sealed)).not.toContain('s3cr3t');
    expect(box.openString(sealed, 'tenant-a/default')).toBe('s3cr3t-value');
    expect(box.seal('s3cr3t-value', 'tenant-a/default').iv).not.toBe(sealed.iv);
  });

  it('opens values sealed with an older key after rotation, and seals new ones with the new key', () => {
    const sealed = createSecretBox({ keys: [k1], activeKeyId: 'k1' }).seal('old', 'ctx');
    const rotated = createSecretBox({ keys: [k1, k2], activeKeyId: 'k2' });
    expect(rotated.openString(sealed, 'ctx')).toBe('old');
    expect(rotated.seal('new', 'ctx').keyId).toBe('k2');
  });

  it('refuses a value moved to another record, a tampered value, and a value of a removed key', () => {
    const box = createSecretBox({ keys: [k1], activeKeyId: 'k1' });
    const sealed = box.seal('secret', 'tenant-a/default');
    expect(() => box.open(sealed, 'tenant-b/default')).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
    const flipped = Buffer.from(sealed.ciphertext, 'base64');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => box.open({ ...sealed, ciphertext: flipped.toString('base64') }, 'tenant-a/default')).toThrow(
      expect.objectContaining({ code: 'INTERNAL' }),
    );
    expect(() => createSecretBox({ keys: [k2], activeKeyId: 'k2' }).open(sealed, 'tenant-a/default')).toThrow(
      expect.objectContaining({ code: 'FAILED_PRECONDITION', keyId: 'k1' }),
    );
  });

  it('parses a key ring from configuration and rejects short keys without echoing them', () => {
    const text = `a:${Buffer.alloc(32, 3).toString('base64')}, b:${Buffer.alloc(32, 4).toString('base64')}`;
    expect(parseEncryptionKeys(text).map((key) => key.id)).toEqual(['a', 'b']);
    expect(() => parseEncryptionKeys('a:c2hvcnQ=')).toThrow(/must be 32 bytes/);
    expect(() => parseEncryptionKeys('a:c2hvcnQ=')).not.toThrow(/c2hvcnQ/);
    expect(() => createSecretBox({ keys: [k1], activeKeyId: 'k9' })).toThrow(/activeKeyId/);
  });
});
