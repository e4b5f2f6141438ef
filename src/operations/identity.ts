import type { Routes } from '../api/routes.js';
import { visibleCluster } from '../domain/clusters.js';
import { callerFromActions, callerFromGitHub, catalogOrgs } from '../domain/identity.js';
import { ok } from '../http/reply.js';
import type { OperationFn } from '../http/types.js';
import type { AuthDeps, Deps } from '../deps.js';
import type { Caller } from '../domain/levels.js';
import type { Log } from '../log.js';
import { signingAlgorithm } from '../tokens/keys.js';
import { signClusterToken, signUserToken } from '../tokens/tokens.js';
import { type ApiTokenRecord, exchangeToken, recordLogin } from './tokens/use-cases.js';

/** Tokens are credentials: no cache may keep a response that carries one. */
const noStore = { 'cache-control': 'no-store' };

export type LoginDeps = AuthDeps & Pick<Deps, 'githubUsers' | 'actionsTokens' | 'keyRing'>;

/** LOGIN: a GitHub user token or an Actions OIDC token in, a signed user JWT with a level out. */
export const login: OperationFn<Routes['login'], LoginDeps> = async ({ body }, { deps, log, sourceIp }) => {
  // tokens: an API token's session carries its scopes, and lives no longer than the token.
  if (body.api_token !== undefined) {
    const { caller, token } = await exchangeToken(deps, body.api_token, sourceIp, log);
    return ok(await issueUserToken(deps, caller, log, 'api_token', token), noStore);
  }
  const caller = body.github_token ? await callerOfGitHubToken(deps, body.github_token) : callerFromActions(await deps.actionsTokens.verify(body.oidc_token ?? ''), deps.catalog);
  return ok(await issueUserToken(deps, caller, log, body.github_token ? 'github' : 'actions'), noStore);
};

/** Who a GitHub user token belongs to, at the catalog's levels; the token is used for this and dropped. */
async function callerOfGitHubToken(deps: AuthDeps & Pick<Deps, 'githubUsers'>, githubToken: string): Promise<Caller> {
  const { catalog } = deps;
  const account = await deps.githubUsers.lookup(githubToken, catalogOrgs(catalog), catalog.admin_team ? { org: catalog.organization, team: catalog.admin_team } : undefined);
  // tokens: what this login showed caps the person's API-token sessions until the next one.
  await recordLogin(deps, account);
  return callerFromGitHub(account, catalog);
}

/** The one place a user JWT is issued: every login route answers this body. */
async function issueUserToken(deps: AuthDeps & Pick<Deps, 'keyRing'>, caller: Caller, log: Log, method: 'github' | 'actions' | 'device' | 'api_token', apiToken?: ApiTokenRecord) {
  const now = deps.clock.now();
  const tokenLeftSeconds = apiToken ? Math.floor((Date.parse(apiToken.expires_at) - now.getTime()) / 1000) : Infinity;
  const issued = await signUserToken(
    await deps.keyRing.signingKey(),
    caller,
    { issuer: deps.tokenSettings.issuer, ttlSeconds: Math.max(1, Math.min(deps.tokenSettings.userTokenTtlSeconds, tokenLeftSeconds)), now },
    apiToken,
  );
  log.info('login', { sub: caller.sub, user_level: caller.level, method, ...(apiToken && { token_id: apiToken.id }) });
  return { token: issued.token, token_type: 'Bearer' as const, expires_at: issued.expiresAt.toISOString(), user: identityOf(caller) };
}

/** Who a session is, as login and whoami answer it: an API token's session also names its scopes and clusters. */
function identityOf(caller: Caller) {
  return { login: caller.login, level: caller.level, orgs: caller.orgs, ...(caller.scopes && { scopes: caller.scopes }), ...(caller.clusters && { clusters: caller.clusters }) };
}

/** DEVICE LOGIN, step 1: GitHub's device code for the configured OAuth app, for a browser to show. */
export const loginDevice: OperationFn<Routes['login-device'], Pick<Deps, 'githubDevice'>> = async (_input, { deps }) => {
  const code = await deps.githubDevice.start();
  return ok(
    { device_code: code.deviceCode, user_code: code.userCode, verification_uri: code.verificationUri, interval: code.interval, expires_in: code.expiresIn },
    noStore,
  );
};

export type DeviceTokenDeps = AuthDeps & Pick<Deps, 'githubDevice' | 'githubUsers' | 'keyRing'>;

/**
 * DEVICE LOGIN, step 2: asks GitHub once; once the user has entered the code, the same user JWT as
 * LOGIN (428 `authorization_pending` until then). GitHub's token is used once and dropped.
 */
export const loginDeviceToken: OperationFn<Routes['login-device-token'], DeviceTokenDeps> = async ({ body }, { deps, log }) => {
  const githubToken = await deps.githubDevice.poll(body.device_code);
  return ok(await issueUserToken(deps, await callerOfGitHubToken(deps, githubToken), log, 'device'), noStore);
};

export const whoami: OperationFn<Routes['whoami'], unknown> = async (_input, { caller }) => ok(identityOf(caller));

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
