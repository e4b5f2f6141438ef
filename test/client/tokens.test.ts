import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../client/config.js';
import { Credentials } from '../../client/credentials.js';
import { createClient } from '../../client/index.js';
import { Session } from '../../client/session.js';
import { FakeGitHub } from '../support/fake-github.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

const github = new FakeGitHub();
let api: TestApi;

beforeAll(async () => {
  await github.start();
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  api = await startTestApi({ env: { PROVISIONER_GITHUB_API_URL: github.url, PROVISIONER_CATALOG: writeCatalog(testCatalog) } });
});

afterAll(async () => {
  await api.close();
  await github.stop();
});

const env = (extra: Record<string, string> = {}) => ({
  PROVISIONER_URL: api.url,
  PROVISIONER_CONFIG: '/nonexistent/provisioner.toml',
  PROVISIONER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'provisioner-cache-')),
  ...extra,
});

describe('the SDK with API tokens', () => {
  it('creates, lists and revokes tokens; PROVISIONER_API_TOKEN logs in with the token\'s scopes, renewed like a GitHub login', async () => {
    const owner = createClient({ env: env({ PROVISIONER_GITHUB_TOKEN: 'gh-olga' }) });
    const created = await owner.tokens.create({ name: 'sdk', scopes: ['clusters:read'], expires_in: '1d', clusters: ['demo'] });
    expect(created.token).toMatch(/^prv_/);
    expect((await owner.tokens.list()).items.map((t) => t.id)).toContain(created.id);

    const automation = createClient({ env: env({ PROVISIONER_API_TOKEN: created.token }) });
    expect(await automation.auth.whoami()).toEqual({ login: 'olga', level: 'org_member', orgs: ['acme'], scopes: ['clusters:read'], clusters: ['demo'] });
    await expect(automation.workbenches.list()).rejects.toMatchObject({ status: 403, code: 'insufficient_scope' });

    // Less than five minutes left on the cached JWT: exchanged again.
    const config = loadConfig(env({ PROVISIONER_API_TOKEN: created.token }));
    let now = Date.now();
    const session: Session = new Session(config, () => credentials.userToken());
    const credentials: Credentials = new Credentials(config, session, {}, () => now);
    const first = await credentials.userToken();
    expect(decodeJwt(first ?? '')).toMatchObject({ tid: created.id, scope: 'clusters:read' });
    expect(await credentials.userToken()).toBe(first);
    now += 8 * 3600_000 - 4 * 60_000;
    expect(await credentials.userToken()).not.toBe(first);

    await owner.tokens.revoke(created.id);
    const revoked = createClient({ env: env({ PROVISIONER_API_TOKEN: created.token }) });
    await expect(revoked.auth.whoami()).rejects.toMatchObject({ status: 401, code: 'invalid_api_token' });
  });

  it("a cached login serves only the credential it came from: a job's API token never runs with the person's cached session, nor the person with the job's", async () => {
    const shared = env({});
    const cacheDir = shared.PROVISIONER_CACHE_DIR;
    const person = createClient({ env: { ...shared, PROVISIONER_GITHUB_TOKEN: 'gh-olga' } });
    const made = await person.tokens.create({ name: 'job', scopes: ['clusters:read'], expires_in: '1d' });
    expect((await person.auth.whoami()).scopes).toBeUndefined(); // the person's full login is now cached

    const job = createClient({ env: { ...shared, PROVISIONER_CACHE_DIR: cacheDir, PROVISIONER_API_TOKEN: made.token } });
    expect((await job.auth.whoami()).scopes).toEqual(['clusters:read']);

    const personAgain = createClient({ env: { ...shared, PROVISIONER_GITHUB_TOKEN: 'gh-olga' } });
    expect((await personAgain.auth.whoami()).scopes).toBeUndefined();
    await person.tokens.revoke(made.id);
  });

  it('logoutEverywhere revokes the held JWT at the API and forgets it; with none held it sends nothing', async () => {
    const client = createClient({ env: env({ PROVISIONER_GITHUB_TOKEN: 'gh-olga' }) });
    const jwt = (await client.auth.token()) ?? '';
    expect(await client.auth.logoutEverywhere()).toEqual({ revoked: true });

    expect((await api.call('GET', '/v1/whoami', { token: jwt })).status).toBe(401);
    expect(await createClient({ env: env() }).auth.logoutEverywhere()).toEqual({ revoked: false });
  });
});
