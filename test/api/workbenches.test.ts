import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StoreScheduler } from '../../src/adapters/local/store-scheduler.js';
import { ManualClock } from '../support/dynamo.js';
import { FakeGitHub } from '../support/fake-github.js';
import { systemCaller } from '../../src/domain/levels.js';
import { requestLog } from '../../src/log.js';
import { runAutoStop } from '../../src/operations/workbenches/scheduled.js';
import { type WorkbenchDeps, workbenchesOf } from '../../src/operations/workbenches/use-cases.js';
import { FakeWorkbenches } from '../support/fake-workbenches.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

const clock = new ManualClock(new Date('2026-11-23T12:00:00.000Z'));
const github = new FakeGitHub();
const backend = new FakeWorkbenches();
let api: TestApi;
type Login = 'gil' | 'gail' | 'olga' | 'oscar' | 'alice' | 'gus' | 'mona';
const token: Record<Login, string> = { gil: '', gail: '', olga: '', oscar: '', alice: '', gus: '', mona: '' };
const hours = (n: number) => n * 3_600_000;

beforeAll(async () => {
  await github.start();
  github.users.set('gh-gil', { login: 'gil' });
  github.users.set('gh-gail', { login: 'gail' });
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  github.users.set('gh-oscar', { login: 'oscar', orgs: { acme: 'active' } });
  github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
  github.users.set('gh-gus', { login: 'gus' });
  // GitHub answers a login in its own case; logins are case-insensitive.
  github.users.set('gh-mona', { login: 'Mona' });
  api = await startTestApi({
    clock,
    deps: { workbenchCompute: backend },
    env: {
      PROVISIONER_MEMORY: '1',
      PROVISIONER_GITHUB_API_URL: github.url,
      PROVISIONER_CATALOG: writeCatalog({
        ...testCatalog,
        workbenches: {
          providers: [
            { name: 'large', max_cpu: 8192, max_memory: 32768, cost: 4 },
            { name: 'small', max_cpu: 2048, max_memory: 8192, cost: 1 },
            { name: 'gpu', max_cpu: 8192, max_memory: 65536, max_gpu: 1, cost: 10 },
          ],
          limits: { github_member: { count: 1, cpu: 1024, memory: 4096 }, org_member: { count: 5, cpu: 8192, memory: 32768, gpu: 1 } },
          max_runtime: '4h',
          endpoint: 'https://cloud.example.com/project/{owner}/{id}',
        },
      }),
    },
  });
  for (const login of Object.keys(token) as Login[]) {
    token[login] = (await api.call('POST', '/v1/login', { body: { github_token: `gh-${login}` } })).body.token;
  }
});
afterAll(async () => {
  await api.close();
  await github.stop();
});

const small = { name: 'AutoCyber', cpu: 1024, memory: 2048 };
const create = (as: Login, body: unknown = small) => api.call('POST', '/v1/workbenches', { token: token[as], body });
const get = (id: string, as: Login) => api.call('GET', `/v1/workbenches/${id}`, { token: token[as] });
const act = (id: string, action: 'start' | 'stop', as: Login) => api.call('POST', `/v1/workbenches/${id}/${action}`, { token: token[as] });
const remove = (id: string, as: Login) => api.call('DELETE', `/v1/workbenches/${id}`, { token: token[as] });
const share = (id: string, login: string, as: Login, method: 'PUT' | 'DELETE' = 'PUT') => api.call(method, `/v1/workbenches/${id}/shares/${login}`, { token: token[as] });
const fireDue = () => (api.runtime.deps.scheduler as StoreScheduler).fireDue();

/** Creates a workbench for `as` and brings it to running. */
async function running(as: Login, body: unknown = small): Promise<string> {
  const created = await create(as, body);
  expect(created.status).toBe(202);
  backend.set(created.body.id, 'running');
  expect((await get(created.body.id, as)).body.status).toBe('running');
  return created.body.id as string;
}

describe('bad input is a 4xx naming the field', () => {
  it.each<[string, unknown, RegExp]>([
    ['no name', { cpu: 1024, memory: 2048 }, /name/],
    ['cpu as text', { name: 'x', cpu: '1024', memory: 2048 }, /cpu/],
    ['an unknown field', { ...small, disk: 10 }, /disk/],
    ['a negative gpu', { ...small, gpu: -1 }, /gpu/],
  ])('%s', async (_what, body, field) => {
    const response = await create('olga', body);
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body.error)).toMatch(field);
  });

  it('names the valid memory range for a cpu', async () => {
    const response = await create('olga', { name: 'x', cpu: 1024, memory: 256 });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toMatch(/memory must be between 512 and 8192 MiB for cpu 1024/);
    expect(response.body.error.details).toMatchObject({ field: 'memory', min: 512, max: 8192 });
  });

  it('refuses a malformed id and an anonymous caller', async () => {
    expect((await get('nope', 'olga')).status).toBe(400);
    expect((await api.call('GET', '/v1/workbenches')).status).toBe(401);
  });
});

describe('creating', () => {
  it('answers 202 provisioning on the cheapest provider that fits, and tells the backend the size and owner', async () => {
    const created = await create('oscar', { name: 'Mid size', cpu: 2048, memory: 8192 });
    expect(created.status).toBe(202);
    expect(created.body).toMatchObject({ name: 'Mid size', owner: 'github:oscar', owner_login: 'oscar', status: 'provisioning', cpu: 2048, memory: 8192, gpu: 0, capacity_provider: 'small', endpoint: null });
    expect(created.body.id).toMatch(/^wb-[0-9a-f]{12}$/);
    expect(backend.latest(created.body.id)).toMatchObject({ name: 'Mid size', owner: 'github:oscar', ownerLogin: 'oscar', cpu: 2048, memory: 8192, capacityProvider: 'small' });
    const bigger = await create('oscar', { name: 'Big', cpu: 4096, memory: 16384 });
    expect(bigger.body.capacity_provider).toBe('large');
    const gpu = await create('oscar', { name: 'Gpu', cpu: 4096, memory: 16384, gpu: 1 });
    expect(gpu.body.capacity_provider).toBe('gpu');
  });

  it('reports progress on GET: pending, then running with its endpoint', async () => {
    const { body } = await create('oscar');
    backend.set(body.id, 'pending');
    expect((await get(body.id, 'oscar')).body.status).toBe('pending');
    backend.set(body.id, 'running', { endpoint: `https://cloud.example.com/project/oscar/${body.id}` });
    expect((await get(body.id, 'oscar')).body).toMatchObject({ status: 'running', endpoint: `https://cloud.example.com/project/oscar/${body.id}` });
  });

  it('reports a task that died on its own as failed with the reason, not running', async () => {
    const id = await running('oscar');
    backend.set(id, 'stopped', { reason: 'Essential container in task exited' });
    expect((await get(id, 'oscar')).body).toMatchObject({ status: 'failed', reason: 'Essential container in task exited', endpoint: null, stops_at: null });
  });

  it('answers from the store when the backend does not, and 503 with Retry-After when a launch is refused', async () => {
    const id = await running('alice');
    backend.failStatus = true;
    try {
      expect((await get(id, 'alice')).body.status).toBe('running');
    } finally {
      backend.failStatus = false;
    }
    backend.failStart = true;
    try {
      const refused = await create('alice');
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(refused.body.error.code).toBe('backend_unavailable');
    } finally {
      backend.failStart = false;
    }
  });
});

describe('limits per level', () => {
  it('refuses above the level\'s cpu, memory and count with 403 limit_exceeded naming the limit', async () => {
    const cpu = await create('gil', { name: 'x', cpu: 2048, memory: 4096 });
    expect(cpu.status).toBe(403);
    expect(cpu.body.error).toMatchObject({ code: 'limit_exceeded', details: { limit: 'cpu', max: 1024 } });
    const memory = await create('gil', { name: 'x', cpu: 1024, memory: 8192 });
    expect(memory.body.error).toMatchObject({ code: 'limit_exceeded', details: { limit: 'memory', max: 4096 } });
    const gpu = await create('gil', { ...small, gpu: 1 });
    expect(gpu.body.error).toMatchObject({ code: 'limit_exceeded', details: { limit: 'gpu', max: 0 } });
    expect((await create('gil')).status).toBe(202);
    const second = await create('gil');
    expect(second.status).toBe(403);
    expect(second.body.error).toMatchObject({ code: 'limit_exceeded', details: { limit: 'count', max: 1 } });
  });

  it('lets a deleted workbench free its place, and refuses a size no provider has (400)', async () => {
    const { body } = await create('gail');
    expect((await remove(body.id, 'gail')).status).toBe(200);
    expect((await create('gail')).status).toBe(202);
    const huge = await create('alice', { name: 'huge', cpu: 16384, memory: 65536 });
    expect(huge.status).toBe(400);
    expect(huge.body.error.details).toMatchObject({ field: 'cpu', max_cpu: 8192 });
  });
});

describe('ownership', () => {
  it('hides a workbench from others (404 for get, start, stop, delete) but not from administrators', async () => {
    const id = await running('olga');
    for (const response of [await get(id, 'oscar'), await act(id, 'start', 'oscar'), await act(id, 'stop', 'oscar'), await remove(id, 'oscar'), await share(id, 'oscar', 'oscar')]) {
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('workbench_not_found');
    }
    expect(backend.stopped).not.toContain(backend.latest(id).runId);
    expect((await get(id, 'alice')).body).toMatchObject({ id, owner: 'github:olga', owner_login: 'olga', status: 'running' });
    expect((await act(id, 'stop', 'alice')).status).toBe(200);
  });

  it('lists only the caller\'s own; administrators may ask for an owner, others may not', async () => {
    const id = await running('olga');
    const own = await api.call('GET', '/v1/workbenches?limit=100', { token: token.olga });
    expect(own.body.items.map((w: { id: string }) => w.id)).toContain(id);
    expect(own.body.items.every((w: { owner: string }) => w.owner === 'github:olga')).toBe(true);
    const others = await api.call('GET', '/v1/workbenches?limit=100', { token: token.oscar });
    expect(others.body.items.map((w: { id: string }) => w.id)).not.toContain(id);
    expect((await api.call('GET', '/v1/workbenches?owner=olga', { token: token.oscar })).status).toBe(403);
    const asAdmin = await api.call('GET', '/v1/workbenches?owner=olga&limit=100', { token: token.alice });
    expect(asAdmin.body.items.map((w: { id: string }) => w.id)).toContain(id);
  });

  it('pages the list', async () => {
    const first = await api.call('GET', '/v1/workbenches?limit=1', { token: token.oscar });
    expect(first.body.items).toHaveLength(1);
    const second = await api.call('GET', `/v1/workbenches?limit=1&next_token=${first.body.next_token}`, { token: token.oscar });
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
  });

  it('deletes with the data: gone from reads and lists, the backend told to remove it', async () => {
    const id = await running('olga');
    const deleted = await remove(id, 'olga');
    expect(deleted.status).toBe(200);
    expect(deleted.body.status).toBe('deleted');
    expect(backend.removed).toContain(id);
    expect((await get(id, 'olga')).status).toBe(404);
    expect((await get(id, 'alice')).status).toBe(404);
    // Deleting again retries only the cleanup, and only for its owner.
    expect((await remove(id, 'oscar')).status).toBe(404);
    expect((await remove(id, 'olga')).status).toBe(200);
    expect(backend.removed.filter((w) => w === id)).toHaveLength(2);
    const list = await api.call('GET', '/v1/workbenches?limit=100', { token: token.olga });
    expect(list.body.items.map((w: { id: string }) => w.id)).not.toContain(id);
  });
});

describe('start and stop', () => {
  it('is a no-op success when already there, and a stop then start makes a new run', async () => {
    const id = await running('olga');
    const first = backend.latest(id).runId;
    const again = await act(id, 'start', 'olga');
    expect(again.status).toBe(200);
    expect(backend.latest(id).runId).toBe(first);
    const stopped = await act(id, 'stop', 'olga');
    expect(stopped.status).toBe(200);
    expect(stopped.body.status).toBe('stopped');
    expect(backend.stopped).toContain(first);
    expect((await act(id, 'stop', 'olga')).status).toBe(200);
    const started = await act(id, 'start', 'olga');
    expect(started.status).toBe(202);
    expect(started.body.status).toBe('provisioning');
    expect(backend.latest(id).runId).not.toBe(first);
  });

  it('ends a start racing a stop in one consistent state', async () => {
    for (let round = 0; round < 5; round++) {
      const id = await running('alice');
      await act(id, 'stop', 'alice');
      const answers = await Promise.all([act(id, 'start', 'alice'), act(id, 'stop', 'alice')]);
      expect(answers.map((a) => a.status).every((s) => s === 200 || s === 202)).toBe(true);
      const final = (await get(id, 'alice')).body.status as string;
      const live = backend.live(id);
      if (['provisioning', 'pending', 'running'].includes(final)) expect(live).toEqual([backend.latest(id).runId]);
      else expect({ final, live }).toEqual({ final: 'stopped', live: [] });
      await remove(id, 'alice');
    }
  });
});

describe('shares', () => {
  it('lets a sharee see, start and stop, never delete or re-share; revoking removes access at once', async () => {
    const id = await running('olga');
    expect((await get(id, 'oscar')).status).toBe(404);
    const shared = await share(id, 'oscar', 'olga');
    expect(shared.status).toBe(200);
    expect(shared.body.shares).toEqual(['oscar']);
    expect((await get(id, 'oscar')).body.status).toBe('running');
    expect((await act(id, 'stop', 'oscar')).body.status).toBe('stopped');
    expect((await act(id, 'start', 'oscar')).status).toBe(202);
    const deleting = await remove(id, 'oscar');
    expect(deleting.status).toBe(403);
    expect(deleting.body.error.code).toBe('forbidden');
    expect((await share(id, 'gil', 'oscar')).status).toBe(403);
    expect((await share(id, 'oscar', 'oscar', 'DELETE')).status).toBe(403);
    expect((await share(id, 'oscar', 'olga', 'DELETE')).body.shares).toEqual([]);
    expect((await get(id, 'oscar')).status).toBe(404);
    expect((await act(id, 'stop', 'oscar')).status).toBe(404);
    expect((await get(id, 'olga')).status).toBe(200);
  });
});

describe('auto-stop', () => {
  it('stops a running workbench at max_runtime, re-armed by every start', async () => {
    const id = await running('olga');
    const created = await get(id, 'olga');
    expect(created.body.stops_at).toBe(new Date(clock.now().getTime() + hours(4)).toISOString());
    clock.advance(hours(3));
    await act(id, 'stop', 'olga');
    const restarted = await act(id, 'start', 'olga');
    expect(restarted.body.stops_at).toBe(new Date(clock.now().getTime() + hours(4)).toISOString());
    backend.set(id, 'running');
    // The first run's schedule was replaced: its time passes and nothing happens.
    clock.advance(hours(1) + 1000);
    await fireDue();
    expect((await get(id, 'olga')).body.status).toBe('running');
    clock.advance(hours(3));
    await fireDue();
    const stopped = await get(id, 'olga');
    expect(stopped.body).toMatchObject({ status: 'stopped', stops_at: null });
    expect(backend.stopped).toContain(backend.latest(id).runId);
  });
});

describe('races', () => {
  it('never brings back a workbench deleted while a start was deciding (the start answers 404, nothing runs)', async () => {
    const id = await running('alice');
    // The start asks the backend; meanwhile the owner deletes the workbench and its task stops.
    backend.beforeStatus = async () => {
      backend.beforeStatus = undefined;
      expect((await remove(id, 'alice')).body.status).toBe('deleted');
    };
    const started = await act(id, 'start', 'alice');
    expect(started.status).toBe(404);
    expect((await get(id, 'alice')).status).toBe(404);
    expect(backend.live(id)).toEqual([]);
    const list = await api.call('GET', '/v1/workbenches?limit=100', { token: token.alice });
    expect(list.body.items.map((w: { id: string }) => w.id)).not.toContain(id);
  });

  it('stops what a start launched when a delete won meanwhile', async () => {
    const id = await running('alice');
    await act(id, 'stop', 'alice');
    backend.afterStart = async () => {
      backend.afterStart = undefined;
      expect((await remove(id, 'alice')).status).toBe(200);
    };
    await act(id, 'start', 'alice');
    expect(backend.live(id)).toEqual([]);
    expect((await get(id, 'alice')).status).toBe(404);
  });

  it('a DELETE racing five starts leaves nothing running', async () => {
    for (let round = 0; round < 3; round++) {
      const id = await running('alice');
      await act(id, 'stop', 'alice');
      const answers = await Promise.all([remove(id, 'alice'), ...Array.from({ length: 5 }, () => act(id, 'start', 'alice'))]);
      expect(answers[0]?.status).toBe(200);
      expect((await get(id, 'alice')).status).toBe(404);
      expect(backend.live(id)).toEqual([]);
    }
  });

  it('holds the count limit under 20 parallel creates, and frees the place on delete', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => create('gus')));
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 403).every((a) => a.body.error.details.limit === 'count')).toBe(true);
    const id = answers.find((a) => a.status === 202)?.body.id as string;
    expect((await remove(id, 'gus')).status).toBe(200);
    expect((await create('gus')).status).toBe(202);
  });
});

describe('shares are case-insensitive and listed', () => {
  it('treats logins in any case as one (share, re-share, access, revoke)', async () => {
    const id = await running('alice');
    expect((await share(id, 'OSCAR', 'alice')).body.shares).toEqual(['oscar']);
    expect((await share(id, 'Oscar', 'alice')).body.shares).toEqual(['oscar']);
    expect((await get(id, 'oscar')).status).toBe(200);
    expect((await share(id, 'mona', 'alice')).body.shares).toEqual(['mona', 'oscar']);
    // GitHub spells her login 'Mona'.
    expect((await get(id, 'mona')).status).toBe(200);
    expect((await share(id, 'OSCAR', 'alice', 'DELETE')).body.shares).toEqual(['mona']);
    expect((await get(id, 'oscar')).status).toBe(404);
  });

  it('lists workbenches shared with the caller, marked shared, until revoked or deleted', async () => {
    const id = await running('alice');
    const listed = async (as: Login) => (await api.call('GET', '/v1/workbenches?limit=100', { token: token[as] })).body.items as { id: string; shared: boolean }[];
    expect((await listed('oscar')).map((w) => w.id)).not.toContain(id);
    await share(id, 'Oscar', 'alice');
    expect((await listed('oscar')).find((w) => w.id === id)).toMatchObject({ id, shared: true, owner: 'github:alice' });
    expect((await get(id, 'oscar')).body.shared).toBe(true);
    expect((await get(id, 'alice')).body.shared).toBe(false);
    expect((await listed('alice')).find((w) => w.id === id)).toMatchObject({ id, shared: false });
    await share(id, 'oscar', 'alice', 'DELETE');
    expect((await listed('oscar')).map((w) => w.id)).not.toContain(id);
    await share(id, 'oscar', 'alice');
    await remove(id, 'alice');
    expect((await listed('oscar')).map((w) => w.id)).not.toContain(id);
  });
});

describe('auto-stop fires early', () => {
  it('treats a firing 59 s before its time as due, and ignores one far earlier', async () => {
    const id = await running('alice');
    const deps = api.runtime.deps as unknown as WorkbenchDeps;
    const { stop_id: stopId = '', stops_at: stopsAtText = '' } = await workbenchesOf(deps).load(id);
    const stopsAt = Date.parse(stopsAtText);
    const scheduler = { caller: systemCaller('scheduler'), requestId: 'early', log: requestLog('early', 'test') };
    const fire = () => runAutoStop({ workbench: id, stop_id: stopId }, deps, scheduler);
    clock.set(new Date(stopsAt - 10 * 60_000).toISOString());
    // Hours later: a fresh token.
    token.alice = (await api.call('POST', '/v1/login', { body: { github_token: 'gh-alice' } })).body.token;
    expect(await fire()).toBe('early');
    expect((await get(id, 'alice')).body.status).toBe('running');
    clock.set(new Date(stopsAt - 59_000).toISOString());
    await fire();
    expect((await get(id, 'alice')).body.status).toBe('stopped');
  });
});
