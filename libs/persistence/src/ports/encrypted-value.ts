/**
 * A secret sealed with authenticated encryption (AES-256-GCM). The key itself is never stored: only
 * its id, so keys can be rotated and old records still opened. All byte fields are base64.
 */
export interface EncryptedValue {
  keyId: string;
  algorithm: 'aes-256-gcm';
  iv: string;
  ciphertext: string;
  authTag: string;
}
