import type { Actor } from '../../actor.js';
import { apiTokenHash, newApiTokenId, newApiTokenSecret } from '../../tokens/api-token-secrets.js';
import type { AuthDeps } from '../../deps.js';
import {
  type ApiTokenScope,
  apiTokenPattern,
  maxLiveTokensPerOwner,
  requireClusterScope,
} from '../../domain/api-tokens.js';
import { canSee } from '../../domain/clusters.js';
import { parseDuration } from '../../domain/duration.js';
import type { Catalog } from '../../domain/catalog.js';
import { ProvisionerError } from '../../domain/errors.js';
import { callerFromGitHub } from '../../domain/identity.js';
import type { Caller } from '../../domain/levels.js';
import type { Log } from '../../log.js';
import type { GitHubAccount, Page, StoredItem } from '../../ports.js';
import { apiTokenKeys, revocationKeys, userKey } from '../../store/keys.js';
import { revocationListOf } from '../../tokens/revocations.js';

/** An API token as stored: everything but its secret, of which only the hash is kept. */
export interface ApiTokenRecord {
  id: string;
  name: string;
  owner: string;
  scopes: ApiTokenScope[];
  clusters?: string[];
  secret_hash: string;
  created_at: string;
  expires_at: string;
  revoked_at?: string;
  last_used_at?: string;
  last_used_from?: string;
}

export type TokenDeps = AuthDeps;

/** How long a token stays listed after it expired, so its owner sees what ended. */
const listedAfterExpiryMs = 30 * 86_400_000;
/** Last-used time and source are written at most this often per token. */
const lastUsedEveryMs = 60_000;
/** The clock skew a JWT verifier accepts: a revocation outlives the JWTs it refuses by this. */
const skewSeconds = 60;

const epochSeconds = (ms: number) => Math.ceil(ms / 1000);

/** Only people own tokens: an Actions workflow has its own OIDC login and no one to answer for a token. */
function requirePerson(caller: Caller): void {
  if (!caller.sub.startsWith('github:')) {
    throw new ProvisionerError('person_required', 'Only people (GitHub logins) own API tokens; a GitHub Actions workflow logs in with its OIDC token.');
  }
}

const invalidRequest = (field: string, message: string) => new ProvisionerError('invalid_request', message, { field });

export interface CreateTokenInput {
  name: string;
  scopes: ApiTokenScope[];
  expires_in: string;
  clusters?: string[];
}

/**
 * CREATE: the secret is made here, returned once and stored only as its hash. A session that is
 * itself from an API token creates only tokens within its own: scopes, clusters and lifetime.
 */
export async function createToken(deps: TokenDeps, actor: Actor, input: CreateTokenInput): Promise<{ record: ApiTokenRecord; secret: string }> {
  const { caller } = actor;
  requirePerson(caller);
  const now = deps.clock.now();
  const lifetimeMs = parseDuration(input.expires_in) ?? 0;
  const maxMs = parseDuration(deps.catalog.tokens.max_ttl) ?? 0;
  if (lifetimeMs > maxMs) throw invalidRequest('expires_in', `expires_in may be at most ${deps.catalog.tokens.max_ttl} (the catalog's tokens.max_ttl).`);
  // A private cluster the caller may not see is as unknown as one that does not exist.
  const unknown = input.clusters?.find((name) => {
    const cluster = deps.catalog.clusters.find((entry) => entry.name === name);
    return !cluster || !canSee(caller, cluster, deps.catalog);
  });
  if (unknown !== undefined) throw invalidRequest('clusters', `No cluster named ${unknown}; GET /v1/clusters lists them.`);
  const clusters = input.clusters ?? caller.clusters;
  const expiresAt = new Date(now.getTime() + lifetimeMs);
  if (caller.scopes) await requireWithinOwnToken(deps, caller, input.scopes, clusters, expiresAt);

  const id = newApiTokenId();
  await claimSlot(deps, caller.sub, id, now);
  // A session from before tokens existed may have no record of its owner yet: its JWT's level and orgs stand in.
  if (!caller.scopes) await deps.store.createIfAbsent({ ...userKey(caller.sub), ...profileOf(caller, deps.catalog, now) });
  const secret = newApiTokenSecret();
  const record: ApiTokenRecord = {
    id,
    name: input.name,
    owner: caller.sub,
    scopes: input.scopes,
    ...(clusters && { clusters }),
    secret_hash: apiTokenHash(secret),
    created_at: now.toISOString(),
    expires_at: expiresAt.toISOString(),
  };
  const ttl = epochSeconds(expiresAt.getTime() + listedAfterExpiryMs);
  // The pointer first: if the token's write then fails, the pointer leads nowhere (the secret was never
  // shown) and the slot is freed by the next create at the limit.
  const written =
    (await deps.store.createIfAbsent({ ...apiTokenKeys.secret(record.secret_hash), token_id: id, ttl })) &&
    (await deps.store.createIfAbsent({ ...apiTokenKeys.token(id), ...record, gsi1pk: apiTokenKeys.owner(caller.sub), gsi1sk: apiTokenKeys.order(record.created_at, id), ttl }));
  // Only a collision of 64 random bits (the id) or 256 (the secret) lands here.
  if (!written) throw new ProvisionerError('service_unavailable', 'The token could not be stored; retry.', undefined, { 'retry-after': '1' });
  actor.log.info('api token created', { token_id: id, owner: caller.sub, scopes: input.scopes, expires_at: record.expires_at });
  return { record, secret };
}

/** A token made by a token's session: its scopes and clusters within that token's, and not outliving it. */
async function requireWithinOwnToken(deps: TokenDeps, caller: Caller, scopes: ApiTokenScope[], clusters: string[] | undefined, expiresAt: Date): Promise<void> {
  const extra = scopes.find((scope) => !caller.scopes?.includes(scope));
  if (extra) throw new ProvisionerError('insufficient_scope', `This API token does not have the scope ${extra}, so it cannot grant it.`, { scope: extra });
  if (caller.clusters) {
    if (!clusters) throw new ProvisionerError('insufficient_scope', 'This API token is limited to named clusters; so is every token it creates.');
    for (const name of clusters) requireClusterScope(caller, name);
  }
  const own = caller.session?.tokenId === undefined ? undefined : await readToken(deps, caller.session.tokenId);
  if (!own || expiresAt.toISOString() > own.expires_at) {
    throw invalidRequest('expires_in', `A token created with an API token may not outlive it${own ? ` (it expires at ${own.expires_at})` : ''}.`);
  }
}

/**
 * One of the owner's `maxLiveTokensPerOwner` slots (an atomic claim). At the limit, the slots of
 * tokens that expired, were revoked or were never written (claimed over a minute ago) are freed once.
 */
async function claimSlot(deps: TokenDeps, owner: string, id: string, now: Date): Promise<void> {
  const key = apiTokenKeys.slots(owner);
  const first = await deps.store.claim(key, id, maxLiveTokensPerOwner, now);
  if (first.won) return;
  for (const [member, claimedAt] of Object.entries(first.members)) {
    const token = await readToken(deps, member);
    const stale = token ? !isLive(token, now) : now.getTime() - Date.parse(claimedAt) > 60_000;
    if (stale) await deps.store.release(key, member);
  }
  if ((await deps.store.claim(key, id, maxLiveTokensPerOwner, now)).won) return;
  throw new ProvisionerError('token_limit_reached', `You hold ${maxLiveTokensPerOwner} live API tokens, the most allowed; revoke one first (DELETE /v1/tokens/{token_id}).`, { limit: maxLiveTokensPerOwner });
}

const isLive = (token: ApiTokenRecord, now: Date) => token.revoked_at === undefined && Date.parse(token.expires_at) > now.getTime();

async function readToken(deps: Pick<TokenDeps, 'store'>, id: string): Promise<(ApiTokenRecord & StoredItem) | undefined> {
  return (await deps.store.get(apiTokenKeys.token(id))) as (ApiTokenRecord & StoredItem) | undefined;
}

/** LIST: an owner's tokens, newest first, one Query per page. */
export async function listTokens(deps: TokenDeps, owner: string, limit: number, nextToken?: string): Promise<Page<ApiTokenRecord>> {
  const page = await deps.store.query({ index: 'gsi1', partition: apiTokenKeys.owner(owner), limit, nextToken, newestFirst: true });
  return { items: page.items as unknown as ApiTokenRecord[], ...(page.nextToken && { nextToken: page.nextToken }) };
}

/**
 * REVOKE: the token no longer exchanges, and the JWTs made from it are refused wherever the
 * revocation list is read (within a minute). Idempotent: a retry re-writes the list entry, so a
 * failure between the two writes is repaired by calling again. Another owner's token is 404.
 */
export async function revokeToken(deps: TokenDeps, actor: Actor, id: string): Promise<void> {
  const { caller } = actor;
  const token = await readToken(deps, id);
  if (!token || (token.owner !== caller.sub && caller.level !== 'administrator')) {
    throw new ProvisionerError('token_not_found', `No API token ${id} of yours; GET /v1/tokens lists them.`);
  }
  const now = deps.clock.now();
  const revokedAt = await markRevoked(deps, token, now);
  // JWTs made before the revocation expire within the longest user-JWT lifetime after it.
  const ttl = epochSeconds(Date.parse(revokedAt)) + deps.tokenSettings.userTokenTtlSeconds + skewSeconds;
  await deps.store.put({ ...revocationKeys.token(id), ttl });
  revocationListOf(deps.store).remember(revocationKeys.token(id).sk, now);
  await deps.store.release(apiTokenKeys.slots(token.owner), id);
  actor.log.info('api token revoked', { token_id: id, owner: token.owner });
}

/** Sets `revoked_at` once; a lost race (another revoke, a last-use write) reads the token again and retries. */
async function markRevoked(deps: TokenDeps, first: ApiTokenRecord & StoredItem, now: Date): Promise<string> {
  let token: (ApiTokenRecord & StoredItem) | undefined = first;
  for (let attempt = 0; token && attempt < 5; attempt++) {
    if (token.revoked_at !== undefined) return token.revoked_at;
    const changed = await deps.store.transition(apiTokenKeys.token(token.id), { version: token.version }, { revoked_at: now.toISOString() });
    if (changed) return now.toISOString();
    token = await readToken(deps, token.id);
  }
  throw new ProvisionerError('service_unavailable', 'The token changed under many concurrent requests; retry.', undefined, { 'retry-after': '1' });
}

/** LOGOUT: the presented user JWT is refused until it would have expired. */
export async function logout(deps: TokenDeps, actor: Actor): Promise<void> {
  const session = actor.caller.session;
  if (!session) return;
  await deps.store.put({ ...revocationKeys.session(session.jti), ttl: session.exp + skewSeconds });
  revocationListOf(deps.store).remember(revocationKeys.session(session.jti).sk, deps.clock.now());
  actor.log.info('logout', { sub: actor.caller.sub });
}

/** What a person's interactive login showed: the most an API-token exchange may grant them. */
interface Profile {
  login: string;
  orgs: string[];
  team_member: boolean;
  recorded_at: string;
}

function profileOf(caller: Caller, catalog: Catalog, now: Date): Profile {
  const login = caller.login ?? caller.sub.slice('github:'.length);
  return {
    login,
    orgs: caller.orgs,
    // An administrator not listed in `admins`: the admin team made them one.
    team_member: caller.level === 'administrator' && !catalog.admins.some((admin) => admin.toLowerCase() === login.toLowerCase()),
    recorded_at: now.toISOString(),
  };
}

/** Every interactive login records what GitHub showed, so an exchange grants no more than the person has now. */
export async function recordLogin(deps: Pick<TokenDeps, 'store' | 'clock'>, account: GitHubAccount): Promise<void> {
  const profile: Profile = { login: account.login, orgs: account.orgs, team_member: account.teamMember, recorded_at: deps.clock.now().toISOString() };
  await deps.store.put({ ...userKey(`github:${account.login}`), ...profile });
}

const invalidApiToken = () => new ProvisionerError('invalid_api_token', 'The API token is unknown, revoked or expired; create another (POST /v1/tokens).');

/**
 * EXCHANGE (`POST /v1/login {"api_token"}`): the session a live token grants. Its level is derived
 * now, from the catalog as it is and the owner's last interactive login, never from the token.
 */
export async function exchangeToken(deps: TokenDeps, secret: string, sourceIp: string, log: Log): Promise<{ caller: Caller; token: ApiTokenRecord }> {
  if (!apiTokenPattern.test(secret)) throw invalidApiToken();
  const now = deps.clock.now();
  const hash = apiTokenHash(secret);
  const pointer = await deps.store.get(apiTokenKeys.secret(hash));
  const token = typeof pointer?.token_id === 'string' ? await readToken(deps, pointer.token_id) : undefined;
  if (!token || token.secret_hash !== hash || !isLive(token, now)) throw invalidApiToken();
  const profile = (await deps.store.get(userKey(token.owner))) as (Profile & StoredItem) | undefined;
  if (!profile) throw invalidApiToken();
  const caller: Caller = {
    ...callerFromGitHub({ login: profile.login, orgs: profile.orgs, teamMember: profile.team_member }, deps.catalog),
    scopes: token.scopes,
    ...(token.clusters && { clusters: token.clusters }),
  };
  if (!token.last_used_at || now.getTime() - Date.parse(token.last_used_at) >= lastUsedEveryMs) {
    // Bookkeeping, not authorization: a lost race or a failed write does not refuse the login.
    await deps.store
      .transition(apiTokenKeys.token(token.id), { version: token.version }, { last_used_at: now.toISOString(), last_used_from: sourceIp })
      .catch((error: unknown) => log.warn('api token last use not recorded', { token_id: token.id, error: (error as Error).message }));
  }
  return { caller, token };
}
