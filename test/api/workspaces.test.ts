import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { StoreScheduler } from '../../src/adapters/local/store-scheduler.js';
import { resourceNamePattern } from '../../src/domain/names.js';
import type { Key } from '../../src/ports.js';
import { ManualClock } from '../support/dynamo.js';
import { FakeWorkspaces } from '../support/fake-workspaces.js';
import { FakeGitHub } from '../support/fake-github.js';
import { startTestApi, type TestApi, testCatalog, writeCatalog } from '../support/local-api.js';

const clock = new ManualClock(new Date('2026-11-23T12:00:00.000Z'));
const github = new FakeGitHub();
const backend = new FakeWorkspaces();
let api: TestApi;
const token: Record<'gil' | 'olga' | 'oscar' | 'alice', string> = { gil: '', olga: '', oscar: '', alice: '' };
const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;
const day = 24 * hour;

beforeAll(async () => {
  await github.start();
  github.users.set('gh-gil', { login: 'gil' });
  github.users.set('gh-olga', { login: 'olga', orgs: { acme: 'active' } });
  github.users.set('gh-oscar', { login: 'oscar', orgs: { acme: 'active' } });
  github.users.set('gh-alice', { login: 'alice', orgs: { acme: 'active' } });
  api = await startTestApi({
    clock,
    deps: { workspaceBackend: backend },
    env: {
      PROVISIONER_MEMORY: '1',
      PROVISIONER_GITHUB_API_URL: github.url,
      PROVISIONER_CATALOG: writeCatalog({
        ...testCatalog,
        workspaces: { limits: { org_member: { count: 1000 } }, template: { values: { 'pachd.logLevel': 'info', 'console.theme': 'light' }, controlled: ['auth'] } },
      }),
    },
  });
});
/** The tests move the clock by days: fresh user tokens for each. */
async function logIn(): Promise<void> {
  for (const login of Object.keys(token) as (keyof typeof token)[]) {
    token[login] = (await api.call('POST', '/v1/login', { body: { github_token: `gh-${login}` } })).body.token;
  }
}
beforeEach(logIn);
afterAll(async () => {
  await api.close();
  await github.stop();
});

const create = (body: unknown = {}, as = token.olga) => api.call('POST', '/v1/workspaces', { token: as, body });
const get = (id: string, as = token.olga) => api.call('GET', `/v1/workspaces/${id}`, { token: as });
const patch = (id: string, body: unknown, as = token.olga) => api.call('PATCH', `/v1/workspaces/${id}`, { token: as, body });
const remove = (id: string, as = token.olga) => api.call('DELETE', `/v1/workspaces/${id}`, { token: as });
const events = async (id: string, as = token.olga) => (await api.call('GET', `/v1/workspaces/${id}/events`, { token: as })).body.items as { action: string; actor: string; from: string; to: string }[];
const fireDue = () => (api.runtime.deps.scheduler as StoreScheduler).fireDue();

/** Creates a workspace as olga and returns its id. */
async function made(body: unknown = {}): Promise<string> {
  const response = await create(body);
  expect(response.status).toBe(202);
  return response.body.id as string;
}

describe('who may use workspaces', () => {
  it('lets org members create, and shows a workspace only to its owner and administrators (404 to others)', async () => {
    expect((await create({}, token.gil)).status).toBe(403);
    expect((await api.call('POST', '/v1/workspaces', { body: {} })).status).toBe(401);
    const id = await made();
    expect((await get(id)).body).toMatchObject({ id, owner: 'github:olga', status: 'creating' });
    expect((await get(id, token.alice)).status).toBe(200);
    for (const response of [await get(id, token.oscar), await patch(id, { expiry: '3d' }, token.oscar), await remove(id, token.oscar)]) {
      expect([response.status, response.body.error.code]).toEqual([404, 'workspace_not_found']);
    }
    expect((await api.call('GET', `/v1/workspaces/${id}/expired`, { token: token.oscar })).status).toBe(404);
    expect((await api.call('GET', `/v1/workspaces/${id}/events`, { token: token.oscar })).status).toBe(404);
    expect((await get('ws-000000000000')).status).toBe(404);
    expect((await get('not-an-id')).status).toBe(400);
  });

  it('lists the caller\'s own workspaces, an administrator\'s everyone\'s, paged', async () => {
    const oscars = (await create({}, token.oscar)).body.id as string;
    const list = async (as: string, query = '') => (await api.call('GET', `/v1/workspaces${query}`, { token: as })).body;
    const olgas = (await list(token.olga)).items.map((w: { owner: string }) => w.owner);
    expect(olgas.length).toBeGreaterThan(0);
    expect(new Set(olgas)).toEqual(new Set(['github:olga']));
    expect((await list(token.oscar)).items.map((w: { id: string }) => w.id)).toEqual([oscars]);
    const all = await list(token.alice, '?limit=1');
    expect(all.items).toHaveLength(1);
    const rest = await list(token.alice, `?limit=100&next_token=${all.next_token}`);
    expect(new Set([...all.items, ...rest.items].map((w: { owner: string }) => w.owner))).toEqual(new Set(['github:olga', 'github:oscar']));
    expect((await list(token.oscar, `?next_token=${all.next_token}`)).status).not.toBe(500);
  });
});

describe('the spec', () => {
  it('takes a DNS-label name, unique while the workspace exists (409 name_taken), and generates one when absent', async () => {
    const named = await create({ name: 'olga-demo' });
    expect(named.body.name).toBe('olga-demo');
    const taken = await create({ name: 'olga-demo' }, token.oscar);
    expect([taken.status, taken.body.error.code]).toEqual([409, 'name_taken']);
    const bad = await create({ name: 'Olga_Demo' });
    expect([bad.status, bad.body.error.details.issues[0].path]).toEqual([400, 'name']);
    expect((await create()).body.name).toMatch(resourceNamePattern);
    await remove(named.body.id);
    expect((await create({ name: 'olga-demo' }, token.oscar)).status).toBe(202);
  });

  it('expires after 2 days by default; takes a duration or a time, up to 90 days exactly, one second more refused', async () => {
    const now = clock.now().getTime();
    const at = (ms: number) => new Date(now + ms).toISOString();
    expect((await create()).body).toMatchObject({ expires_at: at(2 * day), expires_in: (2 * day) / second });
    expect((await create({ expiry: '36h' })).body.expires_at).toBe(at(36 * hour));
    expect((await create({ expiry: '90d' })).body.expires_at).toBe(at(90 * day));
    expect((await create({ expiry: at(90 * day) })).body.expires_at).toBe(at(90 * day));
    // A duration says minutes at the finest beyond 11 days (6 digits): one minute more; a time, one second more.
    for (const expiry of ['129601m', at(90 * day + second)]) {
      const refused = await create({ expiry });
      expect([refused.status, refused.body.error.details.field]).toEqual([400, 'expiry']);
      expect(refused.body.error.message).toMatch(/at most 90d/);
    }
    expect((await create({ expiry: at(-second) })).body.error.message).toMatch(/future/);
    expect((await create({ expiry: 'soon' })).body.error.details.issues[0].path).toBe('expiry');
  });

  it('runs the template\'s component versions unless the request names others, and refuses unknown components', async () => {
    const id = await made({ versions: { pachd: '2.6.1' } });
    expect(backend.launch(id).versions).toEqual({ pachd: '2.6.1', console: '2.5.2-1', notebooks: '0.6.4', helm: '2.5.2' });
    expect((await get(id)).body.versions.pachd).toBe('2.6.1');
    const unknown = await create({ versions: { jupyter: '1.0' } });
    expect([unknown.status, unknown.body.error.details.field]).toEqual([400, 'versions.jupyter']);
    expect(unknown.body.error.message).toMatch(/pachd, console, notebooks, helm/);
  });

  it('merges values: template, then the request, then Provisioner\'s own keys, which a request cannot name', async () => {
    const id = await made({ values: { 'pachd.logLevel': 'debug', 'notebooks.cpu': 2 } });
    expect(backend.launch(id).environment).toMatchObject({
      PROVISIONER_VALUE_PACHD_LOGLEVEL: 'debug',
      PROVISIONER_VALUE_CONSOLE_THEME: 'light',
      PROVISIONER_VALUE_NOTEBOOKS_CPU: '2',
      PROVISIONER_VALUE_WORKSPACE_ID: id,
      PROVISIONER_VALUE_WORKSPACE_OWNER: 'github:olga',
      PROVISIONER_VALUE_PACHD_VERSION: '2.5.2',
    });
    for (const [key, controlled] of [['workspace.owner', 'workspace.owner'], ['pachd.version', 'pachd.version'], ['workspace', 'workspace.id'], ['auth.enabled', 'auth']]) {
      const refused = await create({ values: { [key as string]: 'x' } });
      expect([refused.status, refused.body.error.details]).toEqual([400, expect.objectContaining({ field: `values.${key}`, controlled })]);
    }
    expect((await create({ values: { 'pachd.version': '1' } })).body.error.message).toMatch(/versions\.pachd/);
  });
});

describe('values are data, never the server\'s configuration (issues 24.1, 24.5, 24.6, 24.12)', () => {
  it('reach the workspace only as PROVISIONER_VALUE_<KEY>: no key names a variable of its own', async () => {
    const id = await made({ values: { 'node.options': '--import=data:text/javascript,process.exit(1)', 'ld.preload': '/tmp/x.so', path: '/tmp', 'aws.region': 'x' } });
    const environment = backend.launch(id).environment;
    expect(Object.keys(environment).filter((name) => !name.startsWith('PROVISIONER_VALUE_'))).toEqual([]);
    expect(environment).toMatchObject({ PROVISIONER_VALUE_NODE_OPTIONS: expect.stringContaining('--import'), PROVISIONER_VALUE_PATH: '/tmp' });
  });

  it('refuses keys that become the same variable (400 naming both), and lets a request override the template\'s key whatever its case', async () => {
    const refused = await create({ values: { 'pachd.logLevel': 'debug', 'PACHD.LOGLEVEL': 'info' } });
    expect([refused.status, refused.body.error.code, refused.body.error.details]).toEqual([400, 'invalid_request', expect.objectContaining({ field: 'values.PACHD.LOGLEVEL', collides_with: 'pachd.logLevel' })]);
    const id = await made({ values: { 'CONSOLE.THEME': 'dark' } });
    expect(backend.launch(id).environment.PROVISIONER_VALUE_CONSOLE_THEME).toBe('dark');
  });

  it('compares controlled keys by the variable they become, so case does not get around them', async () => {
    for (const [key, controlled] of [['AUTH.enabled', 'auth'], ['Auth', 'auth'], ['WORKSPACE.OWNER', 'workspace.owner'], ['PACHD.Version', 'pachd.version']]) {
      const refused = await create({ values: { [key as string]: 'x' } });
      expect([refused.status, refused.body.error.details]).toEqual([400, expect.objectContaining({ field: `values.${key}`, controlled })]);
    }
  });

  it('answers 400 for a key named like an Object member (constructor), and a failed create leaves the name free', async () => {
    for (const key of ['constructor', 'toString', 'hasOwnProperty']) {
      const refused = await create({ name: 'olga-ctor', values: { [key]: 'x' } });
      expect([refused.status, refused.body.error.details?.field]).toEqual([400, `values.${key}`]);
    }
    expect((await create({ name: 'olga-ctor', values: { 'constructor.name': 'x' } })).status).toBe(202);
  });

  it('refuses a __proto__ key instead of dropping it', async () => {
    const response = await api.call('POST', '/v1/workspaces', { token: token.olga, body: '{"values":{"__proto__":{"pachd.logLevel":"debug"},"a":"b"}}' });
    expect([response.status, response.body.error.code]).toEqual([400, 'invalid_request']);
    expect(JSON.stringify(response.body.error)).toMatch(/__proto__/);
  });

  it('takes only durations and ISO 8601 times as expiries', async () => {
    for (const expiry of ['Fri Dec 05 2026', '12345', 'December 5, 2026', '2026-12-05']) {
      const refused = await create({ expiry });
      expect([expiry, refused.status, refused.body.error.details?.issues?.[0]?.path]).toEqual([expiry, 400, 'expiry']);
      expect([expiry, (await patch('ws-000000000000', { expiry })).status]).toEqual([expiry, 400]);
    }
    const iso = new Date(clock.now().getTime() + 3 * hour);
    expect((await create({ expiry: iso.toISOString() })).status).toBe(202);
    expect((await create({ expiry: iso.toISOString().replace('.000Z', '+00:00') })).status).toBe(202);
  });
});

describe('progress', () => {
  it('is ready once the backend runs it, with the catalog\'s endpoints filled in', async () => {
    const id = await made();
    backend.set(id, { state: 'running', host: '10.0.0.7', port: 30650 });
    expect((await get(id)).body).toMatchObject({
      status: 'ready',
      endpoints: { console: 'http://10.0.0.7:30650/console', notebooks: 'http://10.0.0.7:30650/notebooks', connection: 'grpc://10.0.0.7:30650' },
    });
  });

  it('fails with the backend\'s reason, and deletes a failed workspace after failed_ttl instead of at its expiry', async () => {
    const id = await made();
    backend.set(id, { state: 'failed', reason: 'image not found' });
    expect((await get(id)).body).toMatchObject({ status: 'failed', reason: 'image not found' });
    clock.advance(hour - 1);
    await fireDue();
    expect((await get(id)).body.status).toBe('failed');
    clock.advance(1);
    await fireDue();
    expect((await get(id)).status).toBe(404);
    expect(backend.deleted).toContain(id);
    expect((await events(id)).map((e) => e.action).slice(0, 3)).toEqual(['deleted', 'delete', 'failed']);
  });

  it('deletes a workspace nobody looked at that never became ready, failed_ttl after its deadline', async () => {
    const id = await made();
    clock.advance(10 * minute + hour - 1);
    await fireDue();
    expect(backend.deleted).not.toContain(id);
    clock.advance(1);
    await fireDue();
    expect(backend.deleted).toContain(id);
    expect((await events(id))[2]).toMatchObject({ action: 'failed', actor: 'scheduler', to: 'failed' });
  });

  it('answers 503 with Retry-After when the backend refuses to start it, and marks it failed', async () => {
    backend.failCreate = true;
    const response = await create({ name: 'refused' });
    backend.failCreate = false;
    expect([response.status, response.body.error.code, response.headers.get('retry-after')]).toEqual([503, 'backend_unavailable', '5']);
    const mine = (await api.call('GET', '/v1/workspaces?limit=100', { token: token.olga })).body.items as { name: string; status: string; reason: string }[];
    expect(mine.find((w) => w.name === 'refused')).toMatchObject({ status: 'failed', reason: expect.stringContaining('no capacity') });
  });
});

describe('expiry', () => {
  it('deletes a workspace at its expiry and not before, from its one-time schedule', async () => {
    const id = await made({ expiry: '2h' });
    backend.set(id, { state: 'running', host: '10.0.0.8', port: 1 });
    await get(id);
    clock.advance(2 * hour - 1);
    await fireDue();
    expect((await get(id)).body.status).toBe('ready');
    expect((await api.call('GET', `/v1/workspaces/${id}/expired`, { token: token.olga })).body).toEqual({ expired: false, expires_at: new Date(clock.now().getTime() + 1).toISOString() });
    clock.advance(1);
    await fireDue();
    expect((await get(id)).status).toBe(404);
    expect(backend.deleted).toContain(id);
    expect((await events(id)).slice(0, 2)).toMatchObject([{ action: 'deleted' }, { action: 'delete', actor: 'scheduler', from: 'ready', to: 'deleting' }]);
  });

  it('moves the deletion when the expiry changes; the old schedule does nothing', async () => {
    const id = await made({ expiry: '2h' });
    backend.set(id, { state: 'running', host: '10.0.0.9', port: 1 });
    const extended = await patch(id, { expiry: '5h' });
    expect(extended.body.expires_at).toBe(new Date(clock.now().getTime() + 5 * hour).toISOString());
    expect(backend.retagged).toContainEqual({ id, expiresAt: extended.body.expires_at });
    clock.advance(2 * hour);
    await fireDue();
    expect((await get(id)).status).toBe(200);
    clock.advance(3 * hour);
    await fireDue();
    expect((await get(id)).status).toBe(404);
  });

  it('limits a new expiry to 90 days from the creation, and refuses it for a workspace being deleted', async () => {
    const id = await made();
    backend.set(id, { state: 'running', host: '10.0.0.9', port: 1 });
    clock.advance(day);
    await logIn();
    expect((await patch(id, { expiry: '89d' })).status).toBe(200);
    const beyond = await patch(id, { expiry: '2137h' });
    expect([beyond.status, beyond.body.error.details.max_expiry]).toEqual([400, '90d']);
    backend.set(id, { state: 'pending' });
    await remove(id);
    expect((await patch(id, { expiry: '1d' })).status).toBe(404);
  });

  it('records workspace.expiring an hour before the expiry, in the workspace\'s events', async () => {
    const id = await made({ expiry: '3h' });
    backend.set(id, { state: 'running', host: '10.0.0.9', port: 1 });
    clock.advance(2 * hour - 1);
    await fireDue();
    expect((await events(id)).map((e) => e.action)).not.toContain('workspace.expiring');
    clock.advance(1);
    await fireDue();
    await logIn();
    expect((await events(id))[0]).toMatchObject({ action: 'workspace.expiring', actor: 'scheduler', from: 'ready', to: 'ready' });
    expect((await get(id)).body.expires_in).toBe(3600);
  });

  it('reads no workspace from the store while nothing expires', async () => {
    // Earlier tests' workspaces have schedules of their own: delete them first.
    const all = (await api.call('GET', '/v1/workspaces?limit=100', { token: token.alice })).body.items as { id: string }[];
    for (const { id } of all) await remove(id, token.alice);
    const id = await made({ expiry: '10d' });
    backend.set(id, { state: 'running', host: '10.0.0.9', port: 1 });
    expect((await get(id)).body.status).toBe('ready');
    const store = api.runtime.deps.store;
    const touchesWorkspaces = (key: Key | { partition: string }) => JSON.stringify(key).includes('workspace');
    const gets = jest.spyOn(store, 'get');
    const queries = jest.spyOn(store, 'query');
    try {
      for (let i = 0; i < 24; i++) {
        clock.advance(hour);
        await fireDue();
      }
      const reads = [...gets.mock.calls.map(([key]) => key), ...queries.mock.calls.map(([options]) => options)].filter(touchesWorkspaces);
      expect(reads).toEqual([]);
      // The bar can fail: the expiry itself reads the workspace.
      clock.advance(9 * day);
      await fireDue();
      expect(gets.mock.calls.map(([key]) => key).filter(touchesWorkspaces).length).toBeGreaterThan(0);
    } finally {
      gets.mockRestore();
      queries.mockRestore();
    }
  });
});

describe('delete', () => {
  it('deletes now (202), releases the name and answers 404 once nothing is left', async () => {
    const id = await made({ name: 'short-lived' });
    backend.set(id, { state: 'running', host: 'h', port: 1 });
    const response = await remove(id);
    expect([response.status, response.body.status]).toEqual([202, 'deleted']);
    expect((await remove(id)).status).toBe(404);
    expect((await get(id)).status).toBe(404);
    expect((await create({ name: 'short-lived' })).status).toBe(202);
  });
});
