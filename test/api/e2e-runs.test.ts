import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiProcess, freePort, until } from '../support/api-process.js';
import { runCli } from '../support/cli-process.js';
import { FakeGitHub } from '../support/fake-github.js';
import { testCatalog, writeCatalog } from '../support/local-api.js';

// End to end: the API, cluster nodes, run scripts and every CLI command are real processes.
jest.setTimeout(180_000);

/**
 * TEST runs end to end against `npm start`, through the CLI: an administrator tests a running
 * cluster (its steps reach the cluster with the run's cluster JWT) and it passes; the failing plan
 * ends `failed` naming its step; `run ID --log` and `run ID --follow` print the log.
 */
describe('runs end to end with the CLI against npm start', () => {
  const github = new FakeGitHub();
  const cacheDir = mkdtempSync(join(tmpdir(), 'provisioner-e2e-runs-cli-'));
  let api: ApiProcess;
  let alice: string;

  const catalog = {
    ...testCatalog,
    runs: {
      ...testCatalog.runs,
      plans: {
        ...testCatalog.runs.plans,
        // The pass plan, its cluster check asking the cluster itself with the run's cluster JWT.
        'e2e-pass': {
          ...testCatalog.runs.plans.pass,
          steps: testCatalog.runs.plans.pass.steps.map((step) =>
            step.name === 'cluster-check' ? { name: 'cluster-check', run: 'curl -fsS -H "authorization: Bearer $CLUSTER_TOKEN" "$CLUSTER_URL/from-a-test-run"; echo' } : step,
          ),
        },
      },
      test: 'e2e-pass',
    },
  };

  /** The CLI as a user runs it: its own node process. */
  const cli = (args: string[]) => runCli(api.url, cacheDir, args, 'gh-alice');

  beforeAll(async () => {
    await github.start();
    github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
    api = new ApiProcess(await freePort(), {
      PROVISIONER_DATA_DIR: mkdtempSync(join(tmpdir(), 'provisioner-e2e-runs-')),
      PROVISIONER_GITHUB_API_URL: github.url,
      PROVISIONER_CATALOG: writeCatalog(catalog),
    });
    await api.start();
    alice = (await api.call('POST', '/v1/login', undefined, { github_token: 'gh-alice' })).body.token;
    // TEST needs its cluster running: both deploy at once.
    for (const cluster of ['acme-dev', 'demo']) expect((await api.call('POST', `/v1/clusters/${cluster}/deploy`, alice, {})).status).toBe(202);
    for (const cluster of ['acme-dev', 'demo']) await until(`${cluster} running`, () => api.call('GET', `/v1/clusters/${cluster}`, alice), (r) => r.body.status === 'running', 60_000);
  });

  afterAll(async () => {
    try {
      for (const cluster of ['acme-dev', 'demo']) await api.call('POST', `/v1/clusters/${cluster}/destroy`, alice);
      for (const cluster of ['acme-dev', 'demo']) await until(`${cluster} absent`, () => api.call('GET', `/v1/clusters/${cluster}`, alice), (r) => r.body.status === 'absent', 30_000);
    } finally {
      await api.stop();
      await github.stop();
    }
  });

  it('an administrator tests a running cluster and it passes; run ID --log prints its log', async () => {
    const tested = await cli(['test', 'demo', '--version', 'v1.0', '--wait', '--json']);
    expect(tested).toMatchObject({ code: 0 });
    const run = JSON.parse(tested.stdout);
    expect(run).toMatchObject({ kind: 'test', cluster: 'demo', version: 'v1.0', plan: 'e2e-pass', status: 'passed', failed_step: null });
    expect(run.steps.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual(['clone:passed', 'cluster-check:passed', 'selftests:passed']);

    const log = await cli(['run', run.id, '--log']);
    expect(log).toMatchObject({ code: 0, stderr: '' });
    // The cluster answered the run's cluster JWT as the administrator who started it.
    expect(log.stdout).toContain('"cluster":"demo"');
    expect(log.stdout).toContain('"caller":"github:alice"');
    expect(log.stdout).toContain('selftest decode: ok');
    expect(log.stdout).toContain('== step selftests passed');
  });

  it('the failing plan ends failed naming its step; run ID --follow prints the log and exits 1', async () => {
    const started = await cli(['test', 'acme-dev', '--version', 'main', '--json']);
    expect(started.code).toBe(0);
    const { id } = JSON.parse(started.stdout);

    const followed = await cli(['run', id, '--follow']);
    expect(followed.code).toBe(1);
    expect(followed.stdout).toContain('expected 42, got 41');
    expect(followed.stdout).toContain('== step known-failure failed with exit code 3');
    expect(followed.stderr).toContain(`test ${id} on acme-dev ended failed at step known-failure`);

    const shown = await cli(['run', id, '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'failed', failed_step: 'known-failure', reason: 'step known-failure failed' });
    // The same log, whole: --follow printed every byte once.
    expect((await cli(['run', id, '--log'])).stdout).toBe(followed.stdout);
  });
});
