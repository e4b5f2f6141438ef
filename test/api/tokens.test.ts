import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { routeEntries, scopeFreeOperations } from '../../src/api/routes.js';
import { apiTokenScopes, maxLiveTokensPerOwner } from '../../src/domain/api-tokens.js';
import type { Catalog } from '../../src/domain/catalog.js';
import { apiTokenKeys, revocationKeys } from '../../src/store/keys.js';
import { revocationRefreshMs } from '../../src/tokens/revocations.js';
import { ManualClock } from '../support/dynamo.js';
import { FakeGitHub } from '../support/fake-github.js';
import { FakeOidcIssuer } from '../support/fake-oidc.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

const clock = new ManualClock(new Date());
const github = new FakeGitHub();
const oidc = new FakeOidcIssuer();
let api: TestApi;
let catalog: Catalog;

beforeAll(async () => {
  await github.start();
  await oidc.start();
  github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  github.users.set('gh-gil', { login: 'gil' });
  api = await startTestApi({
    clock,
    env: {
      PROVISIONER_CATALOG: writeCatalog({ ...testCatalog, tokens: { max_ttl: '30d' } }),
      PROVISIONER_GITHUB_API_URL: github.url,
      PROVISIONER_GITHUB_OIDC_ISSUER: oidc.url,
    },
  });
  catalog = api.runtime.deps.catalog;
});

afterAll(async () => {
  await api.close();
  await github.stop();
  await oidc.stop();
});

async function loginAs(githubToken: string): Promise<string> {
  const { status, body } = await api.call('POST', '/v1/login', { body: { github_token: githubToken } });
  expect(status).toBe(200);
  return body.token as string;
}

async function createToken(session: string, body: Record<string, unknown>) {
  const answer = await api.call('POST', '/v1/tokens', { token: session, body: { name: 'automation', expires_in: '7d', ...body } });
  expect(answer.status).toBe(201);
  return answer.body as { id: string; token: string; expires_at: string };
}

async function exchange(secret: string) {
  return api.call('POST', '/v1/login', { body: { api_token: secret } });
}

/** The JWT an API token exchanges for. */
async function sessionOf(secret: string): Promise<string> {
  const answer = await exchange(secret);
  expect(answer.status).toBe(200);
  return answer.body.token as string;
}

describe('creating, listing and revoking API tokens', () => {
  it('answers 201 with the secret once, stores only its hash, and lists the token without either', async () => {
    const alice = await loginAs('gh-alice');
    const { status, body, headers } = await api.call('POST', '/v1/tokens', { token: alice, body: { name: 'cron', scopes: ['clusters:read'], expires_in: '7d', clusters: ['demo'] } });

    expect(status).toBe(201);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body).toMatchObject({ name: 'cron', scopes: ['clusters:read'], clusters: ['demo'], owner: 'github:alice' });
    expect(body.token).toMatch(/^prv_[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(body.expires_at) - Date.parse(body.created_at)).toBe(7 * 86_400_000);
    const stored = await api.runtime.deps.store.get(apiTokenKeys.token(body.id));
    expect(JSON.stringify(stored)).not.toContain(body.token);
    expect(stored?.secret_hash).toEqual(expect.any(String));
    const list = await api.call('GET', '/v1/tokens', { token: alice });
    expect(list.status).toBe(200);
    const listed = list.body.items.find((item: { id: string }) => item.id === body.id);
    expect(listed).toMatchObject({ id: body.id, name: 'cron', scopes: ['clusters:read'], clusters: ['demo'], owner: 'github:alice' });
    expect(JSON.stringify(list.body)).not.toContain(body.token);
    expect(JSON.stringify(list.body)).not.toContain(String(stored?.secret_hash));
  });

  it.each([
    ['a lifetime beyond tokens.max_ttl', { scopes: ['clusters:read'], expires_in: '31d' }, 'expires_in'],
    ['an unknown scope', { scopes: ['clusters:everything'], expires_in: '1d' }, 'scopes'],
    ['a repeated scope', { scopes: ['runs:read', 'runs:read'], expires_in: '1d' }, 'scopes'],
    ['no scope', { scopes: [], expires_in: '1d' }, 'scopes'],
    ['an unknown cluster', { scopes: ['clusters:read'], expires_in: '1d', clusters: ['nowhere'] }, 'clusters'],
    ['a bad duration', { scopes: ['clusters:read'], expires_in: 'forever' }, 'expires_in'],
    ['a name too long', { scopes: ['clusters:read'], expires_in: '1d', name: 'x'.repeat(65) }, 'name'],
  ])('refuses %s with 400 invalid_request naming the field', async (_case, body, field) => {
    const alice = await loginAs('gh-alice');

    const { status, body: answer } = await api.call('POST', '/v1/tokens', { token: alice, body: { name: 'bad', ...body } });

    expect(status).toBe(400);
    expect(answer.error.code).toBe('invalid_request');
    expect(JSON.stringify(answer.error.details)).toContain(field);
  });

  it('refuses a private cluster the caller may not see as unknown (400), not as a hint that it exists', async () => {
    const gil = await loginAs('gh-gil');
    const { status, body } = await api.call('POST', '/v1/tokens', { token: gil, body: { name: 'x', scopes: ['clusters:read'], expires_in: '1d', clusters: ['acme-dev'] } });
    expect(status).toBe(400);
    expect(body.error.details).toEqual({ field: 'clusters' });
  });

  it('gives a GitHub Actions workflow 403 person_required: only people own tokens', async () => {
    const actions = await api.call('POST', '/v1/login', { body: { oidc_token: await oidc.mint({ repository: 'acme/sliderule', ref: 'refs/heads/main' }, { now: clock.now() }) } });
    expect(actions.status).toBe(200);

    const { status, body } = await api.call('POST', '/v1/tokens', { token: actions.body.token, body: { name: 'ci', scopes: ['clusters:read'], expires_in: '1d' } });

    expect(status).toBe(403);
    expect(body.error.code).toBe('person_required');
  });

  it('answers 404 for another owner\'s token, lets an administrator revoke and list anyone\'s, and revokes idempotently', async () => {
    const olga = await loginAs('gh-olga');
    const alice = await loginAs('gh-alice');
    const olgas = await createToken(olga, { scopes: ['workspaces'] });
    const alices = await createToken(alice, { scopes: ['workspaces'] });

    expect(await api.call('DELETE', `/v1/tokens/${alices.id}`, { token: olga })).toMatchObject({ status: 404, body: { error: { code: 'token_not_found' } } });
    expect((await api.call('DELETE', '/v1/tokens/tok-0123456789abcdef', { token: olga })).status).toBe(404);
    expect((await api.call('GET', '/v1/tokens?owner=alice', { token: olga })).status).toBe(403);
    const listedByAdmin = await api.call('GET', '/v1/tokens?owner=olga', { token: alice });
    expect(listedByAdmin.body.items.map((item: { id: string }) => item.id)).toContain(olgas.id);

    expect((await api.call('DELETE', `/v1/tokens/${olgas.id}`, { token: alice })).status).toBe(204);
    expect((await api.call('DELETE', `/v1/tokens/${olgas.id}`, { token: olga })).status).toBe(204);
    const listed = await api.call('GET', '/v1/tokens', { token: olga });
    expect(listed.body.items.find((item: { id: string }) => item.id === olgas.id)).toMatchObject({ revoked_at: expect.any(String) });
    expect((await exchange(alices.token)).status).toBe(200);
  });

  it(`refuses a person's token beyond ${maxLiveTokensPerOwner} live ones with 409 token_limit_reached; a revoke frees a slot`, async () => {
    github.users.set('gh-many', { login: 'many' });
    const many = await loginAs('gh-many');
    const made = [];
    for (let i = 0; i < maxLiveTokensPerOwner; i++) made.push(await createToken(many, { scopes: ['clusters:read'], expires_in: '1h' }));

    const over = await api.call('POST', '/v1/tokens', { token: many, body: { name: 'one more', scopes: ['clusters:read'], expires_in: '1h' } });
    expect(over.status).toBe(409);
    expect(over.body.error).toMatchObject({ code: 'token_limit_reached', details: { limit: maxLiveTokensPerOwner } });

    expect((await api.call('DELETE', `/v1/tokens/${made[0]?.id}`, { token: many })).status).toBe(204);
    await createToken(many, { scopes: ['clusters:read'], expires_in: '1h' });
    expect((await api.call('POST', '/v1/tokens', { token: many, body: { name: 'full', scopes: ['clusters:read'], expires_in: '1h' } })).status).toBe(409);

    // Expired tokens hold no slot: the next create frees theirs.
    clock.advance(3_600_000);
    await createToken(many, { scopes: ['clusters:read'], expires_in: '1h' });
  });
});

describe('exchanging an API token at POST /v1/login', () => {
  it('answers a JWT carrying scope, clusters and the token id, no longer-lived than the token; whoami names them', async () => {
    const alice = await loginAs('gh-alice');
    const made = await createToken(alice, { scopes: ['clusters:read', 'clusters:deploy'], clusters: ['acme-dev'], expires_in: '1h' });

    const { status, body } = await exchange(made.token);

    expect(status).toBe(200);
    expect(body.user).toEqual({ login: 'alice', level: 'administrator', orgs: ['acme'], scopes: ['clusters:read', 'clusters:deploy'], clusters: ['acme-dev'] });
    const claims = decodeJwt(body.token);
    expect(claims).toMatchObject({ scope: 'clusters:read clusters:deploy', clusters: ['acme-dev'], tid: made.id, sub: 'github:alice' });
    expect(claims.exp).toBe(Math.floor(Date.parse(made.expires_at) / 1000));
    expect((await api.call('GET', '/v1/whoami', { token: body.token })).body).toEqual(body.user);
    // An interactive session is unscoped: whoami says nothing of scopes.
    expect((await api.call('GET', '/v1/whoami', { token: alice })).body).toEqual({ login: 'alice', level: 'administrator', orgs: ['acme'] });
  });

  it('records when and from where the token was last used, at most once a minute', async () => {
    const alice = await loginAs('gh-alice');
    const made = await createToken(alice, { scopes: ['clusters:read'] });

    await sessionOf(made.token);
    const first = await api.runtime.deps.store.get(apiTokenKeys.token(made.id));
    await sessionOf(made.token);
    const second = await api.runtime.deps.store.get(apiTokenKeys.token(made.id));

    expect(first).toMatchObject({ last_used_at: clock.now().toISOString(), last_used_from: expect.stringMatching(/127\.0\.0\.1|::1/) });
    expect(second?.version).toBe(first?.version);
    const listed = await api.call('GET', '/v1/tokens', { token: alice });
    expect(listed.body.items.find((item: { id: string }) => item.id === made.id)).toMatchObject({ last_used_at: clock.now().toISOString() });
  });

  it.each([
    ['unknown', 'prv_' + 'A'.repeat(43)],
    ['not even shaped like one', 'prv_short'],
  ])('refuses an %s token with 401 invalid_api_token', async (_case, secret) => {
    expect(await exchange(secret)).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_token' } } });
  });

  it('re-derives the owner\'s level at each exchange: an administrator removed from the catalog\'s admins gets less', async () => {
    const alice = await loginAs('gh-alice');
    const made = await createToken(alice, { scopes: ['clusters:read'] });
    expect((await exchange(made.token)).body.user.level).toBe('administrator');

    api.runtime.deps.catalog = { ...catalog, admins: [] };
    try {
      const demoted = await exchange(made.token);
      expect(demoted.status).toBe(200);
      expect(demoted.body.user.level).toBe('org_member');
      expect(decodeJwt(demoted.body.token).level).toBe('org_member');
    } finally {
      api.runtime.deps.catalog = catalog;
    }
  });

  it('takes the level an interactive login last showed: someone who left the organization exchanges as a GitHub member', async () => {
    github.users.set('gh-leaver', { login: 'leaver', orgs: { acme: 'active' } });
    const leaver = await loginAs('gh-leaver');
    const made = await createToken(leaver, { scopes: ['clusters:read'] });
    expect((await exchange(made.token)).body.user.level).toBe('org_member');

    github.users.set('gh-leaver', { login: 'leaver' });
    await loginAs('gh-leaver');

    expect((await exchange(made.token)).body.user).toMatchObject({ level: 'github_member', orgs: [] });
  });
});

describe('a token that can deploy one cluster and do nothing else', () => {
  it('deploys and destroys its cluster, and is 403 insufficient_scope on workbenches, runs, access, another cluster and token creation', async () => {
    const alice = await loginAs('gh-alice');
    const made = await createToken(alice, { name: 'cron deploy', scopes: ['clusters:deploy', 'clusters:read'], clusters: ['acme-dev'], expires_in: '1d' });
    const cron = await sessionOf(made.token);

    const deployed = await api.call('POST', '/v1/clusters/acme-dev/deploy', { token: cron, body: { nodes: 1 } });
    expect([200, 202]).toContain(deployed.status);
    expect((await api.call('GET', '/v1/clusters/acme-dev', { token: cron })).status).toBe(200);
    expect((await api.call('GET', '/v1/clusters', { token: cron })).body.items.map((c: { name: string }) => c.name)).toEqual(['acme-dev']);

    const refused = [
      ['GET', '/v1/workbenches', undefined, { scope: 'workbenches' }],
      ['GET', '/v1/runs', undefined, { scope: 'runs:read' }],
      ['POST', '/v1/clusters/acme-dev/tests', { version: 'main' }, { scope: 'runs:start' }],
      ['GET', '/v1/workspaces', undefined, { scope: 'workspaces' }],
      ['POST', '/v1/clusters/acme-dev/access', undefined, { scope: 'clusters:access' }],
      ['POST', '/v1/tokens', { name: 'more', scopes: ['clusters:read'], expires_in: '1h' }, { scope: 'tokens' }],
      ['GET', '/v1/tokens', undefined, { scope: 'tokens' }],
      ['GET', '/v1/clusters/demo', undefined, { cluster: 'demo' }],
      ['POST', '/v1/clusters/demo/deploy', { nodes: 1 }, { cluster: 'demo' }],
      ['GET', '/v1/clusters/demo/events', undefined, { cluster: 'demo' }],
    ] as const;
    for (const [method, path, body, details] of refused) {
      const answer = await api.call(method, path, { token: cron, ...(body && { body }) });
      expect({ path, status: answer.status, code: answer.body.error?.code }).toEqual({ path, status: 403, code: 'insufficient_scope' });
      expect(answer.body.error.details).toMatchObject(details);
    }

    const destroyed = await api.call('POST', '/v1/clusters/acme-dev/destroy', { token: cron });
    expect([200, 202]).toContain(destroyed.status);
  });

  it('lets a session with the tokens scope create tokens only within its own scopes, clusters and lifetime', async () => {
    const alice = await loginAs('gh-alice');
    const parent = await createToken(alice, { scopes: ['tokens', 'clusters:read'], clusters: ['demo'], expires_in: '2d' });
    const session = await sessionOf(parent.token);

    const child = await api.call('POST', '/v1/tokens', { token: session, body: { name: 'child', scopes: ['clusters:read'], expires_in: '1d' } });
    expect(child.status).toBe(201);
    expect(child.body.clusters).toEqual(['demo']);

    const wider = await api.call('POST', '/v1/tokens', { token: session, body: { name: 'wider', scopes: ['clusters:deploy'], expires_in: '1d' } });
    expect(wider.body.error).toMatchObject({ code: 'insufficient_scope', details: { scope: 'clusters:deploy' } });
    const otherCluster = await api.call('POST', '/v1/tokens', { token: session, body: { name: 'other', scopes: ['clusters:read'], expires_in: '1d', clusters: ['acme-dev'] } });
    expect(otherCluster.body.error).toMatchObject({ code: 'insufficient_scope', details: { cluster: 'acme-dev' } });
    const longer = await api.call('POST', '/v1/tokens', { token: session, body: { name: 'longer', scopes: ['clusters:read'], expires_in: '3d' } });
    expect(longer.status).toBe(400);
    expect(longer.body.error.details).toEqual({ field: 'expires_in' });
  });
});

describe('revocation and logout', () => {
  it('a revoked token no longer exchanges (401), and the JWT made from it is refused', async () => {
    const alice = await loginAs('gh-alice');
    const made = await createToken(alice, { scopes: ['clusters:read'] });
    const session = await sessionOf(made.token);
    expect((await api.call('GET', '/v1/clusters', { token: session })).status).toBe(200);

    expect((await api.call('DELETE', `/v1/tokens/${made.id}`, { token: alice })).status).toBe(204);

    expect(await exchange(made.token)).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_token' } } });
    expect(await api.call('GET', '/v1/clusters', { token: session })).toMatchObject({ status: 401, body: { error: { code: 'invalid_token' } } });
    // The list keeps the revocation as long as a JWT made before it can live, and no longer.
    const listed = await api.runtime.deps.store.get(revocationKeys.token(made.id));
    expect(listed?.ttl).toBeGreaterThanOrEqual(Number(decodeJwt(session).exp));
    expect(listed?.ttl).toBeLessThanOrEqual(Math.floor(clock.now().getTime() / 1000) + 8 * 3600 + 120);
  });

  it('refuses a JWT whose token another container revoked once the list is older than a minute, not before', async () => {
    const alice = await loginAs('gh-alice');
    const made = await createToken(alice, { scopes: ['clusters:read'] });
    const session = await sessionOf(made.token);
    expect((await api.call('GET', '/v1/clusters', { token: session })).status).toBe(200);

    // Another container's revocation: in the store only, not in this container's memory.
    await api.runtime.deps.store.put({ ...revocationKeys.token(made.id), ttl: Math.floor(clock.now().getTime() / 1000) + 9 * 3600 });
    clock.advance(revocationRefreshMs - 1_000);
    const stale = await api.call('GET', '/v1/clusters', { token: session });
    clock.advance(1_000);
    const fresh = await api.call('GET', '/v1/clusters', { token: session });

    expect(stale.status).toBe(200);
    expect(fresh).toMatchObject({ status: 401, body: { error: { code: 'invalid_token' } } });
  });

  it('logout refuses the presented JWT afterwards, and only that one', async () => {
    const olga = await loginAs('gh-olga');
    const other = await loginAs('gh-olga');

    expect((await api.call('POST', '/v1/logout', { token: olga })).status).toBe(204);

    expect(await api.call('GET', '/v1/whoami', { token: olga })).toMatchObject({ status: 401, body: { error: { code: 'invalid_token' } } });
    expect((await api.call('GET', '/v1/whoami', { token: other })).status).toBe(200);
    const stored = await api.runtime.deps.store.get(revocationKeys.session(String(decodeJwt(olga).jti)));
    expect(stored?.ttl).toBeGreaterThanOrEqual(Number(decodeJwt(olga).exp));
  });

  it('an API-token session may log out and ask whoami, the only routes without a scope open to it', async () => {
    const alice = await loginAs('gh-alice');
    const session = await sessionOf((await createToken(alice, { scopes: ['runs:read'] })).token);
    expect((await api.call('GET', '/v1/whoami', { token: session })).status).toBe(200);
    expect((await api.call('POST', '/v1/logout', { token: session })).status).toBe(204);
    expect((await api.call('GET', '/v1/runs', { token: session })).status).toBe(401);
  });

  it('refuses an expired token with 401 invalid_api_token', async () => {
    const alice = await loginAs('gh-alice');
    const made = await createToken(alice, { scopes: ['clusters:read'], expires_in: '1h' });
    clock.advance(3_600_000);
    expect(await exchange(made.token)).toMatchObject({ status: 401, body: { error: { code: 'invalid_api_token' } } });
  });
});

describe('the route table and scopes', () => {
  it('names a scope on every route but public ones, the logins, the scope-free ones and administration', () => {
    const unscoped = routeEntries.filter(([, spec]) => spec.scope === undefined && !spec.public && spec.auth !== 'administrator').map(([operation]) => operation);
    expect(unscoped.sort()).toEqual(['login', 'login-device', 'login-device-token', ...scopeFreeOperations].sort());
    expect(scopeFreeOperations).toEqual(['whoami', 'logout']);
  });

  it('uses every scope on some route', () => {
    const used = new Set(routeEntries.map(([, spec]) => spec.scope));
    expect(apiTokenScopes.filter((scope) => !used.has(scope))).toEqual([]);
  });
});
