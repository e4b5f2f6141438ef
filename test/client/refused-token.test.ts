import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader } from 'jose';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from '../../client/index.js';
import { localKeyVault } from '../../src/runtime/local.js';
import { createClusterVerifier } from '../../src/tokens/cluster-verifier.js';
import { rotateKeys } from '../../src/tokens/key-service.js';
import { ManualClock } from '../support/dynamo.js';
import { FakeGitHub } from '../support/fake-github.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

/** The SDK once the API stops honouring what it cached: signing keys rotated twice retire the first. */
const github = new FakeGitHub();
const clock = new ManualClock(new Date());
let api: TestApi;

beforeAll(async () => {
  await github.start();
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  // Keys in a file (not PROVISIONER_MEMORY), so that rotateKeys reaches the running API.
  api = await startTestApi({ clock, env: { PROVISIONER_GITHUB_API_URL: github.url, PROVISIONER_CATALOG: writeCatalog(testCatalog) } });
});

afterAll(async () => {
  await api.close();
  await github.stop();
});

async function retireSigningKey(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    await rotateKeys(localKeyVault(api.config), clock);
    clock.advance(6_000); // past the API's key cache
  }
}

/** A new client on the same cache dir: what the next `provisioner` command is. */
const nextCommand = (env: Record<string, string>) => createClient({ env, retryBaseMs: 1 });

describe('the SDK when the API refuses its cached tokens', () => {
  const env = {
    PROVISIONER_URL: '',
    PROVISIONER_CONFIG: '/nonexistent/provisioner.toml',
    PROVISIONER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'provisioner-refused-')),
    PROVISIONER_GITHUB_TOKEN: 'gh-olga',
  };
  beforeAll(() => {
    env.PROVISIONER_URL = api.url;
  });

  it('does not serve a cached cluster JWT signed by a retired key: it logs in again and fetches a new one', async () => {
    // Arrange
    const first = await nextCommand(env).clusters.access('demo');
    await retireSigningKey();

    // Act
    const second = await nextCommand(env).clusters.access('demo');

    // Assert
    expect(second.token).not.toBe(first.token);
    expect(decodeProtectedHeader(second.token).kid).not.toBe(decodeProtectedHeader(first.token).kid);
    await expect(createClusterVerifier({ issuer: api.url, cluster: 'demo' })(second.token, clock.now())).resolves.toMatchObject({ sub: 'github:olga' });
  });

  it('drops the refused user JWT and the API\'s cluster JWTs, logs in again once and retries once', async () => {
    // Arrange
    await nextCommand(env).clusters.access('acme-dev');
    await retireSigningKey();
    const logins = github.requests.filter((r) => r.path === '/user').length;

    // Act
    const me = await nextCommand(env).auth.whoami();

    // Assert
    expect(me).toEqual({ login: 'olga', level: 'org_member', orgs: ['acme'] });
    expect(github.requests.filter((r) => r.path === '/user')).toHaveLength(logins + 1);
    const clusterTokens = JSON.parse(readFileSync(join(env.PROVISIONER_CACHE_DIR, 'cluster-tokens.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(clusterTokens).filter((key) => key.startsWith(`${api.url}|`))).toEqual([]);
  });

  it('leaves a configured PROVISIONER_TOKEN alone: the refusal is the answer', async () => {
    // Arrange
    const { token } = await api.call('POST', '/v1/login', { body: { github_token: 'gh-olga' } }).then((r) => r.body as { token: string });
    await retireSigningKey();

    // Act
    const error = await nextCommand({ ...env, PROVISIONER_TOKEN: token }).auth.whoami().catch((e: unknown) => e);

    // Assert
    expect(error).toMatchObject({ status: 401, code: 'invalid_token' });
  });
});
