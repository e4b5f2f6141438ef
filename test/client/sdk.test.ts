import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { mkdtempSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clustersService } from '../../client/clusters.js';
import { loadConfig } from '../../client/config.js';
import { Credentials } from '../../client/credentials.js';
import { createClient } from '../../client/index.js';
import { Session } from '../../client/session.js';
import { FakeGitHub } from '../support/fake-github.js';
import { FakeOidcIssuer } from '../support/fake-oidc.js';
import { closeServer, listenLocal } from '../support/http.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

const github = new FakeGitHub();
const oidc = new FakeOidcIssuer();
let api: TestApi;
let actionsRuntime: Server;
let actionsUrl = '';
const audiences: string[] = [];

beforeAll(async () => {
  await github.start();
  await oidc.start();
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  api = await startTestApi({
    env: { PROVISIONER_MEMORY: '1', PROVISIONER_GITHUB_API_URL: github.url, PROVISIONER_GITHUB_OIDC_ISSUER: oidc.url, PROVISIONER_CATALOG: writeCatalog(testCatalog) },
  });
  // The Actions runtime's token endpoint: hands out an OIDC token for the audience asked.
  actionsRuntime = createServer((req, res) => {
    const audience = new URL(req.url ?? '/', 'http://x').searchParams.get('audience') ?? '';
    audiences.push(audience);
    if (req.headers.authorization !== 'bearer runtime-secret') {
      res.writeHead(401).end();
      return;
    }
    void oidc.mint({ repository: 'acme/sliderule', ref: 'refs/heads/main' }, { audience }).then((value) => res.end(JSON.stringify({ value })));
  });
  actionsUrl = await listenLocal(actionsRuntime);
});

afterAll(async () => {
  await api.close();
  await github.stop();
  await oidc.stop();
  await closeServer(actionsRuntime);
});

const env = (extra: Record<string, string> = {}) => ({
  PROVISIONER_URL: api.url,
  PROVISIONER_CONFIG: '/nonexistent/provisioner.toml',
  PROVISIONER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'provisioner-cache-')),
  ...extra,
});

describe('the SDK', () => {
  it('logs in with the configured GitHub token, caches the user JWT in a 0600 file, and renews it before it expires', async () => {
    const config = loadConfig(env({ PROVISIONER_GITHUB_TOKEN: 'gh-olga' }));
    let now = Date.now();
    const session: Session = new Session(config, () => credentials.userToken());
    const credentials: Credentials = new Credentials(config, session, {}, () => now);
    github.requests.length = 0;
    const first = await credentials.userToken();
    expect(first).toBeTruthy();
    expect(statSync(join(config.cacheDir, 'credentials.json')).mode & 0o777).toBe(0o600);
    expect(await credentials.userToken()).toBe(first);
    expect(github.requests.filter((r) => r.path === '/user')).toHaveLength(1);

    // A new client reads the cache instead of logging in again.
    const again = new Credentials(config, session, {}, () => now);
    expect(await again.userToken()).toBe(first);
    expect(github.requests.filter((r) => r.path === '/user')).toHaveLength(1);

    // Less than five minutes left: log in again before it expires.
    now += 8 * 3600_000 - 4 * 60_000;
    const renewed = await again.userToken();
    expect(renewed).not.toBe(first);
    expect(github.requests.filter((r) => r.path === '/user')).toHaveLength(2);
  });

  it('logs in inside GitHub Actions with an OIDC token of the configured audience', async () => {
    const client = createClient({ env: env({ ACTIONS_ID_TOKEN_REQUEST_URL: `${actionsUrl}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runtime-secret' }) });
    expect(await client.auth.whoami()).toEqual({ login: 'acme/sliderule', level: 'administrator', orgs: ['acme'] });
    expect(audiences.at(-1)).toBe('provisioner');
  });

  it('is anonymous with no credentials, and says so', async () => {
    const client = createClient({ env: env() });
    expect(await client.auth.whoami()).toEqual({ login: null, level: 'anonymous', orgs: [] });
    await expect(client.clusters.deploy('demo')).rejects.toMatchObject({ status: 401, code: 'authentication_required' });
  });

  it('caches cluster JWTs until a minute before they expire', async () => {
    const session = new Session({ url: api.url, retries: 0, timeoutMs: 5_000 });
    let now = Date.now();
    const clusters = clustersService(session, { now: () => now });
    const first = await clusters.access('demo');
    expect((await clusters.access('demo')).token).toBe(first.token);
    now = Date.parse(first.expires_at) - 59_000;
    expect((await clusters.access('demo')).token).not.toBe(first.token);
  });

  it('keeps cluster JWTs in a 0600 file across clients, per caller', async () => {
    const shared = env({ PROVISIONER_GITHUB_TOKEN: 'gh-olga' });
    const first = await createClient({ env: shared }).clusters.access('acme-dev');
    expect(statSync(join(shared.PROVISIONER_CACHE_DIR, 'cluster-tokens.json')).mode & 0o777).toBe(0o600);
    expect((await createClient({ env: shared }).clusters.access('acme-dev')).token).toBe(first.token);
    const olgaDemo = await createClient({ env: shared }).clusters.access('demo');
    const anonymous = createClient({ env: { ...shared, PROVISIONER_GITHUB_TOKEN: '' } });
    anonymous.auth.logout();
    const anonymousDemo = await anonymous.clusters.access('demo');
    expect(anonymousDemo.token).not.toBe(olgaDemo.token);
    expect(decodeJwt(anonymousDemo.token).sub).toBe('anonymous');
  });

  it('returns plain objects, and pages through every cluster', async () => {
    const client = createClient({ env: env({ PROVISIONER_GITHUB_TOKEN: 'gh-olga' }) });
    const names: string[] = [];
    for await (const cluster of client.clusters.all()) names.push(cluster.name);
    expect(names).toEqual(['acme-dev', 'demo']);
    const cluster = await client.clusters.get('demo');
    expect(Object.getPrototypeOf(cluster)).toBe(Object.prototype);
  });
});
