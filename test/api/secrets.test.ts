import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ApiProcess, freePort, until } from '../support/api-process.js';
import { FakeGitHub } from '../support/fake-github.js';
import { FakeOidcIssuer } from '../support/fake-oidc.js';
import { testCatalog, writeCatalog } from '../support/local-api.js';

// End to end: real processes (the API, a cluster node, a run, a workspace) under whatever load the machine has.
jest.setTimeout(150_000);

/**
 * The whole flow against `npm start` with the log level at DEBUG, then a scan of every log line and
 * of every file of the data dir except the key file: no GitHub token, no JWT (user, cluster, Actions,
 * forged), no private key material.
 */
describe('secrets stay out of logs and the data dir', () => {
  const github = new FakeGitHub();
  const oidc = new FakeOidcIssuer();
  const dataDir = mkdtempSync(join(tmpdir(), 'provisioner-secrets-'));
  const githubToken = `gho_${randomBytes(18).toString('hex')}`;
  const refusedGithubToken = `ghp_${randomBytes(18).toString('hex')}`;
  /** Every credential the flow handles, to look for verbatim. */
  const secrets: string[] = [githubToken, refusedGithubToken];
  let api: ApiProcess;
  let admin = '';
  const ids = { workspace: '' };

  beforeAll(async () => {
    await github.start();
    await oidc.start();
    github.users.set(githubToken, { login: 'alice', orgs: { acme: 'active' } });
    api = new ApiProcess(await freePort(), {
      PROVISIONER_LOG_LEVEL: 'DEBUG',
      PROVISIONER_DATA_DIR: dataDir,
      PROVISIONER_GITHUB_API_URL: github.url,
      PROVISIONER_GITHUB_OIDC_ISSUER: oidc.url,
      PROVISIONER_CATALOG: writeCatalog(testCatalog),
    });
    await api.start();
  });

  afterAll(async () => {
    // Whatever happened above, leave no cluster or workspace process behind.
    try {
      if (admin) {
        await api.call('POST', '/v1/clusters/demo/destroy', admin);
        if (ids.workspace) await api.call('DELETE', `/v1/workspaces/${ids.workspace}`, admin);
      }
    } finally {
      await api.stop();
      await github.stop();
      await oidc.stop();
    }
  });

  it('runs login, access, deploy, schedule, a test run, destroy and a workspace at DEBUG', async () => {
    const login = await api.call('POST', '/v1/login', undefined, { github_token: githubToken });
    expect(login.status).toBe(200);
    admin = login.body.token;
    const actionsToken = await oidc.mint({ repository: 'acme/sliderule', ref: 'refs/heads/main' });
    const actions = await api.call('POST', '/v1/login', undefined, { oidc_token: actionsToken });
    expect(actions.status).toBe(200);
    secrets.push(admin, actionsToken, actions.body.token);

    // tokens: an API token's secret, and the JWT it exchanges for, are credentials too; so is a refused one.
    const created = await api.call('POST', '/v1/tokens', admin, { name: 'secret-scan', scopes: ['clusters:read'], expires_in: '1d' });
    expect(created.status).toBe(201);
    const exchanged = await api.call('POST', '/v1/login', undefined, { api_token: created.body.token });
    expect(exchanged.status).toBe(200);
    expect((await api.call('GET', '/v1/clusters', exchanged.body.token)).status).toBe(200);
    const refusedApiToken = `prv_${randomBytes(32).toString('base64url')}`;
    expect((await api.call('POST', '/v1/login', undefined, { api_token: refusedApiToken })).status).toBe(401);
    expect((await api.call('DELETE', `/v1/tokens/${created.body.id}`, admin)).status).toBe(204);
    expect((await api.call('POST', '/v1/login', undefined, { api_token: created.body.token })).status).toBe(401);
    secrets.push(created.body.token, exchanged.body.token, refusedApiToken);

    // Refused credentials are logged as refused, never quoted.
    expect((await api.call('POST', '/v1/login', undefined, { github_token: refusedGithubToken })).status).toBe(401);
    const [header, payload] = admin.split('.');
    const forged = `${header}.${payload}.${Buffer.from('not the signature').toString('base64url')}`;
    secrets.push(forged);
    expect((await api.call('GET', '/v1/whoami', forged)).status).toBe(401);
    expect((await api.call('GET', '/v1/whoami', actions.body.token)).body.login).toBe('acme/sliderule');

    expect((await api.call('POST', '/v1/clusters/demo/deploy', admin, { nodes: 1 })).status).toBe(202);
    const running = await until('demo running', () => api.call('GET', '/v1/clusters/demo', admin), (r) => r.body.status === 'running');
    const access = await api.call('POST', '/v1/clusters/demo/access', admin);
    secrets.push(access.body.token);
    const node = (running.body.endpoints as string[])[0] ?? '';
    expect((await fetch(`${node}/anything`, { headers: { authorization: `Bearer ${access.body.token}` } })).status).toBe(200);
    expect((await api.call('PUT', '/v1/clusters/demo/destroy-schedule', admin, { in: '2h' })).status).toBe(200);
    expect((await api.call('DELETE', '/v1/clusters/demo/destroy-schedule', admin)).status).toBe(200);

    // A TEST run gets a cluster JWT in its environment; its log and result land in the data dir.
    const run = await api.call('POST', '/v1/clusters/demo/tests', admin, { version: 'main' });
    expect(run.status).toBe(202);
    const ended = await until('run ended', () => api.call('GET', `/v1/runs/${run.body.id}`, admin), (r) => !['queued', 'running'].includes(r.body.status), 60_000);
    expect(ended.body.status).toBe('passed');

    const destroyed = await api.call('POST', '/v1/clusters/demo/destroy', admin);
    expect([200, 202]).toContain(destroyed.status);
    await until('demo absent', () => api.call('GET', '/v1/clusters/demo', admin), (r) => r.body.status === 'absent');

    const workspace = await api.call('POST', '/v1/workspaces', admin, { name: 'secret-scan' });
    expect(workspace.status).toBe(202);
    ids.workspace = workspace.body.id;
    await until('workspace ready', () => api.call('GET', `/v1/workspaces/${ids.workspace}`, admin), (r) => r.body.status === 'ready');
    expect((await api.call('DELETE', `/v1/workspaces/${ids.workspace}`, admin)).status).toBe(202);
    await until('workspace deleted', () => api.call('GET', `/v1/workspaces/${ids.workspace}`, admin), (r) => r.status === 404);
    ids.workspace = '';
    admin = ''; // nothing left to clean up
    await api.stop();

    // DEBUG was on: every request's "request done" line is there to be scanned.
    expect(api.output).toContain('"level":"DEBUG"');
    expect(api.output).toContain('request done');

    const keyFile = join(dataDir, 'keys.json');
    const privateParts = (JSON.parse(readFileSync(keyFile, 'utf8')).keys as { private_jwk: { d: string } }[]).map((key) => key.private_jwk.d);
    expect(privateParts.length).toBeGreaterThan(0);
    const sources = [{ name: 'the API process output', text: api.output }, ...filesUnder(dataDir).filter((file) => file !== keyFile).map((file) => ({ name: relative(dataDir, file), text: readFileSync(file).toString('latin1') }))];
    expect(sources.map((s) => s.name)).toEqual(expect.arrayContaining([expect.stringMatching(/^logs\//), expect.stringMatching(/^run-logs\//), expect.stringMatching(/^dynamodb\//)]));
    // The store's files hold its items as plain text (its write-ahead log), so a token stored in an item would be found.
    expect(sources.some((s) => s.name.startsWith('dynamodb/') && s.text.includes('secret-scan'))).toBe(true);

    const found: string[] = [];
    for (const { name, text } of sources) {
      for (const secret of [...secrets, ...privateParts]) if (text.includes(secret)) found.push(`${name}: ${secret.slice(0, 12)}...`);
      for (const pattern of [/eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/, /PRIVATE KEY/, /"d"\s*:\s*"/, /gh[opsu]_[A-Za-z0-9]{20,}/, /prv_[A-Za-z0-9_-]{43}/]) {
        const match = pattern.exec(text);
        if (match) found.push(`${name}: ${match[0].slice(0, 40)}`);
      }
    }
    expect(found).toEqual([]);
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)]));
}
