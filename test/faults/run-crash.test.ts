import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiProcess, freePort, until } from '../support/api-process.js';
import { FakeGitHub } from '../support/fake-github.js';
import { testCatalog, writeCatalog } from '../support/local-api.js';

// Real processes: the server (killed with SIGKILL and started again), cluster nodes, run scripts.
jest.setTimeout(300_000);

/**
 * Issue 24.7: `npm start` dies (SIGKILL) at several moments of a TEST run; after a restart every run
 * converges (the janitor at start-up): a script that finished or still runs ends as it reports
 * (`passed`), one that never started or died without a result ends `failed` with the reason, never
 * `running` until its time limit; a cancel after the restart stops the recorded bash.
 */
describe('runs after the local server crashed', () => {
  const github = new FakeGitHub();
  let api: ApiProcess;
  let alice: string;
  // The server's own temp dir, so that the test sees every run work dir it makes (and that each goes).
  const serverTmp = mkdtempSync(join(tmpdir(), 'provisioner-crash-tmp-'));
  const workDirs = () => readdirSync(serverTmp).filter((name) => name.startsWith('provisioner-run-'));
  const catalog = {
    ...testCatalog,
    runs: {
      ...testCatalog.runs,
      plans: {
        ...testCatalog.runs.plans,
        // About two seconds of work, so that the crashes fall before, during and after the script.
        steady: {
          kind: 'test',
          repository: 'fixture:run-repo',
          steps: [
            { name: 'clone', run: 'git clone --quiet --no-checkout -- "$RUN_REPOSITORY" src && git -C src checkout --quiet --detach "$RUN_VERSION" --' },
            { name: 'work', run: 'test -n "$CLUSTER_TOKEN" && sleep 1.5' },
            { name: 'selftests', run: 'bash src/selftest.sh' },
          ],
        },
      },
      test: 'steady',
    },
  };

  const runs = async () => (await api.call('GET', '/v1/runs?limit=100', alice)).body.items as { id: string; kind: string; status: string; reason: string | null; log_url: string | null }[];
  const login = async () => {
    alice = (await api.call('POST', '/v1/login', undefined, { github_token: 'gh-alice' })).body.token;
  };
  /** The run's bash: its writer `local:<pid>`, in the log link. */
  const bashOf = (run: { log_url: string | null }) => Number(/local%3A(\d+)\//.exec(run.log_url ?? '')?.[1]);
  const groupAlive = (pid: number) => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  beforeAll(async () => {
    await github.start();
    github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
    api = new ApiProcess(await freePort(), {
      PROVISIONER_DATA_DIR: mkdtempSync(join(tmpdir(), 'provisioner-crash-data-')),
      PROVISIONER_GITHUB_API_URL: github.url,
      PROVISIONER_CATALOG: writeCatalog(catalog),
      TMPDIR: serverTmp,
    });
    await api.start();
    await login();
    expect((await api.call('POST', '/v1/clusters/demo/deploy', alice, {})).status).toBe(202);
    await until('demo running', () => api.call('GET', '/v1/clusters/demo', alice), (r) => r.body.status === 'running', 60_000);
  });

  afterAll(async () => {
    try {
      await api.start();
      await login();
      await api.call('POST', '/v1/clusters/demo/destroy', alice);
      await until('demo absent', () => api.call('GET', '/v1/clusters/demo', alice), (r) => r.body.status === 'absent', 30_000);
    } finally {
      await api.stop();
      await github.stop();
      rmSync(serverTmp, { recursive: true, force: true });
    }
  });

  it.each([0.03, 0.1, 0.3, 1, 3])('killed %s s into a TEST run: after the restart the run ends as its script did', async (seconds) => {
    const before = new Set((await runs()).map((run) => run.id));
    const started = api.call('POST', '/v1/clusters/demo/tests', alice, { version: 'v1.0' }).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    await api.crash();
    const answered = await started;
    await api.start();

    const all = await until('every run ended', runs, (items) => items.every((run) => !['queued', 'running'].includes(run.status)), 30_000);
    const ours = all.filter((run) => !before.has(run.id));
    // A run the server answered for had its bash started: the script passes whatever became of the server.
    if (answered?.status === 202) expect(ours.find((run) => run.id === answered.body.id)).toMatchObject({ status: 'passed' });
    for (const run of ours) {
      if (run.status !== 'passed') expect(run).toMatchObject({ status: 'failed', reason: expect.stringContaining('the runner has no process for it') });
    }
    // Every run's work dir went with its end.
    expect(workDirs()).toEqual([]);
  });

  it('a script that died while the server was down ends failed with the reason', async () => {
    const started = await api.call('POST', '/v1/clusters/demo/releases', alice, { version: 'v1.0' });
    expect(started.status).toBe(202);
    const run = await until('the run has its bash', () => api.call('GET', `/v1/runs/${started.body.id}`, alice), (r) => r.body.log_url !== null);
    const pid = bashOf(run.body);
    await api.crash();
    process.kill(-pid, 'SIGKILL');
    await api.start();
    const ended = await until('the run ended', () => api.call('GET', `/v1/runs/${started.body.id}`, alice), (r) => r.body.status !== 'running', 30_000);
    expect(ended.body).toMatchObject({ status: 'failed', reason: expect.stringContaining('ended without writing a result') });
    expect(workDirs()).toEqual([]);
  });

  it('cancel after a restart stops the bash the crashed server started, and its work dir goes', async () => {
    const started = await api.call('POST', '/v1/clusters/demo/releases', alice, { version: 'v1.0' });
    expect(started.status).toBe(202);
    const run = await until('the run has its bash', () => api.call('GET', `/v1/runs/${started.body.id}`, alice), (r) => r.body.log_url !== null);
    const pid = bashOf(run.body);
    expect(workDirs()).toHaveLength(1);
    const workDir = join(serverTmp, workDirs()[0] ?? '');
    expect(readlinkSync(`/proc/${pid}/cwd`).startsWith(`${workDir}/`)).toBe(true);
    await api.crash();
    await api.start();
    // The release plan sleeps a minute: still going after the restart.
    expect((await api.call('GET', `/v1/runs/${started.body.id}`, alice)).body.status).toBe('running');
    expect(groupAlive(pid)).toBe(true);

    const cancelled = await api.call('POST', `/v1/runs/${started.body.id}/cancel`, alice);
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    await until('no process of the run left', async () => groupAlive(pid), (alive) => !alive, 15_000);
    await until('its work dir removed', async () => existsSync(workDir), (exists) => !exists, 15_000);
    expect((await api.call('GET', `/v1/runs/${started.body.id}`, alice)).body.status).toBe('cancelled');
  });
});
