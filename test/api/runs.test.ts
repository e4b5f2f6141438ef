import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { entityKeys } from '../../src/store/keys.js';
import type { StoreScheduler } from '../../src/adapters/local/store-scheduler.js';
import { ManualClock } from '../support/dynamo.js';
import { FakeCompute } from '../support/fake-compute.js';
import { FakeGitHub } from '../support/fake-github.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

const clock = new ManualClock(new Date('2026-11-25T12:00:00.000Z'));
const github = new FakeGitHub();
const compute = new FakeCompute();
let api: TestApi;
/** The test catalog and a cluster `qa` whose TEST holds a few seconds, to look at the run while it goes. */
const catalog = {
  ...testCatalog,
  clusters: [...testCatalog.clusters, { name: 'qa', visibility: 'private', backend: { kind: 'local' } }],
  runs: {
    ...testCatalog.runs,
    plans: { ...testCatalog.runs.plans, hold: { kind: 'test', repository: 'fixture:run-repo', steps: [{ name: 'hold', run: 'sleep 4' }] } },
    clusters: { ...testCatalog.runs.clusters, qa: { test: 'hold' } },
  },
};
const token: Record<'gil' | 'olga' | 'alice', string> = { gil: '', olga: '', alice: '' };

beforeAll(async () => {
  await github.start();
  github.users.set('gh-gil', { login: 'gil' });
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
  api = await startTestApi({
    clock,
    deps: { compute },
    env: { PROVISIONER_MEMORY: '1', PROVISIONER_GITHUB_API_URL: github.url, PROVISIONER_CATALOG: writeCatalog(catalog) },
  });
  for (const login of Object.keys(token) as (keyof typeof token)[]) {
    token[login] = (await api.call('POST', '/v1/login', { body: { github_token: `gh-${login}` } })).body.token;
  }
  // demo, acme-dev and qa running, so that TEST may run against them.
  for (const cluster of ['demo', 'acme-dev', 'qa']) {
    await api.call('POST', `/v1/clusters/${cluster}/deploy`, { token: token.alice, body: {} });
    compute.set(cluster, 'running', [`http://127.0.0.1:9/${cluster}`]);
    expect((await api.call('GET', `/v1/clusters/${cluster}`, { token: token.alice })).body.status).toBe('running');
  }
});
afterAll(async () => {
  await api.close();
  await github.stop();
});

const start = (kind: 'tests' | 'releases', cluster: string, body: unknown = { version: 'main' }, as: string | undefined = token.alice) =>
  api.call('POST', `/v1/clusters/${cluster}/${kind}`, { token: as, body });
const getRun = (id: string) => api.call('GET', `/v1/runs/${id}`, { token: token.alice });

/** Polls a run until it ends (the local runner runs real bash). */
async function ended(id: string): Promise<any> {
  for (let i = 0; i < 150; i++) {
    const { body } = await getRun(id);
    if (!['queued', 'running'].includes(body.status)) return body;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`run ${id} did not end`);
}

describe('who may run', () => {
  const someRun = '00000000-0000-4000-8000-000000000000';
  it.each<[string, string, string, unknown]>([
    ['test-runner', 'POST', '/v1/clusters/demo/tests', { version: 'main' }],
    ['release', 'POST', '/v1/clusters/demo/releases', { version: 'main' }],
    ['get-run', 'GET', `/v1/runs/${someRun}`, undefined],
    ['list-runs', 'GET', '/v1/runs', undefined],
    ['cancel-run', 'POST', `/v1/runs/${someRun}/cancel`, undefined],
  ])('%s: 401 anonymous, 403 a GitHub member and an org member', async (_operation, method, path, body) => {
    expect((await api.call(method, path, { body })).status).toBe(401);
    expect((await api.call(method, path, { body, token: token.gil })).status).toBe(403);
    expect((await api.call(method, path, { body, token: token.olga })).status).toBe(403);
  });
});

describe('starting a run', () => {
  it.each(['; rm -rf /', '$(touch /tmp/pwned)', '--upload-pack=touch /tmp/pwned', 'main\nrm -rf /', 'a..b', ''])('refuses version %j with a 400 naming the field', async (version) => {
    const response = await start('tests', 'demo', { version });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('version') });
  });

  it('refuses a missing version, an unknown field and an unknown cluster', async () => {
    expect((await start('tests', 'demo', {})).status).toBe(400);
    expect((await start('tests', 'demo', { version: 'main', extra: 1 })).status).toBe(400);
    expect((await start('tests', 'nope')).body.error.code).toBe('cluster_not_found');
  });

  it('TEST needs the cluster running (409 naming its status); RELEASE does not', async () => {
    const test = await start('tests', 'acme-x');
    expect(test.status).toBe(404);
    await api.call('POST', '/v1/clusters/demo/destroy', { token: token.alice });
    const refused = await start('tests', 'demo');
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'cluster_not_running', message: expect.stringContaining('destroying') });
    const release = await start('releases', 'demo');
    expect(release.status).toBe(202);
    expect(release.body).toMatchObject({ kind: 'release', cluster: 'demo', version: 'main' });
    await api.call('POST', `/v1/runs/${release.body.id}/cancel`, { token: token.alice });
    compute.set('demo', 'gone');
    await api.call('GET', '/v1/clusters/demo', { token: token.alice });
    await api.call('POST', '/v1/clusters/demo/deploy', { token: token.alice, body: {} });
    compute.set('demo', 'running', ['http://127.0.0.1:9/demo']);
  });
});

describe('a TEST run', () => {
  it('passes: every step recorded, the log behind a 15-minute signed link', async () => {
    const started = await start('tests', 'demo', { version: 'v1.0' });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ id: expect.any(String), kind: 'test', cluster: 'demo', version: 'v1.0', plan: 'pass' });
    expect(['queued', 'running', 'passed']).toContain(started.body.status);

    const run = await ended(started.body.id);
    expect(run).toMatchObject({ status: 'passed', failed_step: null });
    expect(run.steps.map((s: any) => [s.name, s.status])).toEqual([
      ['clone', 'passed'],
      ['cluster-check', 'passed'],
      ['selftests', 'passed'],
    ]);
    const url = new URL(run.log_url);
    // Under the writer the local runner started (local:<pid>), as an EC2 instance's aws:userid on AWS.
    expect(url.pathname).toMatch(new RegExp(`^/runs/${run.id}/local%3A[0-9]+/log\\.txt$`));
    expect(Number(url.searchParams.get('expires'))).toBe(clock.now().getTime() / 1000 + 900);
    expect(url.searchParams.get('signature')).toMatch(/^[0-9a-f]{64}$/);
    const log = await (await fetch(url)).text();
    expect(log).toContain('testing against http://127.0.0.1:9/demo');
    expect(log).toContain('selftest parse: ok');
    expect(log).toContain('== step selftests passed');
  });

  it('fails naming its failing step, the steps after it skipped', async () => {
    const started = await start('tests', 'acme-dev');
    const run = await ended(started.body.id);
    expect(run).toMatchObject({ status: 'failed', failed_step: 'known-failure', reason: 'step known-failure failed' });
    expect(run.steps.map((s: any) => [s.name, s.status, s.exit_code])).toEqual([
      ['clone', 'passed', 0],
      ['known-failure', 'failed', 3],
      ['never-reached', 'skipped', undefined],
    ]);
    expect(await (await fetch(run.log_url)).text()).toContain('expected 42, got 41');
  });

  it('the log is read only through the link the API gives, until it expires: unsigned reads, lists and writes are refused', async () => {
    const run = await ended((await start('tests', 'demo', { version: 'v1.0' })).body.id);
    const link = new URL(run.log_url);
    const log = await (await fetch(link)).text();
    expect(log).toContain('== step selftests passed');
    const server = link.origin;
    const unsigned = `${server}${link.pathname}`;
    const otherKey = new URL(link);
    otherKey.pathname = link.pathname.replace('log.txt', 'result.json');
    const forged = new URL(link);
    forged.searchParams.set('signature', '0'.repeat(64));
    const later = new URL(link);
    later.searchParams.set('expires', String(Number(link.searchParams.get('expires')) + 3600));
    for (const refused of [unsigned, otherKey, forged, later, `${server}/`, `${server}/runs/`, `${server}/runs/%E0%A4%A`, `${server}//runs/`, `${server}/runs/${run.id}/`, `${server}/?list-type=2`]) {
      const response = await fetch(refused);
      expect([refused.toString(), response.status]).toEqual([refused.toString(), 403]);
      expect(await response.text()).not.toContain('selftest');
    }
    for (const method of ['PUT', 'POST', 'DELETE']) {
      expect((await fetch(link, { method, body: method === 'DELETE' ? undefined : 'overwritten' })).status).toBe(405);
      expect((await fetch(unsigned, { method, body: method === 'DELETE' ? undefined : 'overwritten' })).status).toBe(405);
    }
    expect(await (await fetch(link)).text()).toBe(log);
    // A Range read answers the rest, as S3 does (what a follower asks for).
    const rest = await fetch(link, { headers: { range: 'bytes=10-' } });
    expect(rest.status).toBe(206);
    expect(await rest.text()).toBe(log.slice(10));

    clock.advance(15 * 60_000 + 1000);
    expect((await fetch(link)).status).toBe(403);
    // Reading the run again gives a fresh link.
    expect((await fetch((await getRun(run.id)).body.log_url)).status).toBe(200);
  });

  it('a ref that does not exist fails the clone step', async () => {
    const run = await ended((await start('tests', 'demo', { version: 'no-such-branch' })).body.id);
    expect(run).toMatchObject({ status: 'failed', failed_step: 'clone' });
  });
});

describe("a local run's files and environment", () => {
  /** Every file under `dir`, recursively. */
  const filesUnder = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? filesUnder(join(dir, entry.name)) : entry.isFile() ? [join(dir, entry.name)] : []));

  it('bash gets PATH, HOME and the run secrets only; no file holds the token; the 0700 work dir goes when the run ends', async () => {
    process.env.PROVISIONER_SERVER_ONLY_SECRET = 'server-secret-value';
    try {
      const started = await start('tests', 'qa');
      expect(started.status).toBe(202);
      const id = started.body.id;
      let writer: string | undefined;
      for (let i = 0; i < 50 && !writer; i++) {
        writer = (await api.runtime.deps.store.get(entityKeys.head('run', id)))?.writer as string | undefined;
        if (!writer) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const pid = Number(writer?.slice('local:'.length));
      // The script works in a directory under the run's work dir.
      const dir = readlinkSync(`/proc/${pid}/cwd`).replace(/(\/provisioner-run-[^/]+).*$/, '$1');
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      const environment = Object.fromEntries(
        readFileSync(`/proc/${pid}/environ`, 'utf8')
          .split('\0')
          .filter(Boolean)
          .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
      );
      // PWD and SHLVL are bash's own (the one that writes the pid and execs the script).
      expect(Object.keys(environment).sort()).toEqual(['CLUSTER_TOKEN', 'HOME', 'PATH', 'PWD', 'SHLVL']);
      const token = environment.CLUSTER_TOKEN ?? '';
      expect(token).toMatch(/^ey/);
      // Mid-run: the script, the outbox, the fixture repository; none of them holds the token.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const files = filesUnder(dir);
      expect(files.length).toBeGreaterThan(0);
      for (const file of files) expect(readFileSync(file, 'utf8').includes(token)).toBe(false);

      expect(await ended(id)).toMatchObject({ status: 'passed' });
      for (let i = 0; i < 50 && existsSync(dir); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(existsSync(dir)).toBe(false);
    } finally {
      delete process.env.PROVISIONER_SERVER_ONLY_SECRET;
    }
  });
});

describe('ending a run', () => {
  it('cancel stops a running run; cancelling it again is 409', async () => {
    const started = await start('releases', 'demo');
    const cancelled = await api.call('POST', `/v1/runs/${started.body.id}/cancel`, { token: token.alice });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', reason: 'cancelled by github:alice' });
    const again = await api.call('POST', `/v1/runs/${started.body.id}/cancel`, { token: token.alice });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('run_finished');
    // The stopped script still reports; the run keeps its status.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await getRun(started.body.id)).body.status).toBe('cancelled');
  });

  it('a run past its time limit becomes timed_out', async () => {
    const started = await start('releases', 'demo');
    expect((await getRun(started.body.id)).body.status).toBe('running');
    clock.advance(11 * 60_000);
    await (api.runtime.deps.scheduler as StoreScheduler).fireDue();
    const run = (await getRun(started.body.id)).body;
    expect(run).toMatchObject({ status: 'timed_out', reason: expect.stringContaining('time limit') });
  });

  it('an unknown run is 404, a malformed id 400', async () => {
    expect((await getRun('00000000-0000-4000-8000-000000000001')).body.error.code).toBe('run_not_found');
    expect((await getRun('nope')).status).toBe(400);
  });
});

describe('listing runs', () => {
  it('newest first, filtered by cluster, kind and status', async () => {
    const all = (await api.call('GET', '/v1/runs?limit=100', { token: token.alice })).body.items;
    const created = all.map((r: any) => r.created_at);
    expect(created).toEqual([...created].sort().reverse());
    const failedTests = (await api.call('GET', '/v1/runs?cluster=acme-dev&kind=test&status=failed', { token: token.alice })).body.items;
    expect(failedTests.length).toBeGreaterThan(0);
    expect(failedTests.every((r: any) => r.cluster === 'acme-dev' && r.kind === 'test' && r.status === 'failed')).toBe(true);
    expect((await api.call('GET', '/v1/runs?status=exploded', { token: token.alice })).status).toBe(400);
  });
});
