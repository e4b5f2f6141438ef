import type { Actor } from '../../actor.js';
import type { Routes } from '../../api/routes.js';
import { ProvisionerError } from '../../domain/errors.js';
import { created, noContent, ok } from '../../http/reply.js';
import type { OperationContext, OperationFn } from '../../http/types.js';
import { type ApiTokenRecord, createToken, listTokens, logout, revokeToken, type TokenDeps } from './use-cases.js';

/** The API-token routes (issue 23): HTTP in, a use case, HTTP out. */

const actorOf = (context: OperationContext<unknown>): Actor => ({ caller: context.caller, requestId: context.requestId, log: context.log });

/** A token as the API shows it: never its secret, nor its hash. */
function tokenView(token: ApiTokenRecord) {
  return {
    id: token.id,
    name: token.name,
    scopes: token.scopes,
    ...(token.clusters && { clusters: token.clusters }),
    owner: token.owner,
    created_at: token.created_at,
    expires_at: token.expires_at,
    ...(token.last_used_at && { last_used_at: token.last_used_at }),
    ...(token.last_used_from && { last_used_from: token.last_used_from }),
    ...(token.revoked_at && { revoked_at: token.revoked_at }),
  };
}

/** The secret is in this answer only: no cache may keep it. */
export const createRoute: OperationFn<Routes['token-create'], TokenDeps> = async ({ body }, context) => {
  const { record, secret } = await createToken(context.deps, actorOf(context), body);
  const { id, name, scopes, clusters, owner, created_at, expires_at } = tokenView(record);
  return created({ id, name, token: secret, scopes, ...(clusters && { clusters }), owner, created_at, expires_at }, { 'cache-control': 'no-store' });
};

export const listRoute: OperationFn<Routes['token-list'], TokenDeps> = async ({ query }, context) => {
  const { caller } = context;
  let owner = caller.sub;
  if (query.owner !== undefined && query.owner !== caller.login) {
    if (caller.level !== 'administrator') throw new ProvisionerError('forbidden', 'Only administrators list the API tokens of others; leave out owner.', { field: 'owner' });
    owner = `github:${query.owner}`;
  }
  const page = await listTokens(context.deps, owner, query.limit, query.next_token);
  return ok({ items: page.items.map(tokenView), ...(page.nextToken && { next_token: page.nextToken }) });
};

export const revokeRoute: OperationFn<Routes['token-revoke'], TokenDeps> = async ({ params }, context) => {
  await revokeToken(context.deps, actorOf(context), params.token_id);
  return noContent();
};

export const logoutRoute: OperationFn<Routes['logout'], TokenDeps> = async (_input, context) => {
  await logout(context.deps, actorOf(context));
  return noContent();
};
