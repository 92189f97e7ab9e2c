import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SecretKeyMissingError, SecretTamperedError, ValidationError } from './errors';

/** One AES-256 key of the key ring. `id` is stored next to every value sealed with it. */
export interface EncryptionKey {
  /** Short stable name, e.g. "2026-11"; [A-Za-z0-9._-], at most 64 characters. */
  id: string;
  /** 32 random bytes. */
  key: Buffer;
}

/**
 * A value sealed with AES-256-GCM: the key id, a fresh 96-bit IV, the ciphertext and the 128-bit
 * tag, all byte fields base64. Structurally the `EncryptedValue` that repositories store.
 */
export interface SealedValue {
  keyId: string;
  algorithm: 'aes-256-gcm';
  iv: string;
  ciphertext: string;
  authTag: string;
}

/**
 * Authenticated encryption of secrets at rest with a key ring. New values are sealed with the
 * active key; values sealed with any key of the ring still open, so keys rotate without a
 * migration (re-seal on the next write). `context` is bound into the tag as associated data: a
 * value copied to another record (another tenant, another field) does not open there.
 */
export interface SecretBox {
  readonly activeKeyId: string;
  seal(plaintext: string | Buffer, context: string): SealedValue;
  /** The plaintext; SecretKeyMissingError for an unknown key id, SecretTamperedError if it does not authenticate. */
  open(sealed: SealedValue, context: string): Buffer;
  openString(sealed: SealedValue, context: string): string;
}

export interface SecretBoxOptions {
  keys: readonly EncryptionKey[];
  /** Id of the key new values are sealed with; must be in `keys`. */
  activeKeyId: string;
}

const keyIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** Builds a SecretBox; validates the ring at construction (32-byte keys, unique ids, active key present). */
export function createSecretBox(options: SecretBoxOptions): SecretBox {
  const ring = new Map<string, Buffer>();
  for (const { id, key } of options.keys) {
    if (!keyIdPattern.test(id))
      throw new ValidationError('keys', `key id ${JSON.stringify(id)} must match ${keyIdPattern.source}`);
    if (key.length !== 32) throw new ValidationError('keys', `key ${JSON.stringify(id)} must be 32 bytes, not ${key.length}`);
    if (ring.has(id)) throw new ValidationError('keys', `key id ${JSON.stringify(id)} appears twice`);
    ring.set(id, Buffer.from(key));
  }
  const active = ring.get(options.activeKeyId);
  if (!active) throw new ValidationError('activeKeyId', `${JSON.stringify(options.activeKeyId)} is not one of the keys`);

  const open = (sealed: SealedValue, context: string): Buffer => {
    const key = ring.get(sealed.keyId);
    if (!key) throw new SecretKeyMissingError(sealed.keyId);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(sealed.authTag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]);
    } catch (error) {
      throw new SecretTamperedError(sealed.keyId, error);
    }
  };

  return {
    activeKeyId: options.activeKeyId,
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', active, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([
        cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext),
        cipher.final(),
      ]);
      return {
        keyId: options.activeKeyId,
        algorithm: 'aes-256-gcm',
        iv: iv.toString('base64'),
        ciphertext: ciphertext.toString('base64'),
        authTag: cipher.getAuthTag().toString('base64'),
      };
    },
    open,
    openString: (sealed, context) => open(sealed, context).toString('utf8'),
  };
}

/**
 * Parses a key ring from configuration: `id:base64key[,id:base64key…]` (standard or url-safe
 * base64 of 32 bytes, e.g. `openssl rand -base64 32`). Throws with a message naming the bad entry
 * (never its key material).
 */
export function parseEncryptionKeys(text: string): EncryptionKey[] {
  return text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry, index) => {
      const separator = entry.indexOf(':');
      const id = separator > 0 ? entry.slice(0, separator) : '';
      if (!keyIdPattern.test(id)) throw new Error(`entry ${index + 1} must be "<key id>:<base64 of 32 bytes>"`);
      const key = Buffer.from(entry.slice(separator + 1), 'base64');
      if (key.length !== 32) throw new Error(`key ${JSON.stringify(id)} must be 32 bytes of base64, got ${key.length} bytes`);
      return { id, key };
    });
}
