import { createHash, randomBytes } from 'node:crypto';
import { apiTokenPrefix } from '../domain/api-tokens.js';

// Kept out of src/domain so the console's type-only imports of the domain never reach node:crypto.

/** A new secret: shown once, stored only as its hash. */
export function newApiTokenSecret(): string {
  return `${apiTokenPrefix}${randomBytes(32).toString('base64url')}`;
}

export function newApiTokenId(): string {
  return `tok-${randomBytes(8).toString('hex')}`;
}

/** The only form a secret is kept in: unsalted is fine for 256 random bits (no dictionary to try). */
export function apiTokenHash(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}
