import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../client/cli/main.js';
import { createClient, type ProvisionerClient } from '../../client/index.js';
import { FakeCompute } from '../support/fake-compute.js';
import { FakeGitHub } from '../support/fake-github.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

/** The SDK's `runs` and the run commands, against the in-process API running real (offline) plans. */
const github = new FakeGitHub();
const compute = new FakeCompute();
let api: TestApi;
let client: ProvisionerClient;
const savedEnv = { ...process.env };

// Runs are real bash (a git clone of the fixture repository): seconds on a busy machine.
jest.setTimeout(60_000);

beforeAll(async () => {
  await github.start();
  github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
  const catalog = {
    ...testCatalog,
    // A RELEASE that passes quickly (the test catalog's default release outlasts any test).
    runs: {
      ...testCatalog.runs,
      plans: {
        ...testCatalog.runs.plans,
        build: { kind: 'release', repository: 'fixture:run-repo', steps: [{ name: 'build-cluster', run: 'echo "building $RUN_CLUSTER images at $RUN_VERSION"' }] },
        // Long enough for the log to be uploaded (every 2 s locally) while it runs.
        gradual: { kind: 'release', repository: 'fixture:run-repo', steps: [{ name: 'build-cluster', run: 'echo "first half ünïcode"; sleep 5; echo "second half"' }] },
      },
      release: 'build',
      clusters: { ...testCatalog.runs.clusters, 'acme-dev': { ...testCatalog.runs.clusters['acme-dev'], release: 'gradual' } },
    },
  };
  api = await startTestApi({ deps: { compute }, env: { PROVISIONER_MEMORY: '1', PROVISIONER_GITHUB_API_URL: github.url, PROVISIONER_CATALOG: writeCatalog(catalog) } });
  const env = {
    PROVISIONER_URL: api.url,
    PROVISIONER_CONFIG: '/nonexistent/provisioner.toml',
    PROVISIONER_CACHE_DIR: mkdtempSync(join(tmpdir(), 'provisioner-runs-')),
    PROVISIONER_GITHUB_TOKEN: 'gh-alice',
    PROVISIONER_POLL_MS: '100',
  };
  // The CLI's main() builds its client from process.env.
  Object.assign(process.env, env);
  client = createClient({ env, retryBaseMs: 1 });
  // TEST needs the cluster running.
  for (const cluster of ['demo', 'acme-dev']) {
    await client.clusters.deploy(cluster);
    compute.set(cluster, 'running', [`http://127.0.0.1:9/${cluster}`]);
    expect((await client.clusters.get(cluster)).status).toBe('running');
  }
});

afterAll(async () => {
  process.env = savedEnv;
  await api.close();
  await github.stop();
});

describe('the SDK', () => {
  it('a RELEASE on demo: waitFor reports progress and returns it passed; log() has the log text; list and all find it', async () => {
    // Arrange
    const seen: string[] = [];

    // Act
    const started = await client.runs.release('demo', 'main');
    const run = await client.runs.waitFor(started.id, { intervalMs: 100, onProgress: (r) => seen.push(r.status) });
    const log = await client.runs.log(run.id);

    // Assert
    expect(started).toMatchObject({ kind: 'release', cluster: 'demo', version: 'main' });
    expect(run).toMatchObject({ id: started.id, status: 'passed', failed_step: null });
    expect(run.steps.map((s) => [s.name, s.status])).toEqual([['build-cluster', 'passed']]);
    expect(seen.at(-1)).toBe('passed');
    expect(log).toContain('building demo images at main');
    expect((await client.runs.list({ cluster: 'demo', kind: 'release' })).items.map((r) => r.id)).toContain(run.id);
    const all = [];
    for await (const r of client.runs.all({ status: 'passed' })) all.push(r.id);
    expect(all).toContain(run.id);
  });

  it('a TEST whose plan fails: waitFor returns it failed, naming the step', async () => {
    const started = await client.runs.test('acme-dev', 'main');
    const run = await client.runs.waitFor(started.id, { intervalMs: 100 });
    expect(run).toMatchObject({ kind: 'test', status: 'failed', failed_step: 'known-failure' });
    expect(await client.runs.log(run.id)).toContain('expected 42, got 41');
  });

  it('followLog hands over the log as it grows, each piece once, until the run ends', async () => {
    const started = await client.runs.release('acme-dev', 'main');
    const pieces: string[] = [];
    const run = await client.runs.followLog(started.id, { intervalMs: 200, onText: (text) => pieces.push(text) });
    expect(run).toMatchObject({ status: 'passed' });
    // The first half showed while the step still ran; together the pieces are the whole log.
    expect(pieces.length).toBeGreaterThanOrEqual(2);
    expect(pieces[0]).toContain('first half ünïcode');
    expect(pieces[0]).not.toContain('second half');
    expect(pieces.join('')).toBe(await client.runs.log(run.id));
    expect(pieces.join('')).toContain('== run ended with exit code 0');
  });

  it('waitFor throws a timeout when the run has not ended in time; cancel ends it', async () => {
    const started = await client.runs.test('demo', 'main');
    await expect(client.runs.waitFor(started.id, { timeoutMs: 0 })).rejects.toMatchObject({ code: 'timeout' });
    const cancelled = await client.runs.cancel(started.id);
    expect(cancelled.status).toBe('cancelled');
  });
});

/** Runs the CLI's main() in this process, collecting what it writes. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('the CLI', () => {
  it('test --wait exits 0 when the run passes; run ID --log prints its log', async () => {
    const tested = await cli(['test', 'demo', '--version', 'v1.0', '--wait', '--json']);
    expect(tested.code).toBe(0);
    const run = JSON.parse(tested.stdout);
    expect(run).toMatchObject({ kind: 'test', cluster: 'demo', version: 'v1.0', status: 'passed' });

    const log = await cli(['run', run.id, '--log']);
    expect(log).toMatchObject({ code: 0, stderr: '' });
    expect(log.stdout).toContain('selftest parse: ok');
    expect(log.stdout).toContain('== step selftests passed');

    const shown = await cli(['run', run.id]);
    expect(shown.stdout).toContain(`${run.id}  test  demo  v1.0  passed`);
    expect(shown.stdout).toContain('  selftests: passed');
  });

  it('test --wait exits 1 when the run fails, printing the run and naming the step', async () => {
    const text = await cli(['test', 'acme-dev', '--version', 'main', '--wait']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/test {2}acme-dev {2}main {2}failed {2}at step known-failure/);
    expect(text.stderr).toContain('at step known-failure');

    const json = await cli(['test', 'acme-dev', '--version', 'main', '--wait', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'operation_failed', details: { run: { status: 'failed', failed_step: 'known-failure' } } });
  });

  it('run ID --follow prints the log as it grows and exits 0 when the run passes; it streams text, so not with --json', async () => {
    const started = await client.runs.release('acme-dev', 'v1.0');
    const followed = await cli(['run', started.id, '--follow']);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toBe(await client.runs.log(started.id));
    expect(followed.stdout).toContain('second half');
    expect(followed.stderr).toContain(`${started.id}  release  acme-dev  v1.0  passed`);
    expect((await cli(['run', started.id, '--follow', '--json'])).code).toBe(2);
    expect((await cli(['run', started.id, '--timeout', '1m'])).code).toBe(2);
  });

  it('runs filters; cancel-run; usage errors exit 2 before anything is started', async () => {
    const listed = await cli(['runs', '--cluster', 'acme-dev', '--status', 'failed', '--json']);
    expect(listed.code).toBe(0);
    const runs = JSON.parse(listed.stdout) as { cluster: string; status: string }[];
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.every((r) => r.cluster === 'acme-dev' && r.status === 'failed')).toBe(true);

    const started = await client.runs.test('demo', 'main');
    const cancelled = await cli(['cancel-run', started.id]);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain('cancelled');

    const before = (await client.runs.list({ limit: 100 })).items.length;
    expect((await cli(['test', 'demo'])).code).toBe(2);
    expect((await cli(['test', 'demo', '--version', 'main', '--timeout', '10'])).code).toBe(2);
    expect((await cli(['runs', '--kind', 'deploy'])).code).toBe(2);
    expect((await client.runs.list({ limit: 100 })).items.length).toBe(before);
  });
});
