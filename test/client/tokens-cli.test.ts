import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiProcess, freePort } from '../support/api-process.js';
import { FakeGitHub } from '../support/fake-github.js';
import { testCatalog, writeCatalog } from '../support/local-api.js';

/** `provisioner tokens create|list|revoke` and `provisioner logout`, end to end against `npm start`. */
const github = new FakeGitHub();
let api: ApiProcess;

// Every command is a new node process compiling TypeScript: seconds each on a busy machine.
jest.setTimeout(180_000);

beforeAll(async () => {
  await github.start();
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  api = new ApiProcess(await freePort(), {
    PROVISIONER_DATA_DIR: mkdtempSync(join(tmpdir(), 'provisioner-tokens-cli-api-')),
    PROVISIONER_GITHUB_API_URL: github.url,
    PROVISIONER_CATALOG: writeCatalog(testCatalog),
  });
  await api.start();
});

afterAll(async () => {
  await api.stop();
  await github.stop();
});

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['client/cli/bin.mjs', ...args], {
      env: { ...process.env, PROVISIONER_URL: api.url, PROVISIONER_CONFIG: '/nonexistent/provisioner.toml', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const cacheDir = () => mkdtempSync(join(tmpdir(), 'provisioner-tokens-cli-'));

describe('provisioner tokens and logout', () => {
  it('creates a token shown once, uses it as PROVISIONER_API_TOKEN, lists and revokes it', async () => {
    const owner = { PROVISIONER_GITHUB_TOKEN: 'gh-olga', PROVISIONER_CACHE_DIR: cacheDir() };
    const created = await cli(['tokens', 'create', 'nightly', '--scope', 'clusters:read', '--scope', 'clusters:deploy', '--cluster', 'acme-dev', '--expires-in', '7d', '--json'], owner);
    expect(created.code).toBe(0);
    const token = JSON.parse(created.stdout) as { id: string; token: string; scopes: string[]; clusters: string[] };
    expect(token).toMatchObject({ scopes: ['clusters:read', 'clusters:deploy'], clusters: ['acme-dev'], token: expect.stringMatching(/^prv_/) });

    const me = await cli(['whoami', '--json'], { PROVISIONER_API_TOKEN: token.token, PROVISIONER_CACHE_DIR: cacheDir() });
    expect(JSON.parse(me.stdout)).toMatchObject({ login: 'olga', scopes: ['clusters:read', 'clusters:deploy'], clusters: ['acme-dev'] });

    const listed = await cli(['tokens', 'list'], owner);
    expect(listed.stdout).toContain(token.id);
    expect(listed.stdout).not.toContain(token.token);

    expect((await cli(['tokens', 'revoke', token.id], owner)).code).toBe(0);
    const refused = await cli(['whoami'], { PROVISIONER_API_TOKEN: token.token, PROVISIONER_CACHE_DIR: cacheDir() });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('invalid_api_token');
  });

  it('logout ends the session at the API, not only in the cache', async () => {
    const dir = cacheDir();
    expect((await cli(['whoami'], { PROVISIONER_GITHUB_TOKEN: 'gh-olga', PROVISIONER_CACHE_DIR: dir })).code).toBe(0);
    const jwt = (JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as { token: string }).token;

    const out = await cli(['logout'], { PROVISIONER_CACHE_DIR: dir });

    expect([out.code, out.stdout]).toEqual([0, expect.stringContaining('refuses that session')]);
    expect((await api.call('GET', '/v1/whoami', jwt)).status).toBe(401);
  });
});
