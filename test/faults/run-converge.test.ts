import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Actor } from '../../src/actor.js';
import { systemCaller } from '../../src/domain/levels.js';
import { runKeys } from '../../src/domain/runs.js';
import { requestLog } from '../../src/log.js';
import { convergeRuns } from '../../src/operations/runs/scheduled.js';
import type { RunMachines, RunMachineState } from '../../src/ports.js';
import { FakeGitHub } from '../support/fake-github.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

/**
 * The janitor's sweep of runs (issue 24.7), each answer of `RunMachines.inspect` in turn, against
 * a runner that only pretends: what each makes of a run not ended, and nothing where the runner
 * cannot be asked (AWS).
 */
const github = new FakeGitHub();
let api: TestApi;
let alice: string;
/** What `inspect` answers per run, and the launches held back. */
const answers = new Map<string, RunMachineState>();
let holdLaunch: Promise<void> | undefined;
const runMachines: Required<RunMachines> = {
  launch: async (launch) => {
    await holdLaunch;
    return { machine: `machine-${launch.runId}`, writer: `writer-${launch.runId}` };
  },
  stop: async () => undefined,
  inspect: async (id) => answers.get(id) ?? { state: 'handled' },
  alive: async () => [],
};
const janitor: Actor = { caller: systemCaller('scheduler'), requestId: 'janitor', log: requestLog('janitor', 'janitor') };
const sweep = () => convergeRuns(api.runtime.deps, janitor);
const release = async () => (await api.call('POST', '/v1/clusters/demo/releases', { token: alice, body: { version: 'main' } })).body.id as string;
/** A release whose launch is held back until `letGo`: queued, no machine yet. */
async function queuedRun(): Promise<{ starting: Promise<string>; id: string; letGo: () => void }> {
  let open = () => {};
  holdLaunch = new Promise((resolve) => (open = resolve));
  const starting = release();
  let queued: { id: string } | undefined;
  for (let i = 0; i < 50 && !queued; i++) {
    queued = (await api.call('GET', '/v1/runs?status=queued', { token: alice })).body.items[0];
    if (!queued) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const letGo = () => {
    open();
    holdLaunch = undefined;
  };
  return { starting, id: queued?.id ?? '', letGo };
}
const read = async (id: string) => (await api.call('GET', `/v1/runs/${id}`, { token: alice })).body;

beforeAll(async () => {
  await github.start();
  github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
  api = await startTestApi({ deps: { runMachines }, env: { PROVISIONER_MEMORY: '1', PROVISIONER_GITHUB_API_URL: github.url, PROVISIONER_CATALOG: writeCatalog(testCatalog) } });
  alice = (await api.call('POST', '/v1/login', { body: { github_token: 'gh-alice' } })).body.token;
});
afterAll(async () => {
  await api.close();
  await github.stop();
});

describe('the janitor converging runs', () => {
  it('leaves a run its runner handles', async () => {
    const handled = await release();
    await sweep();
    expect(await read(handled)).toMatchObject({ status: 'running' });
  });

  it('records the machine of a queued run whose process the runner found running (a crash before the start was recorded)', async () => {
    const { starting, id, letGo } = await queuedRun();
    answers.set(id, { state: 'running', machine: 'found-machine', writer: 'found-writer' });
    await sweep();
    const run = await read(id);
    expect(run).toMatchObject({ status: 'running' });
    expect(run.log_url).toContain('/found-writer/log.txt');
    letGo();
    expect(await starting).toBe(id);
    expect((await read(id)).log_url).toContain('/found-writer/log.txt');
  });

  it('completes one that ended with a result, fails one that ended without, or never got a process', async () => {
    const [withResult, withoutResult, noProcess] = [await release(), await release(), await release()];
    await api.runtime.deps.runLogs.put(runKeys.result(withResult, `writer-${withResult}`), JSON.stringify({ steps: [{ name: 'build-cluster', status: 'passed', seconds: 1, exit_code: 0 }] }));
    answers.set(withResult, { state: 'ended', machine: `machine-${withResult}`, writer: `writer-${withResult}`, result: true });
    answers.set(withoutResult, { state: 'ended', machine: `machine-${withoutResult}`, writer: `writer-${withoutResult}`, result: false });
    answers.set(noProcess, { state: 'none', since: new Date() });
    const { ended } = await sweep();
    expect(ended).toEqual(expect.arrayContaining([`${withResult}:passed`, `${withoutResult}:failed`, `${noProcess}:failed`]));
    expect(await read(withResult)).toMatchObject({ status: 'passed', steps: [{ name: 'build-cluster', status: 'passed' }] });
    expect(await read(withoutResult)).toMatchObject({ status: 'failed', reason: expect.stringContaining('ended without writing a result') });
    expect(await read(noProcess)).toMatchObject({ status: 'failed', reason: expect.stringContaining('no process for it') });
  });

  it('a queued run created since the runner started may still be launching: left queued; one created before is failed', async () => {
    const { starting, id, letGo } = await queuedRun();
    answers.set(id, { state: 'none', since: new Date(Date.now() - 60_000) });
    await sweep();
    expect(await read(id)).toMatchObject({ status: 'queued' });
    answers.set(id, { state: 'none', since: new Date(Date.now() + 60_000) });
    await sweep();
    expect(await read(id)).toMatchObject({ status: 'failed', reason: expect.stringContaining('no process for it') });
    letGo();
    // The launch that finished late finds the run ended: it stays failed.
    expect(await starting).toBe(id);
    expect(await read(id)).toMatchObject({ status: 'failed' });
  });

  it('does nothing where the runner cannot be asked (AWS: the S3 event and the timeout end runs)', async () => {
    const id = await release();
    answers.set(id, { state: 'ended', result: false });
    const { launch, stop } = runMachines;
    expect(await convergeRuns({ ...api.runtime.deps, runMachines: { launch, stop } }, janitor)).toEqual({ examined: 0, ended: [] });
    expect(await read(id)).toMatchObject({ status: 'running' });
  });
});
