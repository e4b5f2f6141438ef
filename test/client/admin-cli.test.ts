import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiProcess, freePort } from '../support/api-process.js';
import { FakeGitHub } from '../support/fake-github.js';
import { testCatalog, writeCatalog } from '../support/local-api.js';

/** `provisioner admin overview|release-slot|force-absent`, end to end against `npm start`. */
const github = new FakeGitHub();
let api: ApiProcess;

// Every command is a new node process compiling TypeScript: seconds each on a busy machine.
jest.setTimeout(180_000);

beforeAll(async () => {
  await github.start();
  github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  api = new ApiProcess(await freePort(), {
    PROVISIONER_DATA_DIR: mkdtempSync(join(tmpdir(), 'provisioner-admin-cli-api-')),
    PROVISIONER_GITHUB_API_URL: github.url,
    PROVISIONER_CATALOG: writeCatalog(testCatalog),
  });
  await api.start();
});

afterAll(async () => {
  await api.stop();
  await github.stop();
});

function cli(args: string[], githubToken: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['client/cli/bin.mjs', ...args], {
      env: { ...process.env, PROVISIONER_URL: api.url, PROVISIONER_CONFIG: '/nonexistent/provisioner.toml', PROVISIONER_GITHUB_TOKEN: githubToken, PROVISIONER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'provisioner-admin-cli-')) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('provisioner admin', () => {
  it('prints the overview for an administrator, refuses others (exit 3), and needs a reason to act (exit 2)', async () => {
    const [overview, asMember, noReason, notStuck] = await Promise.all([
      cli(['admin', 'overview', '--json'], 'gh-alice'),
      cli(['admin', 'overview'], 'gh-olga'),
      cli(['admin', 'force-absent', 'acme-dev'], 'gh-alice'),
      cli(['admin', 'release-slot', 'acme-dev', '--reason', 'testing'], 'gh-alice'),
    ]);

    expect(overview.code).toBe(0);
    expect(JSON.parse(overview.stdout)).toMatchObject({ areas: { clusters: expect.any(Object) }, stuck: [], slots: [] });
    expect([asMember.code, asMember.stderr]).toEqual([3, expect.stringContaining('forbidden')]);
    expect([noReason.code, noReason.stderr]).toEqual([2, expect.stringContaining('--reason')]);
    // acme-dev was never deployed: absent, which both actions answer as it is.
    expect([notStuck.code, notStuck.stdout]).toEqual([0, expect.stringContaining('acme-dev')]);
  });
});
