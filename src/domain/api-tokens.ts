import { ProvisionerError } from './errors.js';
import type { Caller } from './levels.js';

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

/**
 * A route's scope against the caller's: sessions from an API token hold only their scopes, and a
 * route without one (`scope` undefined here) is closed to them. Interactive sessions pass.
 */
export function requireScope(caller: Caller, scope: ApiTokenScope | undefined, operation: string): void {
  if (!caller.scopes) return;
  if (scope === undefined) {
    throw new ProvisionerError('insufficient_scope', `${operation} is not open to API tokens; call it from an interactive login.`, { operation });
  }
  if (!caller.scopes.includes(scope)) {
    throw new ProvisionerError('insufficient_scope', `${operation} needs the scope ${scope}, which this API token does not have.`, { scope, operation });
  }
}

/** Whether a session may act on this cluster: one from an API token narrowed to clusters, only on those. */
export function inClusterScope(caller: Caller, cluster: string | undefined): boolean {
  return caller.clusters === undefined || (cluster !== undefined && caller.clusters.includes(cluster));
}

/** 403 `insufficient_scope` for a cluster outside the session's token's clusters. */
export function requireClusterScope(caller: Caller, cluster: string | undefined): void {
  if (!inClusterScope(caller, cluster)) {
    throw new ProvisionerError('insufficient_scope', `This API token is limited to the clusters ${(caller.clusters ?? []).join(', ')}; not ${cluster ?? 'this one'}.`, cluster === undefined ? {} : { cluster });
  }
}
