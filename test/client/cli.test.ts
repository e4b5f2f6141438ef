import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClusterVerifier } from '../../src/tokens/cluster-verifier.js';
import { ApiProcess, freePort } from '../support/api-process.js';
import { FakeGitHub } from '../support/fake-github.js';
import { testCatalog, writeCatalog } from '../support/local-api.js';

/** The CLI, the SDK behind it, and the example Makefile, end to end against `npm start`. */
const github = new FakeGitHub();
let api: ApiProcess;
let apiEnv: Record<string, string>;
const cacheDir = mkdtempSync(join(tmpdir(), 'provisioner-cli-'));

// Every command is a new node process compiling TypeScript: seconds each on a busy machine.
jest.setTimeout(180_000);

beforeAll(async () => {
  await github.start();
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
  github.deviceToken = 'gh-alice';
  apiEnv = {
    PROVISIONER_DATA_DIR: mkdtempSync(join(tmpdir(), 'provisioner-cli-api-')),
    PROVISIONER_GITHUB_API_URL: github.url,
    PROVISIONER_CATALOG: writeCatalog({
      ...testCatalog,
      clusters: [
        ...testCatalog.clusters,
        { name: 'broken', visibility: 'private', backend: { kind: 'local', command: ['false'] } },
        { name: 'stuck', visibility: 'private', backend: { kind: 'local', command: ['sleep', '30'] } },
      ],
    }),
  };
  api = new ApiProcess(await freePort(), apiEnv);
  await api.start();
});

afterAll(async () => {
  for (const cluster of ['acme-dev', 'stuck', 'broken', 'demo']) await cli(['destroy', cluster], { PROVISIONER_GITHUB_TOKEN: 'gh-alice' }).catch(() => undefined);
  await api.stop();
  await github.stop();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string | undefined>, stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: {
        ...process.env,
        PROVISIONER_URL: api.url,
        PROVISIONER_CONFIG: join(cacheDir, 'absent.toml'),
        PROVISIONER_CACHE_DIR: cacheDir,
        PROVISIONER_POLL_MS: '200',
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const cli = (args: string[], env: Record<string, string | undefined> = {}, stdin?: string) => run(process.execPath, ['client/cli/bin.mjs', ...args], env, stdin);

/** A 0600 config file holding `text`. */
function configFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'provisioner-cli-config-')), 'provisioner.toml');
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

describe('the provisioner CLI', () => {
  it('logs in with the GitHub device flow and caches the token for later commands', async () => {
    const login = await cli(['login'], { PROVISIONER_GITHUB_URL: github.url, PROVISIONER_CLIENT_ID: 'Iv1.test' });
    expect(login.code).toBe(0);
    expect(login.stderr).toContain('WDJB-MJHT');
    expect(login.stdout).toContain('alice (administrator)');
    const me = await cli(['whoami', '--json']);
    expect(JSON.parse(me.stdout)).toEqual({ login: 'alice', level: 'administrator', orgs: ['acme'] });
    expect((await cli(['logout'])).code).toBe(0);
    expect((await cli(['whoami'])).stdout).toContain('anonymous');
  });

  it('logs in with --token, deploys with --wait, gives a cluster JWT, schedules and destroys with --wait', async () => {
    expect((await cli(['login', '--token', 'gh-olga'])).code).toBe(0);
    const deployed = await cli(['deploy', 'acme-dev', '--nodes', '2', '--wait', '--json']);
    expect(deployed.code).toBe(0);
    expect(JSON.parse(deployed.stdout)).toMatchObject({ name: 'acme-dev', status: 'running', nodes: 2 });
    expect(deployed.stderr).toMatch(/acme-dev: (deploying|running) \(\d+ s\)/);

    const access = await cli(['access', 'acme-dev']);
    expect(access.code).toBe(0);
    const jwt = access.stdout.trim();
    await expect(createClusterVerifier({ issuer: api.url, cluster: 'acme-dev' })(jwt)).resolves.toMatchObject({ sub: 'github:olga' });

    const scheduled = await cli(['schedule-destroy', 'acme-dev', '--in', '2h']);
    expect([scheduled.code, scheduled.stdout]).toEqual([0, expect.stringContaining('destroy at')]);
    const events = await cli(['events', 'acme-dev', '--json']);
    expect(JSON.parse(events.stdout)[0]).toMatchObject({ action: 'schedule-destroy', actor: 'github:olga' });
    const destroyed = await cli(['destroy', 'acme-dev', '--wait']);
    expect([destroyed.code, destroyed.stdout]).toEqual([0, expect.stringContaining('acme-dev  absent')]);
  }, 90_000);

  it('exits 2 on bad usage, 3 when not allowed, 1 when the operation fails, 4 on timeout, 5 when the API is unavailable', async () => {
    expect((await cli(['deploy'])).code).toBe(2);
    expect((await cli(['deploy', 'acme-dev', '--nodes', 'many'])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['schedule-destroy', 'acme-dev'])).code).toBe(2);

    const forbidden = await cli(['deploy', 'demo'], { PROVISIONER_GITHUB_TOKEN: 'gh-olga' });
    expect([forbidden.code, forbidden.stderr]).toEqual([3, expect.stringContaining('(forbidden)')]);
    expect((await cli(['deploy', 'demo'], { PROVISIONER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'empty-')) })).code).toBe(3);

    const failed = await cli(['deploy', 'broken', '--wait'], { PROVISIONER_GITHUB_TOKEN: 'gh-alice' });
    expect([failed.code, failed.stderr]).toEqual([1, expect.stringContaining('broken failed')]);

    const slow = await cli(['deploy', 'stuck', '--wait', '--timeout', '1s'], { PROVISIONER_GITHUB_TOKEN: 'gh-alice' });
    expect([slow.code, slow.stderr]).toEqual([4, expect.stringContaining('still deploying')]);

    expect((await cli(['clusters'], { PROVISIONER_URL: `http://127.0.0.1:${await freePort()}`, PROVISIONER_RETRIES: '0' })).code).toBe(5);
  }, 90_000);

  it('runs the example Makefile\'s targets', async () => {
    const env = { PROVISIONER_GITHUB_TOKEN: 'gh-olga' };
    const make = (target: string) => run('make', ['-s', '-f', 'examples/Makefile', target, `PROVISIONER=${process.execPath} client/cli/bin.mjs`, 'CLUSTER=acme-dev', 'TTL=2h'], env);
    const deployed = await make('deploy');
    expect([deployed.code, deployed.stdout]).toEqual([0, expect.stringContaining('acme-dev  running')]);
    expect((await make('status')).stdout).toMatch(/http:\/\/127\.0\.0\.1:\d+/);
    const jwt = (await make('access')).stdout.trim();
    await expect(createClusterVerifier({ issuer: api.url, cluster: 'acme-dev' })(jwt)).resolves.toMatchObject({ cluster: 'acme-dev' });
    expect((await make('destroy')).stdout).toContain('acme-dev  absent');
  });

  it('validates the configuration before acting: exit 2 naming the field, also under --json', async () => {
    for (const url of ['123', '"localhost:4104"', '"ftp://provisioner.example.com"']) {
      // Arrange
      // No PROVISIONER_URL: the file's url is the one read.
      const env = { PROVISIONER_CONFIG: configFile(`[defaults]\nurl = ${url}\n`), PROVISIONER_URL: undefined };

      // Act
      const result = await cli(['clusters', '--json'], env);

      // Assert
      expect(result.code).toBe(2);
      expect(JSON.parse(result.stdout)).toEqual({ error: expect.objectContaining({ code: 'invalid_config', details: { field: 'url' } }) });
      expect(result.stderr).toContain(`url in [defaults] of ${env.PROVISIONER_CONFIG}`);
    }
  });

  it('validates --timeout before deploying: no unit is exit 2 and nothing is deployed', async () => {
    // Arrange: an administrator, whom the API would let deploy demo.
    const env = { PROVISIONER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'provisioner-timeout-')), PROVISIONER_GITHUB_TOKEN: 'gh-alice' };

    // Act
    const unitless = await cli(['deploy', 'demo', '--wait', '--timeout', '10'], env);
    const withoutWait = await cli(['deploy', 'demo', '--timeout', '10m'], env);

    // Assert
    expect([unitless.code, unitless.stderr]).toEqual([2, expect.stringMatching(/--timeout must be a duration such as "90m", "4h" or "2d" \(got 10\)/)]);
    expect([withoutWait.code, withoutWait.stderr]).toEqual([2, expect.stringContaining('--timeout needs --wait')]);
    expect((await api.call('GET', '/v1/clusters/demo')).body).toMatchObject({ status: 'absent' });
  });

  it('logs in with a GitHub token read from stdin (--token -), and refuses an empty one', async () => {
    // Arrange
    const env = { PROVISIONER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'provisioner-stdin-')) };

    // Act
    const login = await cli(['login', '--token', '-'], env, 'gh-olga\n');
    const me = await cli(['whoami'], env);
    const empty = await cli(['login', '--token', '-'], env, '\n');

    // Assert
    expect([login.code, login.stdout]).toEqual([0, expect.stringContaining('Logged in as olga')]);
    expect(me.stdout).toContain('olga (org_member)');
    expect([empty.code, empty.stderr]).toEqual([2, expect.stringContaining('no GitHub token on stdin')]);
  });

  it('recovers from a wiped server: logs in again with the configured GitHub token and drops the cluster JWTs it cached', async () => {
    // Arrange
    const env = { PROVISIONER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'provisioner-wiped-')), PROVISIONER_GITHUB_TOKEN: 'gh-olga' };
    const before = await cli(['access', 'demo'], env);
    expect(before.code).toBe(0);
    await api.stop();
    api = new ApiProcess(api.port, { ...apiEnv, PROVISIONER_DATA_DIR: mkdtempSync(join(tmpdir(), 'provisioner-cli-api-wiped-')) });
    await api.start();

    // Act
    const me = await cli(['whoami'], env);
    const access = await cli(['access', 'demo'], env);

    // Assert
    expect([me.code, me.stdout]).toEqual([0, expect.stringContaining('olga (org_member)')]);
    expect(access.code).toBe(0);
    await expect(createClusterVerifier({ issuer: api.url, cluster: 'demo' })(access.stdout.trim())).resolves.toMatchObject({ sub: 'github:olga' });
  });
});
