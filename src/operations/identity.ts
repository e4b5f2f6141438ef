import type { Routes } from '../api/routes.js';
import { visibleCluster } from '../domain/clusters.js';
import { callerFromActions, callerFromGitHub, catalogOrgs } from '../domain/identity.js';
import { ok } from '../http/reply.js';
import type { OperationFn } from '../http/types.js';
import type { AuthDeps, Deps } from '../deps.js';
import { signingAlgorithm } from '../tokens/keys.js';
import { signClusterToken, signUserToken } from '../tokens/tokens.js';

/** Tokens are credentials: no cache may keep a response that carries one. */
const noStore = { 'cache-control': 'no-store' };

export type LoginDeps = AuthDeps & Pick<Deps, 'githubUsers' | 'actionsTokens' | 'keyRing'>;

/** LOGIN: a GitHub user token or an Actions OIDC token in, a signed user JWT with a level out. */
export const login: OperationFn<Routes['login'], LoginDeps> = async ({ body }, { deps, log }) => {
  const { catalog } = deps;
  const caller = body.github_token
    ? callerFromGitHub(
        await deps.githubUsers.lookup(body.github_token, catalogOrgs(catalog), catalog.admin_team ? { org: catalog.organization, team: catalog.admin_team } : undefined),
        catalog,
      )
    : callerFromActions(await deps.actionsTokens.verify(body.oidc_token ?? ''), catalog);
  const issued = await signUserToken(await deps.keyRing.signingKey(), caller, {
    issuer: deps.tokenSettings.issuer,
    ttlSeconds: deps.tokenSettings.userTokenTtlSeconds,
    now: deps.clock.now(),
  });
  log.info('login', { sub: caller.sub, user_level: caller.level, method: body.github_token ? 'github' : 'actions' });
  return ok(
    { token: issued.token, token_type: 'Bearer' as const, expires_at: issued.expiresAt.toISOString(), user: { login: caller.login, level: caller.level, orgs: caller.orgs } },
    noStore,
  );
};

export const whoami: OperationFn<Routes['whoami'], unknown> = async (_input, { caller }) =>
  ok({ login: caller.login, level: caller.level, orgs: caller.orgs });

/** ACCESS: a cluster JWT (`aud` = the cluster) for anyone who may see the cluster (its org's members and administrators when private). */
export const access: OperationFn<Routes['access'], AuthDeps & Pick<Deps, 'keyRing'>> = async ({ params }, { deps, caller }) => {
  const cluster = visibleCluster(deps.catalog, params.cluster, caller);
  const issued = await signClusterToken(await deps.keyRing.signingKey(), cluster.name, caller, {
    issuer: deps.tokenSettings.issuer,
    ttlSeconds: deps.tokenSettings.clusterTokenTtlSeconds,
    now: deps.clock.now(),
  });
  return ok({ token: issued.token, expires_at: issued.expiresAt.toISOString(), cluster: cluster.name }, noStore);
};

export const jwks: OperationFn<Routes['jwks'], Pick<Deps, 'publicKeys'>> = async (_input, { deps }) =>
  ok(await deps.publicKeys.jwks(false), { 'cache-control': 'public, max-age=300' });

export const openidConfiguration: OperationFn<Routes['openid-configuration'], Pick<Deps, 'tokenSettings'>> = async (_input, { deps }) => {
  const issuer = deps.tokenSettings.issuer.replace(/\/$/, '');
  return ok(
    { issuer, jwks_uri: `${issuer}/.well-known/jwks.json`, id_token_signing_alg_values_supported: [signingAlgorithm] },
    { 'cache-control': 'public, max-age=3600' },
  );
};
