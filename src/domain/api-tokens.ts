import { createHash, randomBytes } from 'node:crypto';

/**
 * Scoped API tokens (issue 23): a person's long-lived secret for automation, exchanged at
 * `POST /v1/login` for a short user JWT that carries the token's scopes (and clusters).
 *
 * THE scopes, each naming a group of operations in the route table (`RouteSpec.scope`).
 */
export const apiTokenScopes = ['clusters:read', 'clusters:access', 'clusters:deploy', 'runs:start', 'runs:read', 'workbenches', 'workspaces', 'tokens'] as const;
export type ApiTokenScope = (typeof apiTokenScopes)[number];

/** What a secret starts with: easy to spot in a leak scanner, and never a JWT. */
export const apiTokenPrefix = 'prv_';
/** `prv_` and 256 random bits, base64url (43 characters). */
export const apiTokenPattern = /^prv_[A-Za-z0-9_-]{43}$/;
/** A token's id: `tok-` and 16 hex digits. */
export const apiTokenIdPattern = /^tok-[0-9a-f]{16}$/;

/** A person holds at most this many tokens that are neither revoked nor expired. */
export const maxLiveTokensPerOwner = 50;

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
